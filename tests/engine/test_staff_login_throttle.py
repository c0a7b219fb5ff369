"""Staff login throttles on SQLite and PostgreSQL: per account and per client IP, lockout notice, expiry."""

import pytest
from sqlalchemy import select

from engine.errors import NotAllowed
from engine.models import OutboxMessage
from engine.services import staff_auth
from engine.services.staff_auth import Throttled, authenticate
from tests.conftest import STAFF_PASSWORD
from tests.engine.helpers import run_together

IP = "198.51.100.7"


def _lockout_mails(ctx):
    with ctx.uow() as uow:
        return uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.template == staff_auth.LOCKOUT_TEMPLATE)).all()


def _fail(ctx, email, times, ip=IP):
    """Wrong passwords; returns the errors (NotAllowed for a checked password, Throttled once locked)."""
    errors = []
    for _ in range(times):
        with pytest.raises(NotAllowed) as err:
            authenticate(ctx, email, "not the password at all", ip)
        errors.append(err.value)
    return errors


def test_25_wrong_passwords_then_the_right_one_is_refused_while_locked(ctx, manager_staff):
    errors = _fail(ctx, manager_staff.email, 25)
    limit = ctx.settings.staff_login_failures_per_account
    assert all(type(err) is NotAllowed for err in errors[:limit])
    assert all(isinstance(err, Throttled) for err in errors[limit:])
    with pytest.raises(Throttled, match="wait 15 minutes"):
        authenticate(ctx, manager_staff.email, STAFF_PASSWORD, "203.0.113.99")  # another IP does not help


def test_the_lock_expires_after_the_window(ctx, clock, manager_staff):
    _fail(ctx, manager_staff.email, 5)
    clock.advance(minutes=14)
    with pytest.raises(Throttled):
        authenticate(ctx, manager_staff.email, STAFF_PASSWORD, IP)
    clock.advance(minutes=2)
    assert authenticate(ctx, manager_staff.email, STAFF_PASSWORD, IP)


def test_locking_mails_the_account_holder_once(ctx, manager_staff):
    _fail(ctx, manager_staff.email, 12)
    [mail] = _lockout_mails(ctx)
    assert mail.recipient == manager_staff.email and mail.audience == "staff"
    assert mail.context["client_ip"] == IP and mail.context["lock_minutes"] == 15
    assert mail.context["staff_name"] == manager_staff.name


def test_a_right_password_resets_the_accounts_count(ctx, manager_staff):
    _fail(ctx, manager_staff.email, 4)
    assert authenticate(ctx, manager_staff.email, STAFF_PASSWORD, IP)
    _fail(ctx, manager_staff.email, 4)
    assert authenticate(ctx, manager_staff.email, STAFF_PASSWORD, IP)
    assert not _lockout_mails(ctx)


def test_the_ip_limit_holds_across_accounts(ctx, manager_staff):
    per_ip = ctx.settings.staff_login_failures_per_ip
    for i in range(per_ip):  # a different address each time: no account reaches its own limit
        _fail(ctx, f"guess{i}@example.com", 1)
    with pytest.raises(Throttled):
        authenticate(ctx, manager_staff.email, STAFF_PASSWORD, IP)
    assert authenticate(ctx, manager_staff.email, STAFF_PASSWORD, "203.0.113.99")


def test_unknown_accounts_get_the_same_answer_after_the_same_work(ctx, manager_staff, monkeypatch):
    verified = []
    real_verified = staff_auth._verified
    monkeypatch.setattr(staff_auth, "_verified", lambda *args: verified.append(args[0]) or real_verified(*args))
    known = _fail(ctx, manager_staff.email, 7)
    unknown = _fail(ctx, "nobody@example.com", 7)
    assert [type(e) for e in known] == [type(e) for e in unknown]
    assert [str(e) for e in known] == [str(e) for e in unknown]
    assert len(verified) == 10 and all(h.startswith("$argon2") for h in verified)  # 5 each, none once locked
    assert all(mail.recipient == manager_staff.email for mail in _lockout_mails(ctx))


def test_an_inactive_account_counts_like_a_wrong_password(ctx, manager_staff):
    staff_auth.deactivate_user(ctx, manager_staff.id)
    errors = _fail(ctx, manager_staff.email, 6)
    assert [str(e) for e in errors[:5]] == [staff_auth.WRONG_LOGIN] * 5 and isinstance(errors[5], Throttled)
    assert not _lockout_mails(ctx)


def test_parallel_wrong_passwords_lock_the_account(ctx, manager_staff):
    results = run_together(*[lambda: authenticate(ctx, manager_staff.email, "not it, not it", IP)] * 8)
    assert all(isinstance(err, NotAllowed) for _, err in results)
    with pytest.raises(Throttled):
        authenticate(ctx, manager_staff.email, STAFF_PASSWORD, IP)
