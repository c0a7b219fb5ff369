"""Clock-aware helper functions offered to BPMN scripts: now, remaining_period, add_duration.

Values are ISO 8601 strings, so task data stays JSON-serialisable.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from engine.isotime import format_seconds, parse_datetime, parse_duration


def make_script_functions(clock: Callable[[], datetime]) -> dict[str, Callable]:
    """Build the clock-aware functions scripts may call; `clock` returns an aware datetime."""

    def current_time() -> datetime:
        moment = clock()
        if moment.tzinfo is None:
            raise ValueError("the clock must return a timezone-aware datetime")
        return moment.astimezone(UTC)

    def now() -> str:
        """Return the current time as ISO 8601 with offset, e.g. '2026-11-24T17:00:00+00:00'."""
        return current_time().isoformat(timespec="seconds")

    def remaining_period(period: str, since: str, minimum: str = "P1D") -> str:
        """Return what is left of `period` started at `since`, at least `minimum`, as `PT{n}S`.

        A `since` in the future (clock skew) does not lengthen the period.
        :raises ValueError: on malformed values or durations in years or months.
        """
        elapsed = max(current_time() - parse_datetime(since), timedelta(0))
        remaining = max(parse_duration(period) - elapsed, parse_duration(minimum))
        return format_seconds(remaining)

    def add_duration(when: str, duration: str) -> str:
        """Return the ISO 8601 date-time `duration` after `when`, keeping the offset of `when`.

        :raises ValueError: on malformed values or durations in years or months.
        """
        return (parse_datetime(when) + parse_duration(duration)).isoformat()

    return {"now": now, "remaining_period": remaining_period, "add_duration": add_duration}
