"""Shared fixtures: a Context per database (SQLite always, PostgreSQL when configured) and a fake clock."""

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine.config import Settings
from engine.models import Base
from engine.services.context import SYSTEM, open_context
from engine.services.deployments import deploy_file
from engine.services.staff_auth import create_staff_user

# office, customer, job, eli, timesheet, other (approval_fixtures); world (ops_world)
pytest_plugins = ["tests.approval_fixtures", "tests.engine.ops_world"]

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get("SIGNOFF_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI") == "true"
STAFF_PASSWORD = "correct horse battery"


class FakeClock:
    """A clock a test can move: `clock.advance(days=3)`."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@pytest.fixture(scope="session")
def postgres_url():
    """A database of this test run's own on the configured server, dropped at the end."""
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            name = f"signoff_test_{os.getpid()}"
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
    except sa.exc.OperationalError as err:
        admin.dispose()
        if IN_CI:
            pytest.fail(f"CI=true but PostgreSQL is not reachable at {POSTGRES_URL}: {err.orig}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    url = sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


def reset_postgres(url: str) -> None:
    """Drop every table so the next context migrates a fresh schema."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'signoff.db'}"
    url = request.getfixturevalue("postgres_url")
    reset_postgres(url)
    return url


@pytest.fixture
def ctx(database_url, clock, tmp_path):
    context = open_context(Settings(database_url=database_url, upload_dir=str(tmp_path / "uploads")), clock=clock)
    yield context
    context.db.dispose()


@pytest.fixture
def deploy(ctx):
    def deploy_path(path: str, **kwargs):
        data = (ROOT / path).read_bytes()
        return deploy_file(ctx, SYSTEM, data, Path(path).name, **kwargs)

    return deploy_path


@pytest.fixture
def admin_staff(ctx):
    """An active admin account: sees every customer."""
    return create_staff_user(ctx, "alex.admin@example.com", "Alex Admin", "admin", STAFF_PASSWORD)


@pytest.fixture
def manager_staff(ctx):
    """An active manager account: sees the customers it is account manager of or manages a job of."""
    return create_staff_user(ctx, "morgan.manager@example.com", "Morgan Manager", "manager", STAFF_PASSWORD)


@pytest.fixture
def employee_staff(ctx):
    """An active employee account: customer and job services refuse it."""
    return create_staff_user(ctx, "emil.employee@example.com", "Emil Employee", "employee", STAFF_PASSWORD)
