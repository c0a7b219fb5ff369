"""Parsing and checking of the fields of registered work and visits (form text or Python values).

Each parser appends "field: problem" to a list instead of raising, so a form can show every problem at once.
"""

import re
from datetime import UTC, date, datetime, time, tzinfo

from engine.models import RegistrationKind

DESCRIPTION_MAX = 2000
PLACE_MAX = 200
NOTE_MAX = 5000
MAX_MINUTES = 24 * 60
MAX_KM = 10_000
_AMOUNT = re.compile(r"^(\d{1,9})(?:[.,](\d*))?$")
_HOURS_MINUTES = re.compile(r"^(\d{1,2}):([0-5]\d)$")
# the days a form or filter may name: room for time zone, week and month arithmetic on either side
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_date(problems: list[str], field: str, value: date | str | None) -> date | None:
    if _blank(value) or isinstance(value, date):
        return None if _blank(value) else value
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        problems.append(f"{field}: not a date (YYYY-MM-DD)")
        return None
    return day if _in_range(problems, field, day) else None


def _in_range(problems: list[str], field: str, day: date) -> bool:
    if FIRST_DAY <= day <= LAST_DAY:
        return True
    problems.append(f"{field}: must be between {FIRST_DAY.year} and {LAST_DAY.year}")
    return False


def parse_time(problems: list[str], field: str, value: time | str | None) -> time | None:
    if _blank(value) or isinstance(value, time):
        return None if _blank(value) else value
    try:
        return time.fromisoformat(value.strip())
    except ValueError:
        problems.append(f"{field}: not a time (HH:MM)")
        return None


