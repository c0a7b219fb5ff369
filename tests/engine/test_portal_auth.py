"""Portal access on SQLite and PostgreSQL: one-time codes, throttles, sessions, invitations and revocation."""

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.errors import NotFound
from engine.mail.transport import DevMailbox
from engine.models import OutboxMessage, PortalLoginCode, PortalSession, PortalThrottleEvent
from engine.services import customers, portal_auth
from engine.services.context import Actor
from engine.services.outbox import deliver_due_messages
from engine.services.portal_auth import CodeRejected, Throttled
from tests.engine.helpers import run_together

IP = "198.51.100.7"
UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:124.0) Gecko/20100101 Firefox/124.0"


def _customer(ctx, staff, name="Acme Cleaning", email="ann@acme.example", contact="Ann Archer", grant=True):
    cid = customers.create_customer(ctx, staff=staff, name=name, contact_name=contact, contact_email=email)["id"]
    if grant:
        customers.set_portal_access(ctx, cid, True, staff=staff)
    return cid


def _mails(ctx, template):
    with ctx.uow() as uow:
        return uow.session.scalars(select(OutboxMessage).where(OutboxMessage.template == template)
                                   .order_by(OutboxMessage.id)).all()


def _last_code(ctx) -> str:
    return _mails(ctx, "login_code_to_customer")[-1].context["code"]


def _log_in(ctx, email="ann@acme.example", ip=IP) -> str:
    login = portal_auth.request_code(ctx, email, ip)
    return portal_auth.verify_code(ctx, login.token, _last_code(ctx), ip, UA)


@pytest.fixture
def acme(ctx, admin_staff):
    return _customer(ctx, admin_staff)


def test_grant_queues_an_invitation_with_the_login_link(ctx, acme):
    [mail] = _mails(ctx, "portal_invitation_to_customer")
    assert mail.audience == "customer" and mail.recipient == "ann@acme.example"
    assert mail.context["portal_url"] == ctx.settings.portal_url + "/login"
    assert mail.context["contact_name"] == "Ann Archer" and mail.context["customer_name"] == "Acme Cleaning"


def test_code_is_stored_only_as_a_keyed_hash_and_mailed(ctx, acme):
    login = portal_auth.request_code(ctx, " Ann@Acme.Example ", IP)
    [mail] = _mails(ctx, "login_code_to_customer")
    code = mail.context["code"]
    assert len(code) == 6 and code.isdigit() and mail.recipient == "ann@acme.example"
    with ctx.uow() as uow:
        row = uow.session.scalars(select(PortalLoginCode)).one()
    assert code not in row.code_hash and login.token not in row.request_token_hash
    assert len(row.code_hash) == len(row.request_token_hash) == 64
    assert row.expires_at - row.created_at == timedelta(minutes=10)


def test_a_code_works_once(ctx, acme):
    login = portal_auth.request_code(ctx, "ann@acme.example", IP)
    code = _last_code(ctx)
    token = portal_auth.verify_code(ctx, login.token, code, IP, UA)
    view = portal_auth.resolve_session(ctx, token)
    assert view.email == "ann@acme.example" and view.name == "Ann Archer"
    assert [c.name for c in view.customers] == ["Acme Cleaning"]
    assert view.actor == Actor("Ann Archer ann@acme.example", roles=frozenset({"customer"}),
                               customer_ids=frozenset({acme}), decides_for=frozenset({acme}))  # Ann approves
    with pytest.raises(CodeRejected, match="no longer valid"):
        portal_auth.verify_code(ctx, login.token, code, IP, UA)


def test_a_code_expires(ctx, acme, clock):
    login = portal_auth.request_code(ctx, "ann@acme.example", IP)
    clock.advance(minutes=10)
    with pytest.raises(CodeRejected, match="no longer valid"):
        portal_auth.verify_code(ctx, login.token, _last_code(ctx), IP, UA)


