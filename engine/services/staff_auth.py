"""Staff accounts and server-side sessions: password login (argon2), 12 h absolute / 30 min idle expiry.

The cookie carries a random token; only its SHA-256 hash is stored, so a leaked database row cannot be
replayed as a cookie, and ending the row (logout, deactivation, expiry, a new password) ends every copy of
the cookie. Wrong passwords are throttled per e-mail address (known or not) and per client IP through
engine.services.login_throttle; the holder of an account that gets locked is mailed a lockout notice.
"""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from engine.config import Settings
from engine.errors import InvalidInput, NotAllowed, NotFound
from engine.models import OutboxMessage, OutboxStatus, StaffRole, StaffSession, StaffUser
from engine.services.context import Actor, Context
from engine.services.login_throttle import STAFF_KINDS, Throttled, check_limits, clear, count, prune, record
from engine.services.password_rules import password_problem
from engine.tokens import new_token, token_hash

ABSOLUTE_LIFETIME = timedelta(hours=12)
IDLE_TIMEOUT = timedelta(minutes=30)
SEEN_RESOLUTION = timedelta(minutes=1)
WRONG_LOGIN = "wrong e-mail or password"
WRONG_CURRENT = "current_password: that is not your current password"
LOCKOUT_TEMPLATE = "staff_lockout_to_staff"
ACCOUNT, IP = STAFF_KINDS  # throttle kinds: wrong passwords per e-mail address, per client IP
ACTOR_ROLES = {
    StaffRole.ADMIN: frozenset({"manager", "staff"}),
    StaffRole.MANAGER: frozenset({"manager"}),
    StaffRole.EMPLOYEE: frozenset({"staff"}),
}

__all__ = ["StaffView", "Throttled", "authenticate", "change_password", "create_staff_user", "deactivate_user",
           "end_session", "end_user_sessions", "hash_password", "resolve_session"]

_SESSION, _USER = StaffSession.__table__.c, StaffUser.__table__.c
# resolve_session's one read, built once (a Core statement on the session's connection: a quarter of the
# ORM query's CPU, and every page view runs it)
_LIVE_SESSION = (select(_SESSION.created_at, _SESSION.last_seen_at, _USER.active, _USER.id, _USER.email, _USER.name,
                        _USER.role, _USER.may_send_for_approval)
                 .join_from(StaffSession.__table__, StaffUser.__table__, _USER.id == _SESSION.user_id)
                 .where(_SESSION.id == bindparam("key"), _SESSION.ended_at.is_(None)))
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_hasher = PasswordHasher()
# Unknown e-mail addresses are verified against this hash, so they take as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class StaffView:
    """The logged-in staff member, as pages need it (no ORM object leaves the service)."""

    id: int
    email: str
    name: str
    role: str
    may_send_for_approval: bool

    @property
    def actor(self) -> Actor:
        return Actor(self.email, roles=ACTOR_ROLES[StaffRole(self.role)], staff_id=self.id, staff_role=self.role)


def _view(user: StaffUser) -> StaffView:
    return StaffView(user.id, user.email, user.name, user.role, user.may_send_for_approval)


def _normalize_email(email: str) -> str:
    return (email or "").strip().lower()[:320]


def hash_password(settings: Settings, password: str, *, email: str, name: str) -> str:
    """The argon2 hash of a new password for the account `email`/`name`, if the password rules allow it.

    :raises InvalidInput: "password: ..." (engine.services.password_rules: length, common, guessable).
    """
    problem = password_problem(password, min_length=settings.password_min_length, email=email, name=name)
    if problem:
        raise InvalidInput(problem)
    return _hasher.hash(password)