def parse_datetime(problems: list[str], field: str, value: datetime | str | None,
                   zone: tzinfo = UTC) -> datetime | None:
    """An aware datetime in UTC; text with an offset, or `YYYY-MM-DDTHH:MM` (datetime-local) read in `zone`,
    the company's time zone."""
    if _blank(value):
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            problems.append(f"{field}: not a date and time (YYYY-MM-DD HH:MM)")
            return None
    if not _in_range(problems, field, value.date()):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def minutes_between(start: datetime | None, end: datetime | None) -> int | None:
    """Whole minutes from `start` to `end`, or None when either is missing."""
    return int((end - start).total_seconds() // 60) if start and end else None


def parse_minutes(problems: list[str], value: int | str | None) -> int | None:
    """Minutes as a whole number ("90") or hours:minutes ("1:30")."""
    if _blank(value):
        return None
    text = str(value).strip()
    match = _HOURS_MINUTES.match(text)
    if match:
        return int(match[1]) * 60 + int(match[2])
    if text.isdigit():
        return int(text)
    problems.append("minutes: a number of minutes (90) or hours:minutes (1:30)")
    return None


def parse_amount(problems: list[str], value) -> int | None:
    """A positive amount with at most two decimals ("12.50" or "12,50") in cents."""
    if _blank(value):
        problems.append("amount: required")
        return None
    match = _AMOUNT.match(str(value).strip())
    if not match:
        problems.append("amount: not an amount (like 12.50)")
        return None
    if len(match[2] or "") > 2:
        problems.append("amount: at most 2 decimals")
        return None
    cents = int(match[1]) * 100 + int((match[2] or "").ljust(2, "0"))
    if cents <= 0:
        problems.append("amount: must be more than 0")
    return cents


def parse_km(problems: list[str], value) -> float | None:
    if _blank(value):
        problems.append("distance_km: required")
        return None
    try:
        km = float(str(value).strip().replace(",", "."))
    except ValueError:
        problems.append("distance_km: not a number")
        return None
    if not 0 < km <= MAX_KM:
        problems.append(f"distance_km: must be more than 0 and at most {MAX_KM}")
    return round(km, 2)


def duration_text(minutes: int | None) -> str:
    """90 -> "1:30" (hours:minutes); None -> ""."""
    if minutes is None:
        return ""
    return f"{minutes // 60}:{minutes % 60:02d}"


def money_text(cents: int | None) -> str:
    """1250 -> "12.50"; None -> ""."""
    if cents is None:
        return ""
    return f"{cents // 100}.{cents % 100:02d}"


def period_filter_problems(date_from, date_to) -> list[str]:
    problems: list[str] = []
    start, end = parse_date(problems, "date_from", date_from), parse_date(problems, "date_to", date_to)
    if start and end and end < start:
        problems.append("date_to: must not be before the start of the period")
    return problems


def _hours(problems: list[str], start_time, end_time, minutes) -> dict:
    start, end = parse_time(problems, "start_time", start_time), parse_time(problems, "end_time", end_time)
    given = parse_minutes(problems, minutes)
    if start or end or not _blank(start_time) or not _blank(end_time):
        if start is None and _blank(start_time):
            problems.append("start_time: required with an end time")
        if end is None and _blank(end_time):
            problems.append("end_time: required with a start time")
        if start and end:
            if end <= start:
                problems.append("end_time: must be after the start time")
            given = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    elif given is None:
        problems.append("minutes: required: give a start and end time, or the minutes")
    elif not 0 < given <= MAX_MINUTES:
        problems.append(f"minutes: must be more than 0 and at most {MAX_MINUTES} (24 hours)")
    return {"start_time": start, "end_time": end, "minutes": given}


def registration_fields(kind: str, work_date, description, start_time, end_time, minutes, amount, distance_km,
                        from_place, to_place) -> tuple[dict, list[str]]:
    """The columns of a Registration of this kind (other kinds' columns None), and the problems found."""
    problems: list[str] = []
    fields: dict = {"kind": (kind or "").strip(), "description": (description or "").strip(), "start_time": None,
                    "end_time": None, "minutes": None, "amount_cents": None, "distance_km": None,
                    "from_place": None, "to_place": None}
    fields["work_date"] = parse_date(problems, "work_date", work_date)
    if fields["work_date"] is None and not any(p.startswith("work_date:") for p in problems):
        problems.append("work_date: required")
    if len(fields["description"]) > DESCRIPTION_MAX:
        problems.append(f"description: at most {DESCRIPTION_MAX} characters")
    if fields["kind"] == RegistrationKind.HOURS:
        fields.update(_hours(problems, start_time, end_time, minutes))
    elif fields["kind"] == RegistrationKind.EXPENSE:
        fields["amount_cents"] = parse_amount(problems, amount)
    elif fields["kind"] == RegistrationKind.MILEAGE:
        fields["distance_km"] = parse_km(problems, distance_km)
        for name, value in (("from_place", from_place), ("to_place", to_place)):
            fields[name] = (value or "").strip()
            if not fields[name]:
                problems.append(f"{name}: required")
            elif len(fields[name]) > PLACE_MAX:
                problems.append(f"{name}: at most {PLACE_MAX} characters")
    else:
        problems.append(f"kind: must be one of {', '.join(RegistrationKind)}")
    return fields, problems


def visit_fields(planned_start, planned_end, checked_in_at, checked_out_at, note,
                 zone: tzinfo = UTC) -> tuple[dict, list[str]]:
    """A visit's times (stored in UTC; text without an offset is read in `zone`) and note, and the problems."""
    problems: list[str] = []
    fields = {name: parse_datetime(problems, name, value, zone) for name, value in (
        ("planned_start", planned_start), ("planned_end", planned_end), ("checked_in_at", checked_in_at),
        ("checked_out_at", checked_out_at))}
    fields["note"] = (note or "").strip()
    if (fields["planned_start"] is None) != (fields["planned_end"] is None):
        missing = "planned_end" if fields["planned_end"] is None else "planned_start"
        if not any(p.startswith(missing) for p in problems):
            problems.append(f"{missing}: give both the planned start and end, or neither")
    elif fields["planned_start"] and fields["planned_end"] < fields["planned_start"]:
        problems.append("planned_end: must not be before the planned start")
    if fields["checked_out_at"] and fields["checked_in_at"] is None:
        problems.append("checked_out_at: there is no check-in")
    elif fields["checked_out_at"] and fields["checked_out_at"] < fields["checked_in_at"]:
        problems.append("checked_out_at: must not be before the check-in")
    if len(fields["note"]) > NOTE_MAX:
        problems.append(f"note: at most {NOTE_MAX} characters")
    return fields, problems


def registration_label(kind: str, work_date: date | str | None, minutes: int | None, amount_cents: int | None,
                       distance_km: float | None, description: str | None) -> str:
    """A registration named by what it is, for result messages: "3 Nov, 8:00 h, skylights", "3 Nov, 12.50,
    soap", "3 Nov, 42 km"."""
    day = date.fromisoformat(work_date) if isinstance(work_date, str) else work_date
    parts = [f"{day.day} {day:%b}" if day else ""]
    if kind == RegistrationKind.HOURS:
        parts.append(f"{duration_text(minutes)} h" if minutes is not None else "")
    elif kind == RegistrationKind.EXPENSE:
        parts.append(money_text(amount_cents))
    elif distance_km is not None:
        parts.append(f"{distance_km:g} km")
    parts.append((description or "").strip()[:60])
    return ", ".join(part for part in parts if part)
