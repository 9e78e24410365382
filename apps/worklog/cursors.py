"""Opaque page cursors for the work log's lists: base64 of a little JSON, checked on the way back in.

- The timeline (and the API list without `q`): the last entry shown, `{"d": date, "i": id}`; the next page is
  the entries strictly before it in (occurred_on, id) order.
- A search: `{"s": 1, "w": [date, id]}` names the window of matches (the newest matches before that entry;
  absent for the first window) and `"r"`, `"d"`, `"i"` the last match shown inside it (its rank, date, id;
  absent at the start of a window). See apps/worklog/search.py.

Anything we did not give out (not base64, not JSON, numbers out of range, impossible dates, a search cursor
on the timeline or the other way round) is a `ValidationFailed` on `cursor`, never a database error.
"""

import base64
import binascii
import json
import math
from dataclasses import dataclass
from datetime import date

from apps.core.errors import ValidationFailed

CURSOR_MAX_LENGTH = 200
ID_MAX = 2**63 - 1  # the largest id a bigint column holds
RANK_MAX = 1e9


@dataclass(frozen=True)
class Position:
    """An entry's place in (occurred_on, id) order."""

    day: date
    id: int


@dataclass(frozen=True)
class SearchPosition:
    window: Position | None  # the window holds the newest matches strictly before this entry (None: all)
    after: tuple[float, date, int] | None  # the last (rank, date, id) shown in the window, None at its start


def _encode(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def timeline_cursor(position: Position) -> str:
    return _encode({"d": position.day.isoformat(), "i": position.id})


def search_cursor(position: SearchPosition) -> str:
    data: dict = {"s": 1}
    if position.window is not None:
        data["w"] = [position.window.day.isoformat(), position.window.id]
    if position.after is not None:
        rank, day, pk = position.after
        data.update(r=rank, d=day.isoformat(), i=pk)
    return _encode(data)


def _bad(message: str = "That page cursor is not one we gave out; start again from the first page."):
    return ValidationFailed(message, field="cursor")


def _int(value, *, low: int, high: int) -> int:
    # JSON numbers only (not "12", not true), inside what the database can compare.
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(value)
    return value


def _rank(value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(value)
    if not 0 <= value <= RANK_MAX:
        raise ValueError(value)
    return value


def _day(value) -> date:
    if not isinstance(value, str):
        raise TypeError(value)
    return date.fromisoformat(value)


def _position(day, pk) -> Position:
    return Position(day=_day(day), id=_int(pk, low=1, high=ID_MAX))


def cursor_decode(cursor: str) -> Position | SearchPosition:
    """The position a cursor names (a `Position` for the timeline, a `SearchPosition` for a search)."""
    if len(cursor) > CURSOR_MAX_LENGTH:
        raise _bad()
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        data = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise _bad() from exc
    if not isinstance(data, dict):
        raise _bad()
    try:
        if data.get("s") == 1:
            window = None
            if "w" in data:
                if not isinstance(data["w"], list) or len(data["w"]) != 2:
                    raise ValueError(data["w"])
                window = _position(*data["w"])
            after = None
            if "r" in data or "d" in data or "i" in data:
                spot = _position(data["d"], data["i"])
                after = (_rank(data["r"]), spot.day, spot.id)
            return SearchPosition(window=window, after=after)
        if set(data) != {"d", "i"}:
            raise KeyError("d")
        return _position(data["d"], data["i"])
    except (KeyError, TypeError, ValueError) as exc:
        raise _bad() from exc


def timeline_position(cursor: str | None) -> Position | None:
    if not cursor:
        return None
    position = cursor_decode(cursor)
    if not isinstance(position, Position):
        raise _bad("That cursor belongs to a search; start again.")
    return position


def search_position(cursor: str | None) -> SearchPosition | None:
    if not cursor:
        return None
    position = cursor_decode(cursor)
    if not isinstance(position, SearchPosition):
        raise _bad("That cursor belongs to a list without a search; start again.")
    return position
