"""What reading an import file produces, whatever its format: checked rows, every problem with its row
number, a sample for the preview, and the original values of the rows that cannot be imported.

`Preview` is the part a person sees and confirms. It is plain data (`to_json`/`from_json`), so a preview
made in a background job is stored on the job and shown exactly like one made in the request.
"""

from dataclasses import dataclass, field
from typing import Any

from apps.core.errors import Conflict, ValidationFailed
from apps.worklog.porting.rows import EntryRow, Reference, RowError, entry_row_parse, shown
from apps.worklog.skills import skill_normalise

FORMATS = {
    "csv": "CSV spreadsheet (.csv)",
    "jrnl": "jrnl JSON export (.json)",
    "zip": "AfterResume export (.zip)",
}
CSV_COLUMNS = (
    "occurred_on",
    "title",
    "body",
    "impact",
    "employer",
    "project",
    "skills",
    "tags",
    "confidential",
    "outcome_pending",
    "follow_up_on",
    "metric_value",
    "metric_unit",
    "metric_before",
    "metric_after",
)
CSV_REQUIRED = ("occurred_on", "title")
ROWS_MAX = 50_000
PREVIEW_ROWS = 20
ERRORS_SHOWN = 500
SHOWN_CELL = 300  # characters of a cell in the preview table (the whole cell is its tooltip up to here)


class ImportRejected(ValidationFailed):
    """The file as a whole cannot be read (wrong type, too big, not the format chosen)."""


class ImportHasErrors(ValidationFailed):
    def __init__(self, count: int):
        super().__init__(
            f"{count} problem{'s' if count != 1 else ''} found in the file; nothing was imported. "
            "Fix the rows listed and upload the file again.",
            extra={"errors": count},
        )


class WorkspaceNotEmpty(Conflict):
    def __init__(self, entries: int):
        super().__init__(
            f"This workspace already has {entries:,} entr{'y' if entries == 1 else 'ies'} or other data. "
            "An AfterResume export can only be imported into an empty workspace, so that nothing is "
            "duplicated or mixed up. To add entries to this log, import a CSV file instead.",
            extra={"entries": entries},
        )


@dataclass
class PreviewRow:
    row: int
    values: dict[str, str]
    errors: list[str]


@dataclass
class SkippedRow:
    row: int
    values: dict[str, str]  # the row as it was in the file, for the CSV of skipped rows
    errors: list[str]


@dataclass
class ParsedImport:
    format: str
    rows: list[EntryRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    total: int = 0
    sample: list[PreviewRow] = field(default_factory=list)
    reference: Reference | None = None
    summary: dict[str, int] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)  # of the skipped-rows CSV
    skipped: list[SkippedRow] = field(default_factory=list)
    keep_skipped: bool = True

    @property
    def ok(self) -> bool:
        return not self.errors and self.total > 0

    @property
    def bad_rows(self) -> int:
        return len({error.row for error in self.errors if error.row})


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(shown(item, SHOWN_CELL) for item in value if isinstance(item, str))
    if isinstance(value, bool):
        return "yes" if value else ""
    return "" if value is None else shown(value, SHOWN_CELL)


def display(raw: dict[str, Any]) -> dict[str, str]:
    return {name: _show(raw.get(name))[:SHOWN_CELL] for name in CSV_COLUMNS}


def row_collect(
    parsed: ParsedImport,
    number: int,
    raw: dict[str, Any],
    *,
    today,
    extra_errors=(),
    original: dict[str, str] | None = None,
) -> EntryRow | None:
    """Check one row and record the outcome: a row to write, or its problems (and its original values)."""
    entry, errors = entry_row_parse(number, raw, today=today)
    errors = [*extra_errors, *errors]
    parsed.total += 1
    parsed.errors.extend(errors)
    messages = [f"{e.field}: {e.message}" for e in errors]
    if len(parsed.sample) < PREVIEW_ROWS:
        values = display(raw)
        if entry is not None and not errors:
            # What will be stored: skills by their normalised names, tags as they are kept.
            values.update(skills=_show([skill_normalise(s)[0] for s in entry.skills]), tags=_show(entry.tags))
        parsed.sample.append(PreviewRow(number, values, messages))
    if entry is not None and not errors:
        parsed.rows.append(entry)
        return entry
    if parsed.keep_skipped:
        parsed.skipped.append(
            SkippedRow(number, original if original is not None else display(raw), messages)
        )
    return None


def row_unreadable(parsed: ParsedImport, number: int, message: str, original: dict[str, str]) -> None:
    error = RowError(number, "entry", message)
    parsed.total += 1
    parsed.errors.append(error)
    messages = [f"{error.field}: {error.message}"]
    if len(parsed.sample) < PREVIEW_ROWS:
        parsed.sample.append(PreviewRow(number, display({}), messages))
    if parsed.keep_skipped:
        parsed.skipped.append(SkippedRow(number, original, messages))


def rows_limit(parsed: ParsedImport) -> None:
    if parsed.total >= ROWS_MAX:
        raise ImportRejected(f"The file has more than {ROWS_MAX:,} entries; split it into smaller files.")


@dataclass
class Preview:
    """What the person sees before confirming: counts, the first problems, a sample of rows."""

    format: str
    total: int
    good: int
    bad: int
    error_count: int
    errors: list[RowError]
    sample: list[PreviewRow]
    summary: dict[str, int]
    file_errors: bool = False  # a problem with the file as a whole (row 0), not with one row

    @classmethod
    def from_parsed(cls, parsed: ParsedImport) -> "Preview":
        bad = parsed.bad_rows
        return cls(
            format=parsed.format,
            total=parsed.total,
            good=parsed.total - bad,
            bad=bad,
            error_count=len(parsed.errors),
            errors=parsed.errors[:ERRORS_SHOWN],
            sample=parsed.sample,
            summary=parsed.summary,
            file_errors=any(not error.row for error in parsed.errors),
        )

    @property
    def ok(self) -> bool:
        return self.error_count == 0 and self.total > 0

    @property
    def can_skip(self) -> bool:
        """Import the good rows and skip the bad ones: CSV and jrnl only (a workspace is restored whole)."""
        return self.format != "zip" and self.error_count > 0 and self.good > 0 and not self.file_errors

    @property
    def confirmable(self) -> bool:
        return self.ok or self.can_skip

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "total": self.total,
            "good": self.good,
            "bad": self.bad,
            "error_count": self.error_count,
            "errors": [[e.row, e.field, e.message] for e in self.errors],
            "sample": [[r.row, r.values, r.errors] for r in self.sample],
            "summary": self.summary,
            "file_errors": self.file_errors,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Preview":
        return cls(
            format=data["format"],
            total=data["total"],
            good=data["good"],
            bad=data["bad"],
            error_count=data["error_count"],
            errors=[RowError(*item) for item in data["errors"]],
            sample=[PreviewRow(*item) for item in data["sample"]],
            summary=data["summary"],
            file_errors=data.get("file_errors", False),
        )