def test_a_code_is_bound_to_its_login_request(ctx, acme):
    portal_auth.request_code(ctx, "ann@acme.example", IP)
    other = portal_auth.request_code(ctx, "nobody@example.com", "203.0.113.9")
    with pytest.raises(CodeRejected):
        portal_auth.verify_code(ctx, other.token, _last_code(ctx), IP, UA)
    with pytest.raises(CodeRejected, match="Start again"):
        portal_auth.verify_code(ctx, "made-up-token", _last_code(ctx), IP, UA)


def test_a_new_code_invalidates_the_earlier_one(ctx, acme):
    first = portal_auth.request_code(ctx, "ann@acme.example", IP)
    first_code = _last_code(ctx)
    second = portal_auth.resend_code(ctx, first.token, IP)
    with pytest.raises(CodeRejected, match="no longer valid"):
        portal_auth.verify_code(ctx, first.token, first_code, IP, UA)
    assert portal_auth.verify_code(ctx, second.token, _last_code(ctx), IP, UA)


def test_five_wrong_codes_lock_the_code(ctx, acme):
    login = portal_auth.request_code(ctx, "ann@acme.example", IP)
    code = _last_code(ctx)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        with pytest.raises(CodeRejected, match="not right"):
            portal_auth.verify_code(ctx, login.token, wrong, IP, UA)
    with pytest.raises(CodeRejected, match="Too many wrong codes"):
        portal_auth.verify_code(ctx, login.token, wrong, IP, UA)
    with pytest.raises(CodeRejected, match="Too many wrong codes"):
        portal_auth.verify_code(ctx, login.token, code, IP, UA)


def test_code_requests_are_throttled_per_address(ctx, acme, clock):
    for n in range(5):
        portal_auth.request_code(ctx, "ann@acme.example", f"203.0.113.{n}")
    with pytest.raises(Throttled, match="wait 15 minutes"):
        portal_auth.request_code(ctx, "ANN@acme.example", "203.0.113.99")
    clock.advance(minutes=15, seconds=1)
    assert portal_auth.request_code(ctx, "ann@acme.example", IP).token
    with ctx.uow() as uow:  # the old events were pruned
        assert uow.session.scalar(select(func.count(PortalThrottleEvent.id))) == 2


def test_code_requests_and_wrong_codes_are_throttled_per_ip(ctx, acme):
    for n in range(20):
        portal_auth.request_code(ctx, f"someone{n}@example.com", IP)
    with pytest.raises(Throttled):
        portal_auth.request_code(ctx, "ann@acme.example", IP)
    strict = replace(ctx, settings=replace(ctx.settings, portal_wrong_codes_per_ip=2))
    login = portal_auth.request_code(strict, "ann@acme.example", "192.0.2.1")
    for _ in range(2):
        with pytest.raises(CodeRejected):
            portal_auth.verify_code(strict, login.token, "x", "192.0.2.1", UA)
    with pytest.raises(Throttled):
        portal_auth.verify_code(strict, login.token, _last_code(ctx), "192.0.2.1", UA)


def test_unknown_and_unauthorised_addresses_get_the_same_answer_and_no_mail(ctx, admin_staff, acme):
    _customer(ctx, admin_staff, name="No Portal Ltd", email="bob@noportal.example", grant=False)
    archived = _customer(ctx, admin_staff, name="Gone Ltd", email="cy@gone.example")
    customers.archive_customer(ctx, archived, staff=admin_staff)
    answers = [portal_auth.request_code(ctx, email, IP)
               for email in ("nobody@example.com", "bob@noportal.example", "cy@gone.example")]
    assert all(isinstance(a, portal_auth.LoginRequest) and len(a.token) == 43 for a in answers)
    assert _mails(ctx, "login_code_to_customer") == []


def test_one_login_covers_every_customer_with_the_address(ctx, admin_staff, acme):
    other = _customer(ctx, admin_staff, name="Bolt Windows", email="ANN@acme.example", contact="Ann A.")
    view = portal_auth.resolve_session(ctx, _log_in(ctx))
    assert [c.id for c in view.customers] == [acme, other] and view.actor.customer_ids == {acme, other}


