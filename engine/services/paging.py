"""Keyset pagination shared by every list: a page is the rows after (or before) the last row shown, in a stable
order whose last column is the id, found on an index instead of counted past with OFFSET.

The cursor a page hands out is opaque text (base64 of a small JSON) holding the list's name, a fingerprint of
its filters, the direction and the sort key of the row to continue from. It only positions: the scope and the
filters always come from the request, so a cursor made for another list, filter or user is refused (a cursor of
another filter) or can at most start the same list elsewhere (another user's), never show more.
"""

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, literal, or_, tuple_
from sqlalchemy.orm import Session

from engine.errors import InvalidInput

PAGE_SIZE = 50
MAX_CURSOR_CHARS = 600
FORWARD, BACKWARD = "next", "prev"


class Page(list):
    """One page of view dicts: a list (callers that only iterate need nothing new) with the cursors of the pages
    before and after it ("" where there is none)."""

    def __init__(self, rows: Sequence = (), next_cursor: str = "", prev_cursor: str = ""):
        super().__init__(rows)
        self.next_cursor = next_cursor
        self.prev_cursor = prev_cursor


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _decode_value(kind: str, value: Any, nullable: bool) -> Any:
    """A key value of the cursor back in its column's type; :raises ValueError: another type."""
    if value is None and nullable:
        return None
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "str" and isinstance(value, str):
        return value
    if kind == "datetime" and isinstance(value, str):
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("naive time")
        return moment
    if kind == "date" and isinstance(value, str):
        return date.fromisoformat(value)
    raise ValueError(f"not a {kind}")


@dataclass(frozen=True)
class Keyset:
    """A list's sort order: `columns` all ascending (or all descending), the id last, so every row has its own
    key. With `nulls_last`, the first column may be NULL and those rows come after all others (deadlines)."""

    name: str
    columns: tuple[ColumnElement, ...]
    kinds: tuple[str, ...]
    descending: bool = False
    nulls_last: bool = False

    def order_by(self, backward: bool = False) -> list:
        descending = self.descending != backward
        order = [column.desc() if descending else column.asc() for column in self.columns]
        if self.nulls_last:
            null_first = self.columns[0].is_(None)
            order.insert(0, null_first.desc() if backward else null_first.asc())
        return order

    def beyond(self, key: tuple, backward: bool) -> ColumnElement[bool]:
        """The rows after `key` in this order (before it when `backward`)."""
        later = self.descending == backward  # compare with > when the walk goes up
        if not self.nulls_last:
            return self._compare(self.columns, key, later)
        first, rest = self.columns[0], self.columns[1:]
        if key[0] is None:  # among the NULL rows at the end: compare the rest; going back, every non-NULL row too
            among = and_(first.is_(None), self._compare(rest, key[1:], later))
            return or_(first.is_not(None), among) if backward else among
        among = and_(first.is_not(None), self._compare(self.columns, key, later))
        return among if backward else or_(first.is_(None), among)

    @staticmethod
    def _compare(columns: Sequence[ColumnElement], key: Sequence, later: bool) -> ColumnElement[bool]:
        values = [literal(value, type_=column.type) for column, value in zip(columns, key, strict=True)]
        if len(columns) == 1:
            return columns[0] > values[0] if later else columns[0] < values[0]
        return tuple_(*columns) > tuple_(*values) if later else tuple_(*columns) < tuple_(*values)


def fingerprint(filters: dict) -> str:
    """A short digest of a list's filters: a cursor is only valid with the filters it was made for."""
    text = json.dumps({k: _encode_value(v) for k, v in filters.items()}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def make_cursor(keyset: Keyset, filters: dict, direction: str, key: tuple) -> str:
    payload = {"l": keyset.name, "f": fingerprint(filters), "d": direction, "k": [_encode_value(v) for v in key]}
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


@dataclass(frozen=True)
class Position:
    direction: str
    key: tuple


def read_cursor(keyset: Keyset, filters: dict, cursor: str | None) -> Position | None:
    """The position a cursor points at; None for no cursor (the first page).

    :raises InvalidInput: not a cursor of this list with these filters.
    """
    if not cursor:
        return None
    problem = "cursor: not a page link of this list; start again from the first page"
    if len(cursor) > MAX_CURSOR_CHARS or not cursor.isascii():
        raise InvalidInput(problem)
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(payload, dict) or payload.get("l") != keyset.name or payload.get("d") not in (
                FORWARD, BACKWARD) or not isinstance(payload.get("k"), list) or len(payload["k"]) != len(keyset.kinds):
            raise ValueError("shape")
        key = tuple(_decode_value(kind, value, keyset.nulls_last and n == 0)
                    for n, (kind, value) in enumerate(zip(keyset.kinds, payload["k"], strict=True)))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as err:
        raise InvalidInput(problem) from err
    if payload.get("f") != fingerprint(filters):
        raise InvalidInput("cursor: made for other filters; start again from the first page")
    return Position(payload["d"], key)


class FirstPage:
    """A list's query built once (its values as bind parameters) with its ordered, limited first page, for a list
    shown on every request: rebuilding a large Select, and SQLAlchemy's cache key of it, cost more CPU than the
    database spent running it. Later pages (a cursor's values are literals) are built from `query` per call."""

    def __init__(self, query: Select, keyset: Keyset, size: int = PAGE_SIZE):
        self.query, self.size = query, size
        self.statement = query.order_by(*keyset.order_by()).limit(size + 1)


def fetch_page(session: Session, query: Select | FirstPage, keyset: Keyset, filters: dict, cursor: str | None,
               key_of: Callable[[Any], tuple], size: int = PAGE_SIZE,
               params: dict | None = None) -> tuple[list, str, str]:
    """The rows of one page of `query` (already filtered and scoped, not yet ordered; or prebuilt with the
    bind parameter values `params`) with the next and previous cursors; `key_of(row)` gives a row's sort key in
    the keyset's column order.

    :raises InvalidInput: a cursor that is not one of this list with these filters.
    """
    position = read_cursor(keyset, filters, cursor)
    backward = position is not None and position.direction == BACKWARD
    if isinstance(query, FirstPage) and position is None and query.size == size:
        statement = query.statement
    else:
        query = query.query if isinstance(query, FirstPage) else query
        if position is not None:
            query = query.where(keyset.beyond(position.key, backward))
        statement = query.order_by(*keyset.order_by(backward)).limit(size + 1)
    rows = list(session.execute(statement, params))
    more = len(rows) > size
    rows = rows[:size]
    if backward:
        rows.reverse()
    has_next, has_prev = (True, more) if backward else (more, position is not None)
    next_cursor = make_cursor(keyset, filters, FORWARD, key_of(rows[-1])) if rows and has_next else ""
    prev_cursor = make_cursor(keyset, filters, BACKWARD, key_of(rows[0])) if rows and has_prev else ""
    return rows, next_cursor, prev_cursor
