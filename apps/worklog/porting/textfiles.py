"""Reading the text formats: a CSV spreadsheet and a jrnl JSON export.

CSV is read as a stream (one row at a time, decoded as it goes); a jrnl export is one JSON document, read
only after its size has been bounded (TEXT_FILE_MAX_BYTES; inline in the request only below the inline
limit, otherwise in a job). A document nested too deeply, a number too long to read or a text that is not
UTF-8 is a clear rejection, never a crash.
"""

import csv
import io
import itertools
import json
from typing import IO, Any

from apps.core.csv_safety import FORMULA_PREFIXES
from apps.worklog.porting.parsed import (
    CSV_COLUMNS,
    CSV_REQUIRED,
    ImportRejected,
    ParsedImport,
    row_collect,
    row_unreadable,
    rows_limit,
)
from apps.worklog.porting.rows import TITLE_MAX, EntryRow, RowError, shown

TEXT_FILE_MAX_BYTES = 20 * 1024 * 1024
ERRORS_COLUMN = "errors"  # of a skipped-rows CSV: accepted and ignored, so the fixed file imports again
JRNL_STARRED_TAG = "starred"
JRNL_COLUMNS = ["occurred_on", "title", "body", "tags"]
NOT_UTF8 = "The file is not UTF-8 text. In a spreadsheet, save it as “CSV UTF-8” and upload it again."


def _unquote(cell: str) -> str:
    # Our CSV downloads put a ' before a cell a spreadsheet would run as a formula; take it off again.
    return cell[1:] if cell[:1] == "'" and cell[1:2] and cell[1:2] in FORMULA_PREFIXES else cell


def _original(value: Any) -> str:
    """A cell of the skipped-rows CSV: the value as it was, with what cannot be stored made visible."""
    if isinstance(value, list):
        return "; ".join(_original(item) for item in value)
    return shown(value, 10_000) if value is not None else ""


def csv_parse(handle: IO[bytes], *, today) -> ParsedImport:
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
    try:
        return _csv_rows(text, today=today)
    except UnicodeDecodeError as exc:
        raise ImportRejected(NOT_UTF8) from exc
    finally:
        text.detach()  # the caller closes its own file


def _first_line(text: io.TextIOWrapper) -> str:
    first_line = text.readline()
    if not first_line.strip():
        if not text.read(4096).strip():
            raise ImportRejected("The file is empty.")
        raise ImportRejected("The file has no header row; the first line is empty.")
    return first_line


def _csv_rows(text: io.TextIOWrapper, *, today) -> ParsedImport:
    first_line = _first_line(text)
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(itertools.chain([first_line], text), delimiter=delimiter)
    try:
        given = [column.strip() for column in next(reader)]
    except (StopIteration, csv.Error) as exc:
        raise ImportRejected("The file has no header row.") from exc
    header = [column.lower().replace(" ", "_") for column in given]
    known = (*CSV_COLUMNS, ERRORS_COLUMN)
    unknown = [shown(column, 40) for column in header if column and column not in known]
    missing = [column for column in CSV_REQUIRED if column not in header]
    if unknown or missing or len(set(header)) != len(header):
        problems = []
        if missing:
            problems.append("missing column" + ("s " if len(missing) > 1 else " ") + ", ".join(missing))
        if unknown:
            problems.append("unknown column" + ("s " if len(unknown) > 1 else " ") + ", ".join(unknown))
        if len(set(header)) != len(header):
            problems.append("a column appears twice")
        raise ImportRejected(
            f"The header row has {'; '.join(problems)}. The columns are: {', '.join(CSV_COLUMNS)} "
            f"(only {' and '.join(CSV_REQUIRED)} are required)."
        )
    parsed = ParsedImport(format="csv")
    parsed.columns = [name for name, key in zip(given, header, strict=True) if key != ERRORS_COLUMN]
    parsed.columns.append(ERRORS_COLUMN)
    try:
        for number, values in enumerate(reader, start=2):
            if not any(value.strip() for value in values):
                continue
            rows_limit(parsed)
            extra = []
            if len(values) > len(header):
                extra.append(RowError(number, "row", f"{len(values)} values but only {len(header)} columns."))
            cells = [_unquote(value) for value in values]
            raw = {
                key: value for key, value in zip(header, cells, strict=False) if key and key != ERRORS_COLUMN
            }
            original = {
                name: _original(value)
                for name, key, value in zip(given, header, values, strict=False)
                if key != ERRORS_COLUMN
            }
            row_collect(parsed, number, raw, today=today, extra_errors=extra, original=original)
    except csv.Error as exc:
        raise ImportRejected(f"The CSV file cannot be read near row {reader.line_num}: {exc}.") from exc
    except UnicodeDecodeError as exc:
        raise ImportRejected(f"{NOT_UTF8} (The first problem is near row {reader.line_num + 1}.)") from exc
    return parsed