def test_revoking_a_customer_ends_its_contacts_sessions_and_removes_it_at_once(ctx, admin_staff, acme):
    other = _customer(ctx, admin_staff, name="Bolt Windows", email="dee@bolt.example")
    shared = _customer(ctx, admin_staff, name="Cedar Homes", email="dee@bolt.example")
    ann, dee = _log_in(ctx), _log_in(ctx, "dee@bolt.example")
    customers.set_portal_access(ctx, acme, False, staff=admin_staff)
    assert portal_auth.resolve_session(ctx, ann) is None
    with ctx.uow() as uow:
        ended = uow.session.scalar(select(PortalSession).where(PortalSession.email == "ann@acme.example"))
    assert ended.ended_at is not None
    customers.archive_customer(ctx, other, staff=admin_staff)  # no revoke: resolution recomputes the customers
    assert [c.id for c in portal_auth.resolve_session(ctx, dee).customers] == [shared]


def test_a_session_lasts_30_days_absolute_and_logout_ends_it(ctx, acme, clock):
    token = _log_in(ctx)
    clock.advance(days=29, hours=23)
    assert portal_auth.resolve_session(ctx, token) is not None
    clock.advance(hours=1)
    assert portal_auth.resolve_session(ctx, token) is None
    second = _log_in(ctx)
    portal_auth.end_session(ctx, second)
    assert portal_auth.resolve_session(ctx, second) is None


def test_login_rotates_the_old_session_and_sends_a_notice(ctx, acme):
    old = _log_in(ctx)
    login = portal_auth.request_code(ctx, "ann@acme.example", IP)
    new = portal_auth.verify_code(ctx, login.token, _last_code(ctx), IP, UA, old_session_token=old)
    assert portal_auth.resolve_session(ctx, old) is None and portal_auth.resolve_session(ctx, new)
    notice = _mails(ctx, "login_notice_to_customer")[-1]
    assert notice.recipient == "ann@acme.example" and notice.context["browser"] == "Firefox on Windows"
    assert notice.context["client_ip"] == IP and "code" not in notice.context


def test_staff_view_acts_as_the_staff_member_for_one_customer(ctx, acme):
    view = portal_auth.staff_view(ctx, acme, "Alex Admin")
    assert view.actor == Actor("staff: Alex Admin", roles=frozenset({"customer"}), customer_ids=frozenset({acme}))
    with pytest.raises(NotFound):
        portal_auth.staff_view(ctx, 9999, "Alex Admin")


def test_the_three_portal_mails_render_and_are_delivered(ctx, acme):
    _log_in(ctx)
    results = deliver_due_messages(ctx, DevMailbox())
    assert [r.status for r in results] == ["sent"] * 3
    invitation, code_mail, notice = (_mails(ctx, name)[0] for name in (
        "portal_invitation_to_customer", "login_code_to_customer", "login_notice_to_customer"))
    assert ctx.settings.portal_url + "/login" in invitation.text_body
    assert code_mail.context["code"] in code_mail.text_body and "10 minutes" in code_mail.text_body
    assert "Firefox on Windows" in notice.text_body and IP in notice.text_body


def test_the_same_code_entered_twice_at_once_opens_one_session(ctx, acme):
    login = portal_auth.request_code(ctx, "ann@acme.example", IP)
    code = _last_code(ctx)
    results = run_together(*[lambda: portal_auth.verify_code(ctx, login.token, code, IP, UA)] * 2)
    tokens = [value for value, error in results if error is None]
    assert len(tokens) == 1 and all(isinstance(error, CodeRejected) for _, error in results if error is not None)
    with ctx.uow() as uow:
        assert uow.session.scalar(select(func.count(PortalSession.id)).where(PortalSession.ended_at.is_(None))) == 1
