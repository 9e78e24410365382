"""Bringing entries in: a CSV file, a jrnl JSON export, or an AfterResume export ZIP.

An import has two steps, a preview and a commit, and the uploaded file is kept privately between them.

The request that receives the file makes only the cheap checks (`import_start`): the size, and for a ZIP
that the workspace is empty and what the archive's directory and small manifest say. A small CSV or jrnl
file (up to INLINE_BYTES_MAX) is then checked at once; every ZIP and every larger file is checked by a
background job (`apps.worklog.tasks.worklog_import_preview`) whose result is the same `Preview`.

`import_commit` reads the file again and writes in one transaction. It refuses when any row has a problem,
unless the person chose to import the good rows and skip the bad ones (`skip_bad`, CSV and jrnl only; a
workspace export is restored whole or not at all). The bad rows can be downloaded as a CSV with an `errors`
column (`skipped_rows_write`), fixed, and imported again.

CSV columns (header row required, UTF-8, comma- or semicolon-separated; only the first two are required):
    occurred_on (YYYY-MM-DD), title, body, impact, employer, project, skills (separated by ";"),
    tags (separated by ";"), confidential (true/false), outcome_pending (true/false),
    follow_up_on (YYYY-MM-DD, needed when outcome_pending is true),
    metric_value, metric_unit, metric_before, metric_after
"""

import csv
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePosixPath
from typing import IO

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import Tenant
from apps.core.csv_safety import csv_text
from apps.core.errors import Conflict
from apps.core.events import emit_event
from apps.worklog import services
from apps.worklog.porting.parsed import (
    CSV_COLUMNS,
    CSV_REQUIRED,
    ERRORS_SHOWN,
    FORMATS,
    ImportHasErrors,
    ImportRejected,
    ParsedImport,
    Preview,
    WorkspaceNotEmpty,
)
from apps.worklog.porting.rows import entries_write
from apps.worklog.porting.textfiles import TEXT_FILE_MAX_BYTES, csv_parse, jrnl_parse
from apps.worklog.porting.workspace_zip import (
    ZIP_MAX_BYTES,
    evidence_files_copy,
    stored_files_discard,
    workspace_is_empty,
    zip_parse,
    zip_precheck,
)

__all__ = [
    "CSV_COLUMNS",
    "CSV_REQUIRED",
    "ERRORS_SHOWN",
    "FORMATS",
    "INLINE_BYTES_MAX",
    "INLINE_ROWS_MAX",
    "ImportHasErrors",
    "ImportRejected",
    "Preview",
    "WorkspaceNotEmpty",
    "import_commit",
    "import_parse",
    "import_preview",
    "import_start",
    "import_upload_discard",
    "import_upload_open",
    "skipped_rows_write",
]

INLINE_BYTES_MAX = 1024 * 1024  # larger CSV and jrnl files are checked in a job, never in the request
INLINE_ROWS_MAX = 2_000  # larger CSV and jrnl imports are written by a job
UPLOADS_KEPT_FOR = timedelta(days=1)  # an upload nobody confirmed or cancelled is removed after this

Progress = Callable[[int, int, str], None]


# ------------------------------------------------------------------------------------------------ uploads


def _uploads_sweep(tenant) -> None:
    """Remove this workspace's uploads that were checked but never confirmed nor cancelled."""
    folder = f"imports/{tenant.pk}"
    try:
        _folders, names = default_storage.listdir(folder)
    except (FileNotFoundError, NotImplementedError):
        return
    cutoff = timezone.now() - UPLOADS_KEPT_FOR
    for name in names:
        try:
            if default_storage.get_modified_time(f"{folder}/{name}") < cutoff:
                default_storage.delete(f"{folder}/{name}")
        except (FileNotFoundError, NotImplementedError):
            continue


def import_upload_store(*, tenant, upload) -> str:
    """Keep an uploaded file privately between the preview and the confirmation; returns its name."""
    suffix = PurePosixPath(upload.name or "").suffix.lower()
    limit = ZIP_MAX_BYTES if suffix == ".zip" else TEXT_FILE_MAX_BYTES
    if not upload.size:
        raise ImportRejected("The file is empty.", field="file")
    if upload.size > limit:
        raise ImportRejected(
            f"The file is {upload.size / 1024 / 1024:,.1f} MB; the limit is {limit // 1024 // 1024:,} MB.",
            field="file",
        )
    _uploads_sweep(tenant)
    safe_suffix = suffix if suffix in (".csv", ".json", ".zip", ".txt") else ""
    return default_storage.save(f"imports/{tenant.pk}/{uuid.uuid4().hex}{safe_suffix}", upload)


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


# ----------------------------------------------------------------------------------------------- checking


def import_parse(
    *, fmt: str, handle: IO[bytes], today, check_files: bool = True, progress: Progress | None = None
) -> ParsedImport:
    """Read and check a whole file; every problem is reported with its row number. Writes nothing."""
    if fmt == "csv":
        parsed = csv_parse(handle, today=today)
    elif fmt == "jrnl":
        parsed = jrnl_parse(handle, today=today)
    elif fmt == "zip":
        parsed, _outline = zip_parse(handle, today=today, check_files=check_files, progress=progress)
    else:
        raise ImportRejected(f"Choose one of the formats: {', '.join(FORMATS.values())}.", field="format")
    if parsed.total == 0:
        raise ImportRejected("The file has no entries to import.")
    if fmt != "zip":
        parsed.summary = {"entries": parsed.total}
    return parsed


def _refuse_unless_empty(tenant) -> None:
    if count := workspace_is_empty(tenant=tenant):
        raise WorkspaceNotEmpty(count)


