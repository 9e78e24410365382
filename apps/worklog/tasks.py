"""django-q2 jobs for the work log. Each takes a job id, calls one porting service and reports progress.

`job_run` claims the job first, so a task delivered twice does the work once.
"""

import tempfile

from django.core.files import File
from django.utils import timezone
from django.utils.text import slugify

from apps.core.jobs import job_input_discard, job_progress, job_result_prune, job_run, job_succeed
from apps.core.models import Job
from apps.worklog.porting.export import workspace_export_write
from apps.worklog.porting.importers import import_commit, import_upload_open

EXPORT_KIND = "worklog.export"
IMPORT_KIND = "worklog.import"
EXPORTS_KEPT = 3


def _plural(count: int, word: str, plural: str = "") -> str:
    return f"{count:,} {word if count == 1 else plural or word + 's'}"


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


def worklog_import(job_id: int, fmt: str) -> None:
    def work(job: Job) -> None:
        try:
            with import_upload_open(tenant=job.tenant, name=job.input_file.name) as handle:
                counts = import_commit(
                    tenant=job.tenant,
                    user=job.created_by,
                    fmt=fmt,
                    handle=handle,
                    progress=lambda done, total, step: job_progress(job, done, total, step=step),
                )
        finally:
            # Finished either way: a failed import is fixed and uploaded again, not retried.
            job_input_discard(job)
        lines = [
            f"Imported {_plural(counts['entries'], 'entry', 'entries')} "
            f"and {_plural(counts['evidence'], 'piece')} of evidence.",
            f"New: {_plural(counts['employers'], 'employer')}, {_plural(counts['projects'], 'project')}, "
            f"{_plural(counts['skills'], 'skill')}, {_plural(counts['tags'], 'tag')}.",
        ]
        job_succeed(job, summary={"counts": counts, "lines": lines, "next_label": "Open your log"})

    job_run(job_id, work)
