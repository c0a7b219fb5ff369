"""Login throttles counted in throttle event rows, so they hold across web processes (no Redis).

One mechanism for both logins. Portal kinds: `code_request_email` and `code_request_ip` (code requests per
address / per client IP) and `wrong_code_ip` (wrong codes per client IP; the attempts at one code are counted
atomically on the code row itself). Staff kinds: `staff_failure_account` and `staff_failure_ip` (wrong
passwords per e-mail address, known or not, and per client IP). Each side counts in its own sliding window
(Settings.portal_throttle_minutes, Settings.staff_throttle_minutes). Check and record are two statements, so
several processes racing may overshoot a limit by a request or two: acceptable for a throttle. The table is
still called portal_throttle_event (it was the portal's first); the kinds keep the two sides apart.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engine.config import Settings
from engine.errors import NotAllowed
from engine.models import PortalThrottleEvent

TOO_MANY_REQUESTS = "Too many login attempts. Please wait {minutes} minutes and try again."
PORTAL_KINDS = ("code_request_email", "code_request_ip", "wrong_code_ip")
STAFF_KINDS = ("staff_failure_account", "staff_failure_ip")
KEY_MAX = 320

Limit = tuple[str, str | None, int]  # (kind, key, most events allowed in the window); a None key is not counted


class Throttled(NotAllowed):
    """Too many attempts in the window; the message says how long to wait."""


def count(session: Session, kind: str, key: str, since: datetime) -> int:
    """Events of `kind` for `key` after `since`."""
    return session.scalar(select(func.count(PortalThrottleEvent.id)).where(
        PortalThrottleEvent.kind == kind, PortalThrottleEvent.key == key[:KEY_MAX],
        PortalThrottleEvent.at > since)) or 0


def check_limits(session: Session, now: datetime, minutes: int, limits: Iterable[Limit]) -> None:
    """Refuse when any limit is reached within the last `minutes`.

    :raises Throttled: a limit is reached.
    """
    since = now - timedelta(minutes=minutes)
    for kind, key, limit in limits:
        if key is not None and count(session, kind, key, since) >= limit:
            raise Throttled(TOO_MANY_REQUESTS.format(minutes=minutes))


def check(session: Session, settings: Settings, now: datetime, *, email: str | None = None,
          client_ip: str | None = None, wrong_codes: bool = False) -> None:
    """The portal's limits: code requests for `email`/`client_ip`, or wrong codes from `client_ip`.

    :raises Throttled: a limit is reached within the window.
    """
    if wrong_codes:
        limits = [("wrong_code_ip", client_ip, settings.portal_wrong_codes_per_ip)]
    else:
        limits = [("code_request_email", email, settings.portal_code_requests_per_email),
                  ("code_request_ip", client_ip, settings.portal_code_requests_per_ip)]
    check_limits(session, now, settings.portal_throttle_minutes, limits)


def record(session: Session, now: datetime, kind: str, key: str) -> None:
    """Count one attempt (inside the caller's transaction)."""
    session.add(PortalThrottleEvent(kind=kind, key=(key or "")[:KEY_MAX], at=now))


def clear(session: Session, kind: str, key: str) -> None:
    """Forget the events of `kind` for `key` (a successful staff login resets its account's failures)."""
    session.execute(delete(PortalThrottleEvent).where(PortalThrottleEvent.kind == kind,
                                                      PortalThrottleEvent.key == (key or "")[:KEY_MAX]))


def prune(session: Session, now: datetime, minutes: int, kinds: Iterable[str]) -> None:
    """Delete events of `kinds` older than their window (opportunistically, on each attempt; `at` is indexed)."""
    session.execute(delete(PortalThrottleEvent).where(
        PortalThrottleEvent.kind.in_(tuple(kinds)), PortalThrottleEvent.at <= now - timedelta(minutes=minutes)))
