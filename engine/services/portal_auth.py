"""Customer portal access: one-time e-mailed login codes, server-side portal sessions, invitations, revocation.

E-mail is the only login factor (a deliberate choice for customer contacts, see README "Security: the customer
portal"); the compensating controls live here: short single-use codes bound to the browser that asked for them,
throttles per address and per client IP (engine.services.login_throttle), a login notice per new session, a
30-day absolute session limit and revocation on the server. Only hashes of codes and tokens are stored, and a
code never reaches a log: it exists in the outbox row's context (to be mailed) and nowhere else.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from engine.config import Settings
from engine.errors import NotAllowed, NotFound
from engine.models import Contact, Customer, OutboxMessage, OutboxStatus, PortalLoginCode, PortalSession
from engine.services.context import Actor, Context
from engine.services.login_throttle import PORTAL_KINDS, Throttled, check, prune, record
from engine.services.portal_scope import approver_customer_ids
from engine.tokens import new_token, token_hash

CODE_DIGITS = 6
SEEN_RESOLUTION = timedelta(minutes=1)
NEW_CODE_NEEDED = "This code is no longer valid. Request a new code."
WRONG_CODE = "That code is not right. Check the e-mail and try again."
LOCKED = "Too many wrong codes. Request a new code."
_SESSION = PortalSession.__table__.c
# resolve_session's session read, built once (a Core statement: every portal page view runs it)
_LIVE_SESSION = (select(_SESSION.email, _SESSION.created_at, _SESSION.last_seen_at)
                 .where(_SESSION.id == bindparam("key"), _SESSION.ended_at.is_(None)))

__all__ = ["CodeRejected", "CustomerRef", "LoginRequest", "PortalView", "Throttled", "end_customer_sessions",
           "end_session", "queue_invitations", "request_code", "resend_code", "resolve_session", "staff_view",
           "verify_code"]


class CodeRejected(NotAllowed):
    """A wrong, expired, used or locked code; the message says what the contact can do."""


@dataclass(frozen=True)
class CustomerRef:
    id: int
    name: str


@dataclass(frozen=True)
class LoginRequest:
    """What the login page needs after asking for a code: the token for the browser's cookie, the address."""

    token: str
    email: str


@dataclass(frozen=True)
class PortalView:
    """Who uses the portal now: a contact (by e-mail) or an admin's staff view (`staff_name` set)."""

    email: str
    name: str
    customers: tuple[CustomerRef, ...]
    staff_name: str | None = None
    approver_ids: frozenset[int] | None = None  # the customers this contact approves for (None: all of them)

    @property
    def customer_ids(self) -> frozenset[int]:
        return frozenset(customer.id for customer in self.customers)

    @property
    def actor(self) -> Actor:
        name = f"staff: {self.staff_name}" if self.staff_name else f"{self.name} {self.email}".strip()
        return Actor(name, roles=frozenset({"customer"}), customer_ids=self.customer_ids,
                     decides_for=self.approver_ids)



def _code_hash(request_token: str, email: str, code: str) -> str:
    """HMAC-SHA256 of the code, keyed with the browser's request token (which is stored only as a SHA-256).

    Why not argon2 or a stored salt: a 6-digit code has 10^6 values, so any hash stored next to its salt is
    brute-forced in seconds, slow or not (and an argon2 string does not fit `code_hash`, 64 characters). Keyed
    with the request token, a random 256-bit secret that only the browser holds, the stored hash is useless
    without the cookie: a database dump reveals no code. It also binds the code to the login request.
    """
    return hmac.new(request_token.encode(), f"{email}\n{code}".encode(), hashlib.sha256).hexdigest()


def _normalize_email(email: str) -> str:
    return (email or "").strip().lower()[:320]


def _eligible(session: Session, email: str) -> list[tuple[Contact, Customer]]:
    """Contacts with this address whose customer has portal access and is not archived (by customer name)."""
    if not email:
        return []
    return list(session.execute(
        select(Contact, Customer).join(Customer, Customer.id == Contact.customer_id)
        .where(*_eligible_where(email)).order_by(Customer.name, Customer.id)).tuples())


def _eligible_where(email) -> tuple:
    return (Contact.email != "", Customer.portal_access.is_(True), Customer.archived.is_(False),
            _lower_email(email))


def _lower_email(email):
    return func.lower(func.trim(Contact.email)) == email


# resolve_session's customers of a session's address, built once (_eligible's rows, as plain columns)
_LIVE_CUSTOMERS = (select(Contact.name.label("contact_name"), Customer.id.label("customer_id"),
                          Customer.name.label("customer_name"))
                   .join(Customer, Customer.id == Contact.customer_id)
                   .where(*_eligible_where(bindparam("email"))).order_by(Customer.name, Customer.id))


def _queue(session: Session, template: str, recipient: str, context: dict, now: datetime) -> None:
    session.add(OutboxMessage(instance_id=None, template=template, audience="customer", recipient=recipient,
                              context=context, created_at=now, status=OutboxStatus.PENDING))


