"""Bringing entries in: a CSV file, a jrnl JSON export, or an AfterResume export ZIP.

Each import has two steps. `import_parse` reads and checks everything and reports every problem with its
row number; nothing is written. `import_commit` parses again, refuses if any row has a problem, and writes
all rows in one transaction, so an import is never half done. A workspace export (ZIP) goes only into an
empty workspace, where it reproduces the same log: entries, employers, projects, skills, tags, evidence.

CSV columns (header row required, UTF-8, comma- or semicolon-separated; only the first two are required):
    occurred_on (YYYY-MM-DD), title, body, impact, employer, project, skills (separated by ";"),
    tags (separated by ";"), confidential (true/false), outcome_pending (true/false),
    follow_up_on (YYYY-MM-DD, needed when outcome_pending is true),
    metric_value, metric_unit, metric_before, metric_after
"""

import csv
import io
import json
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import IO, Any

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from apps.accounts.models import Tenant
from apps.core.errors import Conflict, ValidationFailed
from apps.core.events import emit_event
from apps.worklog.models import Employer, Entry, Evidence, Project, Skill, Tag
from apps.worklog.porting.export import EXPORT_FORMAT, EXPORT_VERSION
from apps.worklog.porting.rows import (
    EMPLOYER_MAX,
    PROJECT_MAX,
    TAG_MAX,
    TITLE_MAX,
    EntryRow,
    Reference,
    RowError,
    clean_name,
    clean_tag,
    entries_write,
    entry_row_parse,
)
from apps.worklog.skills import MAX_SKILL_LENGTH, skill_normalise

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
TEXT_FILE_MAX_BYTES = 20 * 1024 * 1024
ZIP_MAX_BYTES = 1024 * 1024 * 1024
ZIP_MAX_UNPACKED_BYTES = 4 * 1024 * 1024 * 1024
ENTRIES_JSON_MAX_BYTES = 256 * 1024 * 1024
ROWS_MAX = 50_000
INLINE_ROWS_MAX = 2_000  # larger CSV and jrnl imports run as a background job
PREVIEW_ROWS = 20
JRNL_STARRED_TAG = "starred"

