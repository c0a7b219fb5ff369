"""Portal login throttles counted in portal_throttle_event rows, so they hold across web processes (no Redis).

Kinds: `code_request_email` and `code_request_ip` (code requests per address / per client IP) and
`wrong_code_ip` (wrong codes per client IP; wrong codes per code are counted on the code row itself).
Every limit counts in the same sliding window, Settings.portal_throttle_minutes. Check and record are two
statements, so several processes racing may overshoot a limit by a request or two: acceptable for a throttle.
"""

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engine.config import Settings
from engine.errors import NotAllowed
from engine.models import PortalThrottleEvent

TOO_MANY_REQUESTS = "Too many login attempts. Please wait {minutes} minutes and try again."


class Throttled(NotAllowed):
    """Too many code requests or wrong codes; the message says how long to wait."""


def _count(session: Session, kind: str, key: str, since: datetime) -> int:
    return session.scalar(select(func.count(PortalThrottleEvent.id)).where(
        PortalThrottleEvent.kind == kind, PortalThrottleEvent.key == key, PortalThrottleEvent.at > since)) or 0


def check(session: Session, settings: Settings, now: datetime, *, email: str | None = None,
          client_ip: str | None = None, wrong_codes: bool = False) -> None:
    """Refuse when a limit is reached: code requests for `email`/`client_ip`, or wrong codes from `client_ip`.

    :raises Throttled: a limit is reached within the window.
    """
    since = now - timedelta(minutes=settings.portal_throttle_minutes)
    if wrong_codes:
        limits = [("wrong_code_ip", client_ip, settings.portal_wrong_codes_per_ip)]
    else:
        limits = [("code_request_email", email, settings.portal_code_requests_per_email),
                  ("code_request_ip", client_ip, settings.portal_code_requests_per_ip)]
    for kind, key, limit in limits:
        if key is not None and _count(session, kind, key[:320], since) >= limit:
            raise Throttled(TOO_MANY_REQUESTS.format(minutes=settings.portal_throttle_minutes))


def record(session: Session, now: datetime, kind: str, key: str) -> None:
    """Count one attempt (inside the caller's transaction)."""
    session.add(PortalThrottleEvent(kind=kind, key=(key or "")[:320], at=now))


def prune(session: Session, settings: Settings, now: datetime) -> None:
    """Delete events older than the window (opportunistically, on each code request; `at` is indexed)."""
    session.execute(delete(PortalThrottleEvent).where(
        PortalThrottleEvent.at <= now - timedelta(minutes=settings.portal_throttle_minutes)))