def _issue(ctx: Context, uow_session: Session, email: str, client_ip: str, now: datetime) -> LoginRequest:
    """Invalidate the address's unused codes, store a new one and mail it if the address may log in."""
    settings = ctx.settings
    uow_session.execute(update(PortalLoginCode).where(
        PortalLoginCode.email == email, PortalLoginCode.used_at.is_(None),
        PortalLoginCode.invalidated_at.is_(None)).values(invalidated_at=now))
    token = new_token()
    code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
    # the same work for every address (row, hash), so the answer does not tell whether it is known
    uow_session.add(PortalLoginCode(
        email=email, code_hash=_code_hash(token, email, code), request_token_hash=token_hash(token),
        client_ip=client_ip[:64], created_at=now, expires_at=now + timedelta(minutes=settings.portal_code_minutes),
        failed_attempts=0))
    contacts = _eligible(uow_session, email)
    if contacts:
        _queue(uow_session, "login_code_to_customer", email, {
            "code": code, "valid_minutes": settings.portal_code_minutes, "contact_name": contacts[0][0].name,
            "company_name": settings.company_name, "portal_url": settings.portal_url}, now)
    return LoginRequest(token, email)


def request_code(ctx: Context, email: str, client_ip: str) -> LoginRequest:
    """Ask for a login code for `email`: the same answer whether or not the address may log in.

    Earlier unused codes of the address stop working. Only contacts of non-archived customers with portal
    access are mailed. Keep the returned token in an HttpOnly cookie: the code works only with it.
    :raises Throttled: too many code requests for this address or from this IP in the throttle window.
    """
    email = _normalize_email(email)
    now = ctx.clock()
    with ctx.uow() as uow:
        prune(uow.session, now, ctx.settings.portal_throttle_minutes, PORTAL_KINDS)
        check(uow.session, ctx.settings, now, email=email, client_ip=client_ip)
        record(uow.session, now, "code_request_email", email)
        record(uow.session, now, "code_request_ip", client_ip)
        login = _issue(ctx, uow.session, email, client_ip, now)
        uow.commit()
        return login


def resend_code(ctx: Context, request_token: str | None, client_ip: str) -> LoginRequest:
    """"Resend code": a new code (and request token) for the address of this login request.

    :raises CodeRejected: no such login request (the contact must start again with the e-mail address).
    :raises Throttled: as request_code.
    """
    with ctx.uow() as uow:
        row = uow.session.scalar(select(PortalLoginCode).where(
            PortalLoginCode.request_token_hash == token_hash(request_token or "")))
    if row is None or not request_token:
        raise CodeRejected("Start again: enter your e-mail address.")
    return request_code(ctx, row.email, client_ip)


def verify_code(ctx: Context, request_token: str | None, code: str, client_ip: str, user_agent: str,
                old_session_token: str | None = None) -> str:
    """Log in with the e-mailed code; returns the new portal session's cookie token (stored hashed).

    The browser's old portal session (`old_session_token`) ends (no session fixation) and a login notice
    is queued to the address.
    :raises CodeRejected: wrong, expired, used, replaced or locked code, or no login request in this browser.
    :raises Throttled: too many wrong codes from this IP.
    """
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    settings, now = ctx.settings, ctx.clock()
    with ctx.uow() as uow:
        session = uow.session
        check(session, settings, now, client_ip=client_ip, wrong_codes=True)
        row = session.scalar(select(PortalLoginCode).where(
            PortalLoginCode.request_token_hash == token_hash(request_token or "")))
        if row is None or not request_token:
            raise CodeRejected("Start again: enter your e-mail address.")
        if row.used_at or row.invalidated_at or now >= row.expires_at:
            raise CodeRejected(NEW_CODE_NEEDED)
        attempts = _claim_attempt(session, row.id, settings.portal_code_attempts)
        if attempts is None:
            raise CodeRejected(LOCKED)
        if not hmac.compare_digest(_code_hash(request_token, row.email, code), row.code_hash):
            record(session, now, "wrong_code_ip", client_ip)
            uow.commit()
            raise CodeRejected(LOCKED if attempts >= settings.portal_code_attempts else WRONG_CODE)
        used = session.execute(update(PortalLoginCode).where(
            PortalLoginCode.id == row.id, PortalLoginCode.used_at.is_(None)).values(used_at=now))
        contacts = _eligible(session, row.email)
        if used.rowcount != 1 or not contacts:  # used at the same moment by another request, or access revoked
            uow.commit()
            raise CodeRejected(NEW_CODE_NEEDED)
        if old_session_token:
            _end(session, old_session_token, now)
        token = new_token()
        session.add(PortalSession(id=token_hash(token), email=row.email, user_agent=(user_agent or "")[:300],
                                  client_ip=client_ip[:64], created_at=now, last_seen_at=now))
        _queue(session, "login_notice_to_customer", row.email, {
            "at": now.isoformat(), "browser": describe_browser(user_agent), "client_ip": client_ip,
            "contact_name": contacts[0][0].name, "company_name": settings.company_name,
            "portal_url": settings.portal_url}, now)
        uow.commit()
        return token