def read_bounded(handle: IO[bytes], limit: int = TEXT_FILE_MAX_BYTES) -> bytes:
    data = handle.read(limit + 1)
    if len(data) > limit:
        raise ImportRejected(f"The file is larger than {limit // 1024 // 1024} MB.")
    if not data.strip():
        raise ImportRejected("The file is empty.")
    return data


def json_document(data: bytes, *, what: str) -> Any:
    """Parse JSON text whose size the caller has already bounded; every failure is an ImportRejected."""
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ImportRejected(f"{what} is not UTF-8 text.") from exc
    except json.JSONDecodeError as exc:
        raise ImportRejected(
            f"{what} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
        ) from exc
    except RecursionError as exc:
        raise ImportRejected(
            f"{what} is nested too deeply to be read (lists inside lists, hundreds deep)."
        ) from exc
    except ValueError as exc:  # e.g. an integer with thousands of digits
        raise ImportRejected(f"{what} cannot be read: {shown(str(exc), 120)}.") from exc


def _jrnl_title(title: str, body: str) -> tuple[str, str]:
    """jrnl's title is the first sentence and can be long: shorten it and keep the whole in the body."""
    if len(title) <= TITLE_MAX:
        return title, body
    short = title[: TITLE_MAX - 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"
    return short, f"{title}\n\n{body}".strip()


def jrnl_parse(handle: IO[bytes], *, today) -> ParsedImport:
    document = json_document(read_bounded(handle), what="This")
    if not isinstance(document, dict) or not isinstance(document.get("entries"), list):
        raise ImportRejected(
            "This JSON is not a jrnl export: expected an object with a list of “entries”, "
            "as written by `jrnl --format json`."
        )
    parsed = ParsedImport(format="jrnl", columns=[*JRNL_COLUMNS, ERRORS_COLUMN])
    keyed: list[tuple[tuple, EntryRow]] = []
    for number, item in enumerate(document["entries"], start=1):
        rows_limit(parsed)
        if not isinstance(item, dict):
            row_unreadable(
                parsed, number, "is not an object with a date and a title.", {"title": _original(item)}
            )
            continue
        title, body = item.get("title"), item.get("body")
        raw: dict[str, Any] = {"occurred_on": item.get("date"), "title": title, "body": body}
        if isinstance(title, str) and isinstance(body, str | None):
            raw["title"], raw["body"] = _jrnl_title(title.strip(), (body or "").strip())
        tags = item.get("tags") or []
        if isinstance(tags, list) and item.get("starred") is True:
            tags = [*tags, JRNL_STARRED_TAG]
        raw["tags"] = tags
        original = {
            "occurred_on": _original(item.get("date")),
            "title": _original(title),
            "body": _original(body),
            "tags": _original(tags),
        }
        entry = row_collect(parsed, number, raw, today=today, original=original)
        if entry is not None:
            time = item.get("time")
            keyed.append(((entry.occurred_on, time if isinstance(time, str) else "", number), entry))
    # Oldest first, so that entries of the same day keep jrnl's order in the timeline.
    parsed.rows = [entry for _key, entry in sorted(keyed, key=lambda pair: pair[0])]
    return parsed
