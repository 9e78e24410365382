"""django-q2 jobs for the work log. Each takes a job id, calls one porting service and reports progress.

`job_run` claims the job first, so a task delivered twice does the work once. An import's uploaded file is
the job's input: the preview job keeps it for the confirmation when there is something to import, and
removes it on every other outcome (nothing importable, a refused file, any failure); the import job
removes it once it has finished, either way.
"""

import io
import math
import tempfile

from django.conf import settings
from django.core.files import File
from django.db.models import Sum
from django.dispatch import receiver
from django.utils import timezone
from django.utils.text import slugify

from apps.core.filenames import filename_clean
from apps.core.jobs import (
    JobCancelled,
    job_cancelled,
    job_enqueue,
    job_input_discard,
    job_progress,
    job_result_prune,
    job_run,
    job_succeed,
)
from apps.core.models import Job
from apps.worklog.models import Entry, Evidence
from apps.worklog.porting.export import workspace_export_write
from apps.worklog.porting.importers import (
    Preview,
    import_commit,
    import_preview,
    import_upload_open,
    skipped_rows_write,
)

EXPORT_KIND = "worklog.export"
IMPORT_KIND = "worklog.import"
PREVIEW_KIND = "worklog.import_preview"
EXPORTS_KEPT = 3
# The export job's time limit grows with the workspace instead of stopping at Q_TIMEOUT: a fixed allowance,
# plus a per-entry and a per-byte allowance of evidence, each about five times what bench/worklog.py
# measures on a 2-core machine (export: about 0.4 ms an entry, files at well over 50 MB/s).
EXPORT_TIMEOUT_BASE = 120
EXPORT_SECONDS_PER_ENTRY = 0.002
EXPORT_BYTES_PER_SECOND = 10 * 1024 * 1024


def _plural(count: int, word: str, plural: str = "") -> str:
    return f"{count:,} {word if count == 1 else plural or word + 's'}"


def export_timeout(*, tenant) -> int:
    """Seconds the export of this workspace may take: never less than the queue's own limit."""
    entries = Entry.objects.filter(tenant=tenant, deleted_at__isnull=True).count()
    stored = Evidence.objects.filter(tenant=tenant, kind=Evidence.Kind.FILE).aggregate(n=Sum("size_bytes"))[
        "n"
    ]
    sized = EXPORT_TIMEOUT_BASE + entries * EXPORT_SECONDS_PER_ENTRY + (stored or 0) / EXPORT_BYTES_PER_SECOND
    return max(int(settings.Q_CLUSTER.get("timeout") or 300), math.ceil(sized))


def worklog_export_enqueue(*, tenant, user, label: str, next_url: str) -> Job:
    """Queue the workspace's export with a time limit sized from it (django-q2's per-task `timeout`; the job
    keeps it, so a retry gets it too and a running export is not taken for a stuck one before it)."""
    return job_enqueue(
        kind=EXPORT_KIND,
        tenant=tenant,
        user=user,
        func_path="apps.worklog.tasks.worklog_export",
        label=label,
        next_url=next_url,
        timeout=export_timeout(tenant=tenant),
    )


def worklog_export(job_id: int) -> None:
    def work(job: Job) -> None:
        job_progress(job, 0, 0, step="Collecting entries and evidence")
        with tempfile.TemporaryFile(suffix=".zip") as target:
            counts = workspace_export_write(
                tenant=job.tenant,
                target=target,
                on_progress=lambda done, total: job_progress(job, done, total, step="Packing your log"),
            )
            target.seek(0)
            stamp = timezone.localdate().isoformat()
            name = f"afterresume-{slugify(job.tenant.name) or 'workspace'}-{stamp}.zip"
            lines = [
                f"{_plural(counts['entries'], 'entry', 'entries')}, "
                f"{_plural(counts['evidence_files'], 'evidence file')}, "
                f"{_plural(counts['evidence_links'], 'link')}",
                f"{_plural(counts['employers'], 'employer')}, {_plural(counts['projects'], 'project')}, "
                f"{_plural(counts['skills'], 'skill')}, {_plural(counts['tags'], 'tag')}",
            ]
            job_succeed(
                job,
                summary={"counts": counts, "lines": lines},
                result=File(target, name=name),
                result_name=name,
                content_type="application/zip",
            )
        job_result_prune(tenant=job.tenant, kind=EXPORT_KIND, keep=EXPORTS_KEPT)

    job_run(job_id, work)