def _verified(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False


def create_staff_user(ctx: Context, email: str, name: str, role: str, password: str,
                      may_send_for_approval: bool = False) -> StaffView:
    """Create an active staff account.

    :raises InvalidInput: bad e-mail, unknown role, empty name, a password the rules refuse, e-mail taken.
    """
    email = _normalize_email(email)
    problems = []
    if not _EMAIL.match(email):
        problems.append("email: not an e-mail address")
    if role not in set(StaffRole):
        problems.append(f"role: must be one of {', '.join(StaffRole)}")
    if not (name or "").strip():
        problems.append("name: required")
    problem = password_problem(password, min_length=ctx.settings.password_min_length, email=email, name=name)
    if problem:
        problems.append(problem)
    if problems:
        raise InvalidInput("; ".join(problems))
    with ctx.uow() as uow:
        if uow.session.scalar(select(StaffUser.id).where(StaffUser.email == email)) is not None:
            raise InvalidInput("email: already used by another account")
        user = StaffUser(email=email, name=name.strip(), role=role, password_hash=_hasher.hash(password),
                         active=True, may_send_for_approval=may_send_for_approval, created_at=ctx.clock())
        uow.session.add(user)
        uow.commit()
        return _view(user)


def authenticate(ctx: Context, email: str, password: str, client_ip: str = "unknown") -> str:
    """Check the password and open a session; returns the cookie token (shown once, stored hashed).

    `client_ip` is the peer's address (callers without one, such as tests and scripts, count as "unknown").
    Unknown, inactive and wrong get the same answer after the same work (an argon2 verification, two
    throttle rows). Once an address or an IP has too many wrong passwords within the window, even the
    right password is refused until the window has passed; the account's holder is mailed when it locks.
    :raises Throttled: too many wrong passwords for this address or from this IP (Settings.staff_*).
    :raises NotAllowed: "wrong e-mail or password" — the same for unknown, inactive and wrong.
    """
    email, settings, now = _normalize_email(email), ctx.settings, ctx.clock()
    with ctx.uow() as uow:
        session = uow.session
        prune(session, now, settings.staff_throttle_minutes, STAFF_KINDS)
        _check_throttle(session, settings, now, email, client_ip)
        user = session.scalar(select(StaffUser).where(StaffUser.email == email))
        right = _verified(user.password_hash if user else _DUMMY_HASH, password)
        if not right or user is None or not user.active:
            _count_failure(session, settings, now, email, client_ip, user)
            uow.commit()
            raise NotAllowed(WRONG_LOGIN)
        clear(session, ACCOUNT, email)
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        token = new_token()
        session.add(StaffSession(id=token_hash(token), user_id=user.id, created_at=now, last_seen_at=now))
        uow.commit()
        return token


def _check_throttle(session: Session, settings: Settings, now: datetime, email: str, client_ip: str) -> None:
    check_limits(session, now, settings.staff_throttle_minutes, [
        (ACCOUNT, email, settings.staff_login_failures_per_account),
        (IP, client_ip or "unknown", settings.staff_login_failures_per_ip)])


def _count_failure(session: Session, settings: Settings, now: datetime, email: str, client_ip: str,
                   user: StaffUser | None) -> None:
    """Record a wrong password; the failure that locks an active account queues its lockout notice."""
    record(session, now, ACCOUNT, email)
    record(session, now, IP, client_ip or "unknown")
    since = now - timedelta(minutes=settings.staff_throttle_minutes)
    locks = count(session, ACCOUNT, email, since) == settings.staff_login_failures_per_account
    if locks and user is not None and user.active:
        session.add(OutboxMessage(
            instance_id=None, template=LOCKOUT_TEMPLATE, audience="staff", recipient=user.email, created_at=now,
            status=OutboxStatus.PENDING, context={
                "staff_name": user.name, "at": now.isoformat(), "client_ip": client_ip or "unknown",
                "lock_minutes": settings.staff_throttle_minutes, "company_name": settings.company_name}))


def change_password(ctx: Context, token: str | None, current_password: str, new_password: str,
                    client_ip: str) -> None:
    """A logged-in user's own new password: the current one is required; the user's other sessions end.

    A wrong current password counts as a failed login (the same throttle and lockout notice).
    :raises NotAllowed: the session is not live. :raises Throttled: as authenticate.
    :raises InvalidInput: "current_password: ..." wrong, or "password: ..." refused by the rules / unchanged.
    """
    settings, now = ctx.settings, ctx.clock()
    with ctx.uow() as uow:
        session = uow.session
        row = session.get(StaffSession, token_hash(token or ""))
        user = session.get(StaffUser, row.user_id) if row is not None and row.ended_at is None else None
        if user is None or not user.active:
            raise NotAllowed("your session has ended; log in again")
        _check_throttle(session, settings, now, user.email, client_ip)
        if not _verified(user.password_hash, current_password):
            _count_failure(session, settings, now, user.email, client_ip, user)
            uow.commit()
            raise InvalidInput(WRONG_CURRENT)
        if _verified(user.password_hash, new_password):
            raise InvalidInput("password: choose a new password, not your current one")
        user.password_hash = hash_password(settings, new_password, email=user.email, name=user.name)
        end_user_sessions(session, user.id, now, keep=row.id)
        uow.commit()


def end_user_sessions(session: Session, user_id: int, now: datetime, keep: str | None = None) -> None:
    """Inside the caller's transaction: end every open session of the user (but `keep`, a session id)."""
    query = update(StaffSession).where(StaffSession.user_id == user_id, StaffSession.ended_at.is_(None))
    if keep is not None:
        query = query.where(StaffSession.id != keep)
    session.execute(query.values(ended_at=now))


def resolve_session(ctx: Context, token: str | None) -> StaffView | None:
    """The staff member of a live session, or None if ended, expired (12 h absolute, 30 min idle) or deactivated.

    Every page view asks this first, so it reads in a read-only transaction (one SELECT, no write lock on
    SQLite). It writes only when it must: one conditional UPDATE that ends an expired session, or that moves
    the idle clock when it is SEEN_RESOLUTION or more behind (the idle limit holds to within that resolution).
    """
    if not token:
        return None
    key = token_hash(token)
    with ctx.read() as uow:
        row = uow.session.connection().execute(_LIVE_SESSION, {"key": key}).one_or_none()
    if row is None:
        return None
    now = ctx.clock()
    live = StaffSession.id == key, StaffSession.ended_at.is_(None)
    if now - row.created_at >= ABSOLUTE_LIFETIME or now - row.last_seen_at >= IDLE_TIMEOUT or not row.active:
        _write(ctx, update(StaffSession).where(*live).values(ended_at=now))
        return None
    if now - row.last_seen_at >= SEEN_RESOLUTION:  # not a write on every page view
        _write(ctx, update(StaffSession).where(*live, StaffSession.last_seen_at <= now - SEEN_RESOLUTION)
               .values(last_seen_at=now))
    return StaffView(row.id, row.email, row.name, row.role, row.may_send_for_approval)


def _write(ctx: Context, statement) -> None:
    with ctx.uow() as uow:
        uow.session.execute(statement)
        uow.commit()


def end_session(ctx: Context, token: str | None) -> None:
    """Log out: the session ends on the server, so any copy of the cookie stops working."""
    if not token:
        return
    with ctx.uow() as uow:
        row = uow.session.get(StaffSession, token_hash(token))
        if row is not None and row.ended_at is None:
            row.ended_at = ctx.clock()
        uow.commit()


def deactivate_user(ctx: Context, user_id: int) -> None:
    """Deactivate an account and end all its sessions.

    :raises NotFound: unknown user id.
    """
    with ctx.uow() as uow:
        user = uow.session.get(StaffUser, user_id)
        if user is None:
            raise NotFound(f"no staff user {user_id}")
        user.active = False
        end_user_sessions(uow.session, user_id, ctx.clock())
        uow.commit()