Progress = Callable[[int, int, str], None]


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
class ParsedImport:
    format: str
    rows: list[EntryRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    total: int = 0
    sample: list[PreviewRow] = field(default_factory=list)
    reference: Reference | None = None
    summary: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors and self.total > 0

    @property
    def error_rows(self) -> int:
        return len({error.row for error in self.errors})

    @property
    def runs_inline(self) -> bool:
        return self.format != "zip" and self.total <= INLINE_ROWS_MAX


# ------------------------------------------------------------------------------------------------ uploads


def import_upload_store(*, tenant, upload) -> str:
    """Keep an uploaded file privately between the preview and the confirmation; returns its name."""
    limit = (
        ZIP_MAX_BYTES if PurePosixPath(upload.name or "").suffix.lower() == ".zip" else TEXT_FILE_MAX_BYTES
    )
    if not upload.size:
        raise ImportRejected("The file is empty.", field="file")
    if upload.size > limit:
        raise ImportRejected(
            f"The file is {upload.size / 1024 / 1024:,.1f} MB; the limit is {limit // 1024 // 1024:,} MB.",
            field="file",
        )
    suffix = PurePosixPath(upload.name or "").suffix.lower()[:8]
    return default_storage.save(f"imports/{tenant.pk}/{uuid.uuid4().hex}{suffix}", upload)


def import_upload_open(*, tenant, name: str) -> File:
    if not name.startswith(f"imports/{tenant.pk}/"):
        raise ImportRejected("That upload does not belong to this workspace.")
    try:
        return default_storage.open(name, "rb")
    except FileNotFoundError as exc:
        raise ImportRejected("That upload is no longer here; please choose the file again.") from exc


def import_upload_discard(name: str) -> None:
    if name and name.startswith("imports/"):
        default_storage.delete(name)


# ----------------------------------------------------------------------------------------------- parsing


def _read_text(handle: IO[bytes]) -> str:
    data = handle.read(TEXT_FILE_MAX_BYTES + 1)
    if len(data) > TEXT_FILE_MAX_BYTES:
        raise ImportRejected(f"The file is larger than {TEXT_FILE_MAX_BYTES // 1024 // 1024} MB.")
    if not data.strip():
        raise ImportRejected("The file is empty.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRejected(
            "The file is not UTF-8 text. In a spreadsheet, save it as “CSV UTF-8” and upload it again."
        ) from exc


def _display(raw: dict[str, Any]) -> dict[str, str]:
    def show(value: Any) -> str:
        if isinstance(value, list):
            return "; ".join(str(item) for item in value)
        if isinstance(value, bool):
            return "yes" if value else ""
        return "" if value is None else str(value)

    return {name: show(raw.get(name))[:300] for name in CSV_COLUMNS}


def _collect(parsed: ParsedImport, number: int, raw: dict[str, Any], extra_errors=()) -> EntryRow | None:
    entry, errors = entry_row_parse(number, raw)
    errors = [*extra_errors, *errors]
    parsed.total += 1
    parsed.errors.extend(errors)
    if len(parsed.sample) < PREVIEW_ROWS:
        shown = _display(raw)
        if entry is not None and not errors:
            # What will be stored: skills by their normalised names, tags as they are kept.
            shown.update(skills=_display({"skills": [skill_normalise(s)[0] for s in entry.skills]})["skills"])
            shown.update(tags=_display({"tags": entry.tags})["tags"])
        parsed.sample.append(PreviewRow(number, shown, [f"{e.field}: {e.message}" for e in errors]))
    if entry is not None and not errors:
        parsed.rows.append(entry)
        return entry
    return None


def _collect_unreadable(parsed: ParsedImport, number: int, message: str) -> None:
    error = RowError(number, "entry", message)
    parsed.total += 1
    parsed.errors.append(error)
    if len(parsed.sample) < PREVIEW_ROWS:
        parsed.sample.append(PreviewRow(number, _display({}), [f"{error.field}: {error.message}"]))


def _too_many_rows(parsed: ParsedImport) -> None:
    if parsed.total >= ROWS_MAX:
        raise ImportRejected(f"The file has more than {ROWS_MAX:,} entries; split it into smaller files.")


def _csv_parse(handle: IO[bytes]) -> ParsedImport:
    text = _read_text(handle)
    first_line = text.splitlines()[0] if text else ""
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [column.strip().lower().replace(" ", "_") for column in next(reader)]
    except (StopIteration, csv.Error) as exc:
        raise ImportRejected("The file has no header row.") from exc
    unknown = [column for column in header if column and column not in CSV_COLUMNS]
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
    try:
        for number, values in enumerate(reader, start=2):
            if not any(value.strip() for value in values):
                continue
            _too_many_rows(parsed)
            extra = []
            if len(values) > len(header):
                extra.append(RowError(number, "row", f"{len(values)} values but only {len(header)} columns."))
            raw = {name: value for name, value in zip(header, values, strict=False) if name}
            _collect(parsed, number, raw, extra)
    except csv.Error as exc:
        raise ImportRejected(f"The CSV file cannot be read near row {reader.line_num}: {exc}.") from exc
    return parsed


def _jrnl_title(title: str, body: str) -> tuple[str, str]:
    """jrnl's title is the first sentence and can be long: shorten it and keep the whole in the body."""
    if len(title) <= TITLE_MAX:
        return title, body
    short = title[: TITLE_MAX - 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"
    return short, f"{title}\n\n{body}".strip()


def _jrnl_parse(handle: IO[bytes]) -> ParsedImport:
    text = _read_text(handle)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportRejected(
            f"This is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
        ) from exc
    if not isinstance(document, dict) or not isinstance(document.get("entries"), list):
        raise ImportRejected(
            "This JSON is not a jrnl export: expected an object with a list of “entries”, "
            "as written by `jrnl --format json`."
        )
    parsed = ParsedImport(format="jrnl")
    keyed: list[tuple[tuple, EntryRow]] = []
    for number, item in enumerate(document["entries"], start=1):
        _too_many_rows(parsed)
        if not isinstance(item, dict):
            _collect_unreadable(parsed, number, "is not an object with a date and a title.")
            continue
        title, body = item.get("title"), item.get("body")
        raw: dict[str, Any] = {"occurred_on": item.get("date"), "title": title, "body": body}
        if isinstance(title, str) and isinstance(body, str | None):
            raw["title"], raw["body"] = _jrnl_title(title.strip(), (body or "").strip())
        tags = item.get("tags") or []
        if isinstance(tags, list) and item.get("starred") is True:
            tags = [*tags, JRNL_STARRED_TAG]
        raw["tags"] = tags
        entry = _collect(parsed, number, raw)
        if entry is not None:
            keyed.append(((entry.occurred_on, str(item.get("time") or ""), number), entry))
    # Oldest first, so that entries of the same day keep jrnl's order in the timeline.
    parsed.rows = [entry for _key, entry in sorted(keyed, key=lambda pair: pair[0])]
    return parsed


def _zip_open(handle: IO[bytes]) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportRejected(
            "This file is not a ZIP archive. Choose the .zip file an export gave you."
        ) from exc
    if sum(info.file_size for info in archive.infolist()) > ZIP_MAX_UNPACKED_BYTES:
        raise ImportRejected("The archive unpacks to more than 4 GB, which is more than we accept.")
    return archive


def _zip_json(archive: zipfile.ZipFile, name: str) -> Any:
    try:
        info = archive.getinfo(name)
    except KeyError as exc:
        raise ImportRejected(
            f"The archive has no {name}, so it is not an AfterResume export. "
            "Choose the .zip file an export gave you."
        ) from exc
    if info.file_size > ENTRIES_JSON_MAX_BYTES:
        raise ImportRejected(f"{name} in the archive is too large to import.")
    try:
        return json.loads(archive.read(info).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, zipfile.BadZipFile, OSError) as exc:
        raise ImportRejected(f"{name} in the archive is damaged and cannot be read.") from exc


def _zip_reference(document: dict, errors: list[RowError]) -> Reference:
    reference = Reference()
    limits = {"employers": EMPLOYER_MAX, "projects": PROJECT_MAX, "skills": MAX_SKILL_LENGTH, "tags": TAG_MAX}
    for kind, limit in limits.items():
        items = document.get(kind, [])
        if not isinstance(items, list) or not all(
            isinstance(i, dict) and isinstance(i.get("name"), str) for i in items
        ):
            errors.append(RowError(0, kind, f"{kind} must be a list of objects with a name."))
            continue
        for item in items:
            name = clean_tag(item["name"]) if kind == "tags" else clean_name(item["name"])
            if not name or len(name) > limit:
                errors.append(RowError(0, kind, f"“{name[:40]}” is empty or longer than {limit} characters."))
            elif kind == "projects":
                employer = item.get("employer")
                reference.projects.append((name, clean_name(employer) if isinstance(employer, str) else ""))
            elif kind == "skills":
                key = item.get("key")
                valid_key = isinstance(key, str) and 0 < len(key) <= MAX_SKILL_LENGTH and key == key.strip()
                reference.skills.append((name, key if valid_key else ""))
            else:
                getattr(reference, kind).append(name)
    return reference


def _archive_paths(item: dict) -> list[str]:
    evidence = item.get("evidence")
    if not isinstance(evidence, list):
        return []
    return [
        e["path"]
        for e in evidence
        if isinstance(e, dict)
        and e.get("kind") == Evidence.Kind.FILE
        and isinstance(e.get("path"), str)
        and e["path"]
    ]


def _zip_parse(handle: IO[bytes]) -> tuple[ParsedImport, zipfile.ZipFile]:
    archive = _zip_open(handle)
    manifest = _zip_json(archive, "manifest.json")
    if not isinstance(manifest, dict) or manifest.get("format") != EXPORT_FORMAT:
        raise ImportRejected("This ZIP is not an AfterResume export (its manifest.json says otherwise).")
    if not isinstance(manifest.get("version"), int) or manifest["version"] > EXPORT_VERSION:
        raise ImportRejected("This export was made by a newer version of AfterResume than this one.")
    document = _zip_json(archive, "entries.json")
    if not isinstance(document, dict) or not isinstance(document.get("entries"), list):
        raise ImportRejected("entries.json in the archive has no list of entries.")
    parsed = ParsedImport(format="zip")
    parsed.reference = _zip_reference(document, parsed.errors)
    members = {info.filename: info for info in archive.infolist()}
    files = 0
    for number, item in enumerate(document["entries"], start=1):
        _too_many_rows(parsed)
        if not isinstance(item, dict):
            _collect_unreadable(parsed, number, "is not an object with a date and a title.")
            continue
        missing = [
            RowError(number, "evidence", f"{path} is not in the archive.")
            for path in _archive_paths(item)
            if path not in members or members[path].is_dir()
        ]
        entry = _collect(parsed, number, item, missing)
        for evidence in entry.evidence if entry else []:
            if evidence.kind == Evidence.Kind.FILE and evidence.path:
                evidence.size_bytes = members[evidence.path].file_size
                files += 1
    if parsed.errors:
        parsed.rows = []
    parsed.summary = {
        "entries": parsed.total,
        "evidence_files": files,
        **{
            kind: len(getattr(parsed.reference, kind)) for kind in ("employers", "projects", "skills", "tags")
        },
    }
    return parsed, archive


def import_parse(*, fmt: str, handle: IO[bytes]) -> ParsedImport:
    """Read and check a whole file; every problem is reported with its row number. Writes nothing."""
    if fmt == "csv":
        parsed = _csv_parse(handle)
    elif fmt == "jrnl":
        parsed = _jrnl_parse(handle)
    elif fmt == "zip":
        parsed, archive = _zip_parse(handle)
        archive.close()
    else:
        raise ImportRejected(f"Choose one of the formats: {', '.join(FORMATS.values())}.", field="format")
    if parsed.total == 0:
        raise ImportRejected("The file has no entries to import.")
    if fmt != "zip":
        parsed.summary = {"entries": parsed.total}
    return parsed


def workspace_is_empty(*, tenant) -> int:
    """0 when the workspace holds no worklog data at all; otherwise how many entries it has (at least 1)."""
    entries = Entry.objects.filter(tenant=tenant).count()
    if entries:
        return entries
    others = any(model.objects.filter(tenant=tenant).exists() for model in (Employer, Project, Skill, Tag))
    return 1 if others else 0


def import_preview(*, tenant, fmt: str, handle: IO[bytes]) -> ParsedImport:
    parsed = import_parse(fmt=fmt, handle=handle)
    if fmt == "zip" and (count := workspace_is_empty(tenant=tenant)):
        raise WorkspaceNotEmpty(count)
    return parsed


# ------------------------------------------------------------------------------------------------ commit


def _copy_evidence_files(*, tenant, archive: zipfile.ZipFile, rows: list[EntryRow], progress) -> list[str]:
    """Copy the archive's evidence files into storage (fresh random names); returns the names stored."""
    items = [item for row in rows for item in row.evidence if item.kind == Evidence.Kind.FILE and item.path]
    stored: list[str] = []
    field_file = Evidence._meta.get_field("file")
    try:
        for done, item in enumerate(items, start=1):
            name = field_file.generate_filename(Evidence(tenant=tenant), item.original_name or "file")
            with archive.open(item.path) as source:
                item.stored_name = field_file.storage.save(name, File(source, name=name))
            stored.append(item.stored_name)
            if progress and (done % 20 == 0 or done == len(items)):
                progress(done, len(items), "Copying evidence files")
    except BaseException:
        _discard(stored)
        raise
    return stored


def _discard(names: list[str]) -> None:
    storage = Evidence._meta.get_field("file").storage
    for name in names:
        storage.delete(name)


def import_commit(*, tenant, user, fmt: str, handle: IO[bytes], progress: Progress | None = None) -> dict:
    """Import the file: all rows in one transaction, or nothing (with the reason) when anything is wrong."""
    if progress:
        progress(0, 0, "Checking the file")
    archive = None
    if fmt == "zip":
        parsed, archive = _zip_parse(handle)
    else:
        parsed = import_parse(fmt=fmt, handle=handle)
    if parsed.errors:
        raise ImportHasErrors(len(parsed.errors))
    if parsed.total == 0:
        raise ImportRejected("The file has no entries to import.")
    stored: list[str] = []
    try:
        if archive is not None:
            if count := workspace_is_empty(tenant=tenant):
                raise WorkspaceNotEmpty(count)
            stored = _copy_evidence_files(tenant=tenant, archive=archive, rows=parsed.rows, progress=progress)
        if progress:
            progress(0, 0, f"Saving {len(parsed.rows):,} entries")
        with transaction.atomic():
            # One import per workspace at a time; the emptiness check is repeated under the lock.
            Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
            if fmt == "zip" and (count := workspace_is_empty(tenant=tenant)):
                raise WorkspaceNotEmpty(count)
            counts = entries_write(
                tenant=tenant,
                author=user,
                rows=parsed.rows,
                reference=parsed.reference,
                keep_timestamps=fmt == "zip",
            )
            emit_event("worklog.imported", tenant=tenant, actor=user, format=fmt, **counts)
    except IntegrityError as exc:
        _discard(stored)
        raise Conflict(
            "The workspace changed while the import was running (something with the same name was added). "
            "Nothing was imported; please try again."
        ) from exc
    except BaseException:
        _discard(stored)
        raise
    finally:
        if archive is not None:
            archive.close()
    return counts
