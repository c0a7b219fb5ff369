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


# Durations as people say them: a whole number and a unit (the settings forms take and show these, and store ISO).
DURATION_UNITS = {"hours": 3600, "days": 86400, "weeks": 7 * 86400}
_ONE_UNIT = re.compile(r"P(?:(\d+)([WD])|T(\d+)(H))")
_SINGULAR = {"hours": "hour", "days": "day", "weeks": "week", "minutes": "minute"}


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit if count != 1 else _SINGULAR[unit]}"


def split_duration(value: str | None) -> tuple[int, str] | None:
    """An ISO duration as a number and a unit: in the unit it is written in ("P7D" -> (7, "days"), "PT36H" ->
    (36, "hours")), else the largest whole one ("PT172800S" -> (2, "days")); None (and anything unparseable or
    not whole hours) stays None."""
    written = _ONE_UNIT.fullmatch(value or "")
    if written is not None:
        count, letter = int(written.group(1) or written.group(3)), written.group(2) or written.group(4)
        if count >= 1:
            return count, {"W": "weeks", "D": "days", "H": "hours"}[letter]
    try:
        seconds = parse_duration(value or "").total_seconds()
    except (TypeError, ValueError):
        return None
    for unit in ("weeks", "days", "hours"):
        size = DURATION_UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return int(seconds // size), unit
    return None


def join_duration(count: int, unit: str) -> str:
    """(7, "days") -> "P7D"; (2, "weeks") -> "P2W"; (36, "hours") -> "PT36H".

    :raises ValueError: a unit other than hours, days or weeks, or a count below 1.
    """
    if unit not in DURATION_UNITS:
        raise ValueError(f"unit must be one of {', '.join(DURATION_UNITS)}, not {unit!r}")
    if count < 1:
        raise ValueError(f"must be a whole number of at least 1, not {count}")
    return {"hours": f"PT{count}H", "days": f"P{count}D", "weeks": f"P{count}W"}[unit]


def duration_words(value: str | None) -> str:
    """An ISO duration in words: "P7D" -> "7 days", "PT1H" -> "1 hour", "PT90M" -> "90 minutes"; "" for none.
    What cannot be parsed is shown as it is."""
    if not value:
        return ""
    split = split_duration(value)
    if split is not None:
        return _plural(*split)
    try:
        minutes = parse_duration(value).total_seconds() / 60
    except (TypeError, ValueError):
        return str(value)
    return _plural(int(minutes), "minutes") if minutes.is_integer() else str(value)


def due_words(due_at: datetime | None, now: datetime) -> str:
    """A deadline relative to now: "due in 2 days", "due in 5 hours", "overdue by 1 day"; "" for none."""
    if due_at is None:
        return ""
    seconds = (due_at - now).total_seconds()
    left = abs(seconds)
    if left >= 86400:
        amount = _plural(int(left // 86400), "days")
    elif left >= 3600:
        amount = _plural(int(left // 3600), "hours")
    else:
        amount = _plural(max(1, int(left // 60)), "minutes")
    return f"due in {amount}" if seconds >= 0 else f"overdue by {amount}"


_SPAN_UNITS = (("d", 86400), ("h", 3600), ("min", 60))


def span_words(seconds: float | None) -> str:
    """A measured time span, short, in its two largest units: 100800 -> "1 d 4 h", 5400 -> "1 h 30 min",
    "40 min", "under a minute"; "" for none. For statistics, where a glance matters more than the seconds."""
    if seconds is None:
        return ""
    left = int(seconds)
    parts = []
    for unit, size in _SPAN_UNITS:
        if left >= size or parts:
            parts.append(f"{left // size} {unit}")
            left %= size
        if len(parts) == 2:
            break
    shown = [part for part in parts if not part.startswith("0 ")]  # "1 d", not "1 d 0 h"
    return " ".join(shown) if shown else "under a minute"