def import_summary_lines(counts: dict) -> list[str]:
    imported = f"Imported {_plural(counts['entries'], 'entry', 'entries')}"
    if counts.get("evidence"):
        imported += f" and {_plural(counts['evidence'], 'piece')} of evidence"
    lines = [imported + "."]
    if counts.get("skipped"):
        lines.append(f"Skipped {_plural(counts['skipped'], 'row')} with problems, as you chose.")
    lines.append(
        f"New: {_plural(counts['employers'], 'employer')}, {_plural(counts['projects'], 'project')}, "
        f"{_plural(counts['skills'], 'skill')}, {_plural(counts['tags'], 'tag')}."
    )
    return lines


def _reporter(job: Job):
    """A progress callback that also stops the work once the job was cancelled."""

    def report(done: int, total: int, step: str) -> None:
        if not job_progress(job, done, total, step=step):
            raise JobCancelled(f"job {job.pk} is no longer running")

    return report


def _input_discard_unless_kept(job_id: int) -> None:
    """After a run: an import's upload is kept only by a check that succeeded with something to import."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None or not job.input_file:
        return
    if job.kind == PREVIEW_KIND and job.status == Job.Status.SUCCEEDED:
        return
    if job.is_finished:
        job_input_discard(job)


@receiver(job_cancelled)
def _import_cancelled(sender, job: Job, **kwargs) -> None:
    # A cancelled check or import keeps nothing of the person's file.
    if job.kind in (PREVIEW_KIND, IMPORT_KIND):
        job_input_discard(job)


def worklog_import(job_id: int, fmt: str, skip_bad: bool = False, expect_good: int | None = None) -> None:
    def work(job: Job) -> None:
        try:
            with import_upload_open(tenant=job.tenant, name=job.input_file.name) as handle:
                counts = import_commit(
                    tenant=job.tenant,
                    user=job.created_by,
                    fmt=fmt,
                    handle=handle,
                    skip_bad=skip_bad,
                    expect_good=expect_good,
                    progress=_reporter(job),
                )
        finally:
            # Finished either way: a failed import is fixed and uploaded again, not retried.
            job_input_discard(job)
        job_succeed(
            job,
            summary={"counts": counts, "lines": import_summary_lines(counts), "next_label": "Open your log"},
        )

    job_run(job_id, work)


def skipped_rows_name(filename: str) -> str:
    stem = filename_clean(filename, default="import").rsplit(".", 1)[0][:120] or "import"
    return f"{stem}-skipped-rows.csv"


def worklog_import_preview(job_id: int, fmt: str, filename: str = "") -> None:
    """Check an uploaded file in the background; the job's summary holds the preview to confirm."""

    def work(job: Job) -> None:
        try:
            _reporter(job)(0, 0, "Reading the file")
            with import_upload_open(tenant=job.tenant, name=job.input_file.name) as handle:
                parsed = import_preview(
                    tenant=job.tenant,
                    user=job.created_by,
                    fmt=fmt,
                    handle=handle,
                    progress=_reporter(job),
                )
            preview = Preview.from_parsed(parsed)
            if not preview.confirmable:
                job_input_discard(job)  # nothing can be imported from it: it is not kept
            summary = {
                "preview": preview.to_json(),
                "lines": _preview_lines(preview),
                "next_label": "See the check",
            }
            if parsed.skipped:
                with tempfile.TemporaryFile() as target:
                    text = io.TextIOWrapper(target, encoding="utf-8", newline="")
                    skipped_rows_write(parsed, text)
                    text.flush()
                    text.detach()
                    target.seek(0)
                    name = skipped_rows_name(filename)
                    job_succeed(
                        job,
                        summary=summary,
                        result=File(target, name=name),
                        result_name=name,
                        content_type="text/csv; charset=utf-8",
                    )
            else:
                job_succeed(job, summary=summary)
        except BaseException:
            job_input_discard(job)
            raise

    job_run(job_id, work)
    _input_discard_unless_kept(job_id)


def _preview_lines(preview: Preview) -> list[str]:
    if preview.ok:
        return [f"{_plural(preview.total, 'entry', 'entries')} can be imported."]
    return [
        f"{_plural(preview.error_count, 'problem')} in {_plural(preview.bad, 'entry', 'entries')} "
        f"of {preview.total:,}."
    ]
