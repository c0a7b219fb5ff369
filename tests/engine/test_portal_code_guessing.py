"""Parallel guesses at one portal code (SQLite and PostgreSQL): at most `portal_code_attempts` are checked."""

from sqlalchemy import func, select

from engine.models import OutboxMessage, PortalLoginCode, PortalThrottleEvent
from engine.services import customers, portal_auth
from engine.services.portal_auth import CodeRejected
from tests.engine.helpers import run_together

UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/124.0"


def _checked(ctx) -> int:
    """Codes compared with the stored hash: each wrong one is recorded as a `wrong_code_ip` event."""
    with ctx.uow() as uow:
        return uow.session.scalar(select(func.count(PortalThrottleEvent.id)).where(
            PortalThrottleEvent.kind == "wrong_code_ip"))


def test_45_parallel_wrong_guesses_check_at_most_the_limit(ctx, admin_staff):
    cid = customers.create_customer(ctx, staff=admin_staff, name="Acme", contact_name="Ann",
                                    contact_email="ann@acme.example")["id"]
    customers.set_portal_access(ctx, cid, True, staff=admin_staff)
    login = portal_auth.request_code(ctx, "ann@acme.example", "198.51.100.1")
    with ctx.uow() as uow:
        code = uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.template == "login_code_to_customer")).one().context["code"]
    wrong = "000000" if code != "000000" else "111111"

    def guess(i):  # a different IP per guess, so only the per-code limit applies
        return lambda: portal_auth.verify_code(ctx, login.token, wrong, f"10.0.{i // 250}.{i % 250}", UA)

    results = []
    for batch in range(3):  # 45 guesses, 15 at a time
        results += run_together(*[guess(batch * 15 + i) for i in range(15)])
    limit = ctx.settings.portal_code_attempts
    assert all(isinstance(err, CodeRejected) for _, err in results)
    assert _checked(ctx) <= limit
    assert sum(str(err) == portal_auth.WRONG_CODE for _, err in results) <= limit - 1
    with ctx.uow() as uow:
        assert uow.session.scalars(select(PortalLoginCode.failed_attempts)).one() == limit
    locked = run_together(lambda: portal_auth.verify_code(ctx, login.token, code, "10.9.9.9", UA))
    assert str(locked[0][1]) == portal_auth.LOCKED  # even the right code, once the attempts are used up
