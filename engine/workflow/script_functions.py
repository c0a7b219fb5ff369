"""Clock-aware helper functions offered to BPMN scripts: now, remaining_period, add_duration.

Values are ISO 8601 strings, so task data stays JSON-serialisable.
"""

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

_DURATION = re.compile(
    r"P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?"
)


def parse_duration(value: str) -> timedelta:
    """Parse an ISO 8601 duration of weeks, days, hours, minutes and seconds (`P2W`, `P1DT12H`).

    :raises ValueError: if malformed, or in years or months (whose length is ambiguous).
    :raises TypeError: if not a string.
    """
    if not isinstance(value, str):
        raise TypeError(f"an ISO 8601 duration must be a string, not {value!r}")
    date_part = value.partition("T")[0]
    if value.startswith("P") and ("Y" in date_part or "M" in date_part):
        raise ValueError(f"years and months have no fixed length, use weeks or days: {value!r}")
    match = _DURATION.fullmatch(value)
    if match is None or not any(match.groups()) or value.endswith("T"):
        raise ValueError(f"not an ISO 8601 duration: {value!r}")
    return timedelta(**{unit: float(n) for unit, n in match.groupdict().items() if n})


def parse_datetime(value: str) -> datetime:
    """Parse an ISO 8601 date-time that carries a UTC offset.

    :raises ValueError: if malformed or without offset (it would be read as server-local time).
    :raises TypeError: if not a string.
    """
    if not isinstance(value, str):
        raise TypeError(f"an ISO 8601 date-time must be a string, not {value!r}")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"date-time needs a UTC offset: {value!r}")
    return parsed


def format_seconds(duration: timedelta) -> str:
    """Format a non-negative duration as `PT{seconds}S`, rounding up to whole seconds."""
    seconds = duration.days * 86400 + duration.seconds + (1 if duration.microseconds else 0)
    return f"PT{seconds}S"


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
