"""Portal login state: one-time codes, login sessions and the throttle log (only hashes of secrets are stored)."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, UtcDateTime


class PortalLoginCode(Base):
    """A code e-mailed to `email`, valid once, until `expires_at`, for the browser holding the request token."""

    __tablename__ = "portal_login_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)  # lower-cased
    code_hash: Mapped[str] = mapped_column(String(64))
    request_token_hash: Mapped[str] = mapped_column(String(64), index=True)
    client_ip: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    failed_attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    invalidated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PortalSession(Base):
    """A contact's login (by e-mail address: it covers every customer listing that address)."""

    __tablename__ = "portal_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # hex SHA-256 of the cookie token
    email: Mapped[str] = mapped_column(String(320), index=True)
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    client_ip: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PortalThrottleEvent(Base):
    """One counted attempt (code request or wrong code) by address or client IP; old rows are pruned."""

    __tablename__ = "portal_throttle_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(320))
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
