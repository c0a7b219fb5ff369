"""Malformed input is a 400 with a message, never a 500, for every route at once.

One request guard refuses NUL bytes and invalid UTF-8 in the path, the query string and form fields (PostgreSQL
refuses NUL in text, and werkzeug would pass bad bytes on disguised); the `int` URL converter refuses ids the
database cannot hold; and pages parse integer and date values with the helpers here, which bound them to what the
database and the calendar arithmetic can take.
"""

from datetime import date
from urllib.parse import unquote_to_bytes

from flask import Flask, abort, request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from engine.services.work_fields import FIRST_DAY, LAST_DAY

MAX_PROCESS_ID = 200  # characters
MAX_ID = 2**31 - 1  # ids are INTEGER columns: larger values make PostgreSQL raise instead of finding nothing


class IdConverter(IntegerConverter):
    """`<int:...>` as before, but an id beyond what the database holds is a 400 naming it, not a 500."""

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise BadRequest(f"{value[:30]}: not a valid id (too large)")
        return number


def init_app(app: Flask) -> None:
    """Register the converter (before any blueprint adds its routes) and the request guard."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(reject_malformed)


def _is_text(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in raw


def reject_malformed() -> None:
    """:raises BadRequest: a NUL byte or invalid UTF-8 in the path, the query string or a form field.

    Checked on the raw bytes where werkzeug would hide the fault (it keeps invalid bytes in a query string as
    "%FF" text, and drops an undecodable urlencoded form entirely); multipart text fields arrive decoded with
    U+FFFD for invalid bytes, so that character is refused there. Runs before CSRFProtect parses the form.
    """
    if not _is_text(unquote_to_bytes(request.path)) or not _is_text(unquote_to_bytes(request.query_string)):
        abort(400, "The address contains a NUL byte or is not valid UTF-8.")
    if request.mimetype == "application/x-www-form-urlencoded":
        raw = request.get_data(cache=True)  # cached: the form is parsed from this same copy afterwards
        if not _is_text(unquote_to_bytes(raw.replace(b"+", b" "))):
            abort(400, "The form contains a NUL byte or text that is not valid UTF-8.")
    elif request.mimetype == "multipart/form-data":
        for name, value in request.form.items(multi=True):
            if "\x00" in name + value or "\ufffd" in name + value:
                abort(400, f"{name[:40]!r}: contains a NUL byte or text that is not valid UTF-8.")


def parse_int(value: str | None, field: str) -> int | None:
    """A whole number (an id or a count) from a query or form value; empty is None.

    :raises BadRequest: not a whole number, or larger than an id can be.
    """
    value = (value or "").strip()
    if not value:
        return None
    if not value.isascii() or not value.isdigit():
        abort(400, f"{field}: not a whole number")
    if len(value) > 10 or int(value) > MAX_ID:
        abort(400, f"{field}: too large")
    return int(value)


def query_int(name: str) -> int | None:
    """The integer query parameter `name` (see parse_int)."""
    return parse_int(request.args.get(name), name)


def query_process_version() -> tuple[str, int | None]:
    """(process id, version or None for the newest) from ?process=…&version=…

    :raises BadRequest: no process id, one too long to be one, or a version that is not a number.
    """
    process_id = request.args.get("process", "").strip()
    if not process_id:
        raise BadRequest("say which process: ?process=job_approval (and &version=2 for an older version)")
    if len(process_id) > MAX_PROCESS_ID:
        raise BadRequest("process: too long to be a process id")
    return process_id, query_int("version")


def posted_ids(name: str) -> list[int]:
    """Every id posted under `name` (checkboxes); one that is not an id is a 400."""
    return [number for value in request.form.getlist(name) if (number := parse_int(value, name)) is not None]


def parse_day(value: str | None, field: str) -> date | None:
    """A YYYY-MM-DD day between 1900 and 2999; empty is None.

    :raises BadRequest: not such a day.
    """
    value = (value or "").strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        day = None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:
        abort(400, f"{field}: use a date like 2026-11-30, between {FIRST_DAY.year} and {LAST_DAY.year}")
    return day


def query_day(name: str) -> date | None:
    """The date query parameter `name` (see parse_day)."""
    return parse_day(request.args.get(name), name)
