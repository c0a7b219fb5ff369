"""Staff accounts and server-side sessions: password login (argon2), 12 h absolute / 30 min idle expiry.

The cookie carries a random token; only its SHA-256 hash is stored, so a leaked database row cannot be
replayed as a cookie, and ending the row (logout, deactivation, expiry) ends every copy of the cookie.
"""

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update

from engine.errors import InvalidInput, NotAllowed, NotFound
from engine.models import StaffRole, StaffSession, StaffUser
from engine.services.context import Actor, Context
from engine.tokens import new_token, token_hash

ABSOLUTE_LIFETIME = timedelta(hours=12)
IDLE_TIMEOUT = timedelta(minutes=30)
SEEN_RESOLUTION = timedelta(minutes=1)
MIN_PASSWORD_LENGTH = 12
WRONG_LOGIN = "wrong e-mail or password"
ACTOR_ROLES = {
    StaffRole.ADMIN: frozenset({"manager", "staff"}),
    StaffRole.MANAGER: frozenset({"manager"}),
    StaffRole.EMPLOYEE: frozenset({"staff"}),
}

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
    return (email or "").strip().lower()


def hash_password(password: str) -> str:
    """The argon2 hash of a new password (for setting one outside create_staff_user).

    :raises InvalidInput: shorter than MIN_PASSWORD_LENGTH characters.
    """
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def create_staff_user(ctx: Context, email: str, name: str, role: str, password: str,
                      may_send_for_approval: bool = False) -> StaffView:
    """Create an active staff account.

    :raises InvalidInput: bad e-mail, unknown role, empty name, password shorter than 12, e-mail taken.
    """
    email = _normalize_email(email)
    problems = []
    if not _EMAIL.match(email):
        problems.append("email: not an e-mail address")
    if role not in set(StaffRole):
        problems.append(f"role: must be one of {', '.join(StaffRole)}")
    if not (name or "").strip():
        problems.append("name: required")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        problems.append(f"password: at least {MIN_PASSWORD_LENGTH} characters")
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


def authenticate(ctx: Context, email: str, password: str) -> str:
    """Check the password and open a session; returns the cookie token (shown once, stored hashed).

    :raises NotAllowed: "wrong e-mail or password" — the same for unknown, inactive and wrong.
    """
    with ctx.uow() as uow:
        user = uow.session.scalar(select(StaffUser).where(StaffUser.email == _normalize_email(email)))
        try:
            _hasher.verify(user.password_hash if user else _DUMMY_HASH, password or "")
        except (VerificationError, InvalidHashError):
            raise NotAllowed(WRONG_LOGIN) from None
        if user is None or not user.active:
            raise NotAllowed(WRONG_LOGIN)
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        token = new_token()
        now = ctx.clock()
        uow.session.add(StaffSession(id=token_hash(token), user_id=user.id, created_at=now, last_seen_at=now))
        uow.commit()
        return token


def resolve_session(ctx: Context, token: str | None) -> StaffView | None:
    """The staff member of a live session (and mark it seen), or None if ended, expired or deactivated."""
    if not token:
        return None
    with ctx.uow() as uow:
        session = uow.session
        row = session.get(StaffSession, token_hash(token))
        if row is None or row.ended_at is not None:
            return None
        now = ctx.clock()
        user = session.get(StaffUser, row.user_id)
        if now - row.created_at >= ABSOLUTE_LIFETIME or now - row.last_seen_at >= IDLE_TIMEOUT or not user.active:
            row.ended_at = now
            uow.commit()
            return None
        if now - row.last_seen_at >= SEEN_RESOLUTION:  # not a write on every page view
            row.last_seen_at = now
            uow.commit()
        return _view(user)


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
        uow.session.execute(update(StaffSession).where(StaffSession.user_id == user_id,
                                                       StaffSession.ended_at.is_(None))
                            .values(ended_at=ctx.clock()))
        uow.commit()