def _claim_attempt(session: Session, code_id: int, limit: int) -> int | None:
    """Count one attempt at the code before it is checked; the attempts so far, or None when none are left.

    One conditional UPDATE, so parallel guesses cannot all pass a read-then-write check: on PostgreSQL the
    second writer waits for the first one's row lock and re-evaluates `failed_attempts < limit`; SQLite
    writers queue up behind BEGIN IMMEDIATE. The right code counts as an attempt too (its row is used up).
    """
    return session.execute(
        update(PortalLoginCode).where(PortalLoginCode.id == code_id, PortalLoginCode.failed_attempts < limit)
        .values(failed_attempts=PortalLoginCode.failed_attempts + 1)
        .returning(PortalLoginCode.failed_attempts)).scalar_one_or_none()


def resolve_session(ctx: Context, token: str | None) -> PortalView | None:
    """The portal view of a live session, or None (ended, past the absolute limit, or no customer left).

    The customers are recomputed on every call, so a revoked or archived customer disappears at once. It reads
    in a read-only transaction (no write lock on SQLite) and writes only when it must: one conditional UPDATE
    that ends the session, or that records it seen once per SEEN_RESOLUTION.
    """
    if not token:
        return None
    key = token_hash(token)
    with ctx.read() as uow:
        connection = uow.session.connection()
        row = connection.execute(_LIVE_SESSION, {"key": key}).one_or_none()
        contacts = connection.execute(_LIVE_CUSTOMERS, {"email": row.email}).all() if row and row.email else []
        approves_for = approver_customer_ids(uow.session, row.email, frozenset(c.customer_id for c in contacts)) \
            if contacts else frozenset()
    if row is None:
        return None
    now = ctx.clock()
    live = PortalSession.id == key, PortalSession.ended_at.is_(None)
    if now - row.created_at >= timedelta(days=ctx.settings.portal_session_days) or not contacts:
        _write(ctx, update(PortalSession).where(*live).values(ended_at=now))
        return None
    if now - row.last_seen_at >= SEEN_RESOLUTION:  # not a write on every page view
        _write(ctx, update(PortalSession).where(*live, PortalSession.last_seen_at <= now - SEEN_RESOLUTION)
               .values(last_seen_at=now))
    customers = tuple(dict.fromkeys(CustomerRef(contact.customer_id, contact.customer_name) for contact in contacts))
    return PortalView(row.email, contacts[0].contact_name, customers, approver_ids=approves_for)


def _write(ctx: Context, statement) -> None:
    with ctx.uow() as uow:
        uow.session.execute(statement)
        uow.commit()


def end_session(ctx: Context, token: str | None) -> None:
    """Log out: the session ends on the server, so any copy of the cookie stops working."""
    if not token:
        return
    with ctx.uow() as uow:
        _end(uow.session, token, ctx.clock())
        uow.commit()


def _end(session: Session, token: str, now: datetime) -> None:
    session.execute(update(PortalSession).where(PortalSession.id == token_hash(token),
                                                PortalSession.ended_at.is_(None)).values(ended_at=now))


def staff_view(ctx: Context, customer_id: int, staff_name: str) -> PortalView:
    """An admin's look at one customer's portal (no code; the caller checks the admin's live staff session).

    :raises NotFound: unknown customer id.
    """
    with ctx.uow() as uow:
        customer = uow.session.get(Customer, customer_id)
        if customer is None:
            raise NotFound(f"no customer {customer_id}")
        return PortalView("", f"staff: {staff_name}", (CustomerRef(customer.id, customer.name),), staff_name)


def end_customer_sessions(session: Session, customer_id: int, now: datetime) -> None:
    """Revocation, inside the caller's transaction: end the sessions of the customer's contacts' addresses."""
    emails = {_normalize_email(email) for email in session.scalars(
        select(Contact.email).where(Contact.customer_id == customer_id))} - {""}
    if emails:
        session.execute(update(PortalSession).where(PortalSession.email.in_(emails),
                                                    PortalSession.ended_at.is_(None)).values(ended_at=now))


def queue_invitations(session: Session, settings: Settings, customer: Customer, now: datetime) -> int:
    """Grant, inside the caller's transaction: queue an invitation to each contact with an e-mail; the count."""
    contacts = session.scalars(select(Contact).where(Contact.customer_id == customer.id, Contact.email != "")
                               .order_by(Contact.id)).all()
    for contact in contacts:
        _queue(session, "portal_invitation_to_customer", contact.email.strip(), {
            "contact_name": contact.name, "customer_name": customer.name, "company_name": settings.company_name,
            "portal_url": settings.portal_url.rstrip("/") + "/login"}, now)
    return len(contacts)


def describe_browser(user_agent: str | None) -> str:
    """"Firefox on Windows" from a User-Agent header (good enough for a login notice), else "unknown browser"."""
    agent = user_agent or ""
    browser = next((name for token, name in (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
                                             ("Chrome/", "Chrome"), ("Safari/", "Safari")) if token in agent), None)
    system = next((name for token, name in (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"),
                                            ("Windows", "Windows"), ("Mac OS X", "macOS"), ("Linux", "Linux"))
                   if token in agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or (agent[:80] if agent else "unknown browser")