def import_preview(
    *, tenant, user, fmt: str, handle: IO[bytes], progress: Progress | None = None
) -> ParsedImport:
    """The full check behind a preview (dates by the person's own day), evidence files included."""
    if fmt == "zip":
        _refuse_unless_empty(tenant)
    return import_parse(
        fmt=fmt, handle=handle, today=services._today_for(user), check_files=True, progress=progress
    )


def import_runs_as_job(*, fmt: str, size: int, total: int = 0) -> bool:
    return fmt == "zip" or size > INLINE_BYTES_MAX or total > INLINE_ROWS_MAX


@dataclass
class ImportStart:
    name: str  # the upload, kept in storage
    parsed: ParsedImport | None  # the check made at once, or None when a job is to make it


def import_start(*, tenant, user, fmt: str, upload) -> ImportStart:
    """Keep the upload and make the cheap checks; a small text file is checked fully here and now.

    Raises ImportRejected / WorkspaceNotEmpty for a file refused as a whole. On every failure, and when
    nothing in a file checked here can be imported, the upload is removed again.
    """
    if fmt not in FORMATS:
        raise ImportRejected(f"Choose one of the formats: {', '.join(FORMATS.values())}.", field="format")
    name = import_upload_store(tenant=tenant, upload=upload)
    try:
        parsed = None
        with import_upload_open(tenant=tenant, name=name) as handle:
            if fmt == "zip":
                _refuse_unless_empty(tenant)
                zip_precheck(handle)
            elif not import_runs_as_job(fmt=fmt, size=upload.size):
                parsed = import_preview(tenant=tenant, user=user, fmt=fmt, handle=handle)
    except BaseException:
        import_upload_discard(name)
        raise
    if parsed is not None and not Preview.from_parsed(parsed).confirmable:
        import_upload_discard(name)
    return ImportStart(name=name, parsed=parsed)


# ------------------------------------------------------------------------------------------------ commit


def import_commit(
    *,
    tenant,
    user,
    fmt: str,
    handle: IO[bytes],
    skip_bad: bool = False,
    expect_good: int | None = None,
    progress: Progress | None = None,
) -> dict:
    """Import the file in one transaction: every row, or (with `skip_bad`) every good row, or nothing.

    `expect_good` is the number of good rows the preview showed; a file that reads differently now is
    refused rather than imported in a way the person did not see.
    """
    if progress:
        progress(0, 0, "Checking the file")
    today = services._today_for(user)
    outline = None
    if fmt == "zip":
        _refuse_unless_empty(tenant)
        parsed, outline = zip_parse(handle, today=today, check_files=False, progress=progress)
        if parsed.total == 0:
            raise ImportRejected("The file has no entries to import.")
    else:
        parsed = import_parse(fmt=fmt, handle=handle, today=today)
    if parsed.errors and not (skip_bad and Preview.from_parsed(parsed).can_skip):
        raise ImportHasErrors(len(parsed.errors))
    if expect_good is not None and len(parsed.rows) != expect_good:
        raise Conflict(
            f"The file now has {len(parsed.rows):,} rows that can be imported, not {expect_good:,} as "
            "checked; nothing was imported. Choose the file again to check it."
        )
    stored: list[str] = []
    try:
        if outline is not None:
            stored = evidence_files_copy(
                tenant=tenant, handle=handle, outline=outline, rows=parsed.rows, progress=progress
            )
        if progress:
            progress(0, 0, f"Saving {len(parsed.rows):,} entries")
        with transaction.atomic():
            # One import per workspace at a time; the emptiness check is repeated under the lock.
            Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
            if fmt == "zip":
                _refuse_unless_empty(tenant)
            counts = entries_write(
                tenant=tenant,
                author=user,
                rows=parsed.rows,
                reference=parsed.reference,
                keep_timestamps=fmt == "zip",
            )
            counts["skipped"] = parsed.bad_rows
            emit_event("worklog.imported", tenant=tenant, actor=user, format=fmt, **counts)
    except IntegrityError as exc:
        stored_files_discard(stored)
        raise Conflict(
            "The workspace changed while the import was running (something with the same name was added). "
            "Nothing was imported; please try again."
        ) from exc
    except BaseException:
        stored_files_discard(stored)
        raise
    return counts


# ----------------------------------------------------------------------------------------- skipped rows


def skipped_rows_write(parsed: ParsedImport, target: IO[str]) -> int:
    """The rows that cannot be imported, as they were, with an `errors` column; returns how many.

    Every cell is text from the person's file, so every cell goes through `csv_text`: a spreadsheet opening
    it runs no formula. Importing this file (fixed) again takes the `'` off and ignores `errors`.
    """
    writer = csv.writer(target, lineterminator="\r\n")
    columns = parsed.columns or [*CSV_COLUMNS, "errors"]
    writer.writerow([csv_text(column) for column in columns])
    for row in parsed.skipped:
        cells = [row.values.get(column, "") for column in columns[:-1]]
        writer.writerow([csv_text(cell) for cell in [*cells, "; ".join(row.errors)]])
    return len(parsed.skipped)


def import_skipped_rows(*, tenant, user, fmt: str, name: str, target: IO[str]) -> int:
    """Write the skipped rows of a kept upload that was checked in the request (a small file)."""
    with import_upload_open(tenant=tenant, name=name) as handle:
        if import_runs_as_job(fmt=fmt, size=handle.size):
            raise ImportRejected("This file was checked in the background; download its rows from the check.")
        parsed = import_parse(fmt=fmt, handle=handle, today=services._today_for(user))
    return skipped_rows_write(parsed, target)
