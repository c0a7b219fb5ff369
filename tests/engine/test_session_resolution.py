"""Session resolution, which every page view runs first: one read, no write lock, a write only when one is due."""

import pytest
from sqlalchemy import event, select

from engine.models import OutboxMessage, PortalSession, StaffSession
from engine.services import customers, portal_auth, staff_auth
from engine.services.staff_auth import SEEN_RESOLUTION
from engine.tokens import token_hash
from tests.conftest import STAFF_PASSWORD

MANAGER = "morgan.manager@example.com"
CONTACT = "ann@acme.example"
IP = "198.51.100.7"


@pytest.fixture
def statements(ctx):
    """The kinds (SELECT, UPDATE ...) of the SQL statements run from now on, without BEGIN/COMMIT/ROLLBACK."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_):
        kind = statement.split()[0].upper()
        if kind not in {"BEGIN", "COMMIT", "ROLLBACK"}:
            seen.append(kind)

    event.listen(ctx.db, "before_cursor_execute", record)
    yield seen
    event.remove(ctx.db, "before_cursor_execute", record)


@pytest.fixture
def staff_token(ctx, manager_staff):
    return staff_auth.authenticate(ctx, MANAGER, STAFF_PASSWORD)


@pytest.fixture
def portal_token(ctx, admin_staff):
    cid = customers.create_customer(ctx, staff=admin_staff, name="Acme", contact_name="Ann",
                                    contact_email=CONTACT)["id"]
    customers.set_portal_access(ctx, cid, True, staff=admin_staff)
    login = portal_auth.request_code(ctx, CONTACT, IP)
    with ctx.uow() as uow:
        mail = uow.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "login_code_to_customer")
                                   .order_by(OutboxMessage.id.desc())).first()
    return portal_auth.verify_code(ctx, login.token, mail.context["code"], IP, "pytest")


def _last_seen(ctx, model, token):
    with ctx.uow() as uow:
        return uow.session.get(model, token_hash(token)).last_seen_at


def test_a_live_staff_session_is_one_select_and_no_write(ctx, staff_token, statements):
    assert staff_auth.resolve_session(ctx, staff_token).email == MANAGER
    assert statements == ["SELECT"]


def test_a_live_portal_session_writes_nothing_within_the_resolution(ctx, portal_token, clock, statements):
    clock.advance(seconds=SEEN_RESOLUTION.total_seconds() - 1)
    assert portal_auth.resolve_session(ctx, portal_token).email == CONTACT
    assert "UPDATE" not in statements


@pytest.mark.parametrize("model", [StaffSession, PortalSession])
def test_the_idle_clock_moves_once_per_resolution(ctx, staff_token, portal_token, clock, statements, model):
    token, resolve = ((staff_token, staff_auth.resolve_session) if model is StaffSession
                      else (portal_token, portal_auth.resolve_session))
    moved = clock.advance(seconds=SEEN_RESOLUTION.total_seconds())
    assert resolve(ctx, token) is not None
    assert statements.count("UPDATE") == 1 and _last_seen(ctx, model, token) == moved
    clock.advance(seconds=SEEN_RESOLUTION.total_seconds() - 1)
    assert resolve(ctx, token) is not None
    assert statements.count("UPDATE") == 1 and _last_seen(ctx, model, token) == moved


def test_resolution_does_not_wait_for_a_writer(ctx, staff_token, portal_token):
    """A write transaction in progress (on SQLite it holds the database's write lock) does not hold up a page
    view: the sessions are resolved from what is committed."""
    with ctx.db.begin() as writer:
        writer.execute(select(StaffSession.id).with_for_update() if ctx.is_postgres else select(StaffSession.id))
        assert staff_auth.resolve_session(ctx, staff_token).email == MANAGER
        assert portal_auth.resolve_session(ctx, portal_token).email == CONTACT


def test_a_read_only_unit_of_work_cannot_commit(ctx):
    with ctx.read() as uow, pytest.raises(RuntimeError, match="read-only"):
        uow.commit()
