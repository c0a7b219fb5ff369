"""ISO 8601 durations and date-times as Signoff uses them (JSON-friendly strings in task data)."""

import re
from datetime import date, datetime, time, timedelta, tzinfo

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


def local_midnight(day: date, zone: tzinfo) -> datetime:
    """The start of `day` in `zone` (an aware datetime; compare it with UTC columns directly)."""
    return datetime.combine(day, time.min, tzinfo=zone)


def in_zone(moment: datetime | None, zone: tzinfo) -> datetime | None:
    """An aware datetime shown in `zone` (None stays None)."""
    return moment.astimezone(zone) if moment is not None else None


def iso(value: date | datetime | time | None) -> str | None:
    """A date or time as ISO 8601 text for a view dict; None stays None."""
    return value.isoformat() if value is not None else None


def month_of(day: date) -> tuple[date, date]:
    """The first and the last day of the month that holds `day`."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)
