"""PostgreSQL restarts (every connection of the app is cut): the next request and the next timer sweep work
again on fresh connections, with nothing lost. Outside the `ctx` parametrisation: this is PostgreSQL's case."""

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from engine.config import Settings
from engine.services.context import SYSTEM, open_context
from engine.services.deployments import deploy_file
from engine.services.instances import start_instance
from engine.services.staff_auth import create_staff_user
from engine.services.timers import fire_due_timers
from tests.conftest import ROOT, FakeClock, reset_postgres
from tests.engine.helpers import JOB_START, instance
from tests.webapp.conftest import PASSWORD, log_in
from webapp import create_app


@pytest.fixture
def pg_ctx(postgres_url, tmp_path):
    reset_postgres(postgres_url)
    clock = FakeClock()
    ctx = open_context(Settings(database_url=postgres_url, upload_dir=str(tmp_path / "uploads")), clock=clock)
    yield ctx, clock
    ctx.db.dispose()


def cut_every_connection(url: str) -> int:
    """What a server restart does to open connections: terminate every other backend of the database.

    The timeout makes PostgreSQL wait until each backend has gone; without it the call returns while a backend
    may still answer the pool's ping, and the next query would meet a connection dying mid-request."""
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        cut = conn.exec_driver_sql("SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
                                   "WHERE datname = current_database() AND pid <> pg_backend_pid()").scalar()
    admin.dispose()
    return cut


def test_pages_and_the_sweeper_work_again_after_the_connections_were_cut(pg_ctx, postgres_url):
    ctx, clock = pg_ctx

    deploy_file(ctx, SYSTEM, (ROOT / "bpmn/job_approval.bpmn").read_bytes(), "job_approval.bpmn")
    iid = start_instance(ctx, "job_approval", JOB_START)
    create_staff_user(ctx, "mia@example.com", "Mia Manager", "manager", PASSWORD)
    client = create_app(ctx=ctx, config={"TESTING": True, "WTF_CSRF_ENABLED": False}).test_client()
    assert log_in(client, "mia@example.com").status_code == 302
    assert client.get("/inbox").status_code == 200  # the pool now holds a live connection
    assert cut_every_connection(postgres_url) >= 1
    assert client.get("/inbox").status_code == 200  # same session cookie, fresh connection
    assert fire_due_timers(ctx, clock.advance(days=8)) == [iid]
    assert instance(ctx, iid).case_status == "expired_auto_approved"


def test_a_database_that_cannot_be_reached_gives_a_clear_503_page(pg_ctx):
    ctx, _ = pg_ctx
    app = create_app(ctx=ctx, config={"TESTING": False})
    ctx.session_factory = sessionmaker(sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:1/gone"))
    client = app.test_client()
    client.set_cookie("signoff_staff", "a-session-token")  # resolving the session needs the database
    response = client.get("/inbox")
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and "cannot be reached right now" in page and "Traceback" not in page
