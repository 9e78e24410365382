"""Background jobs a person can watch.

`job_enqueue` records a `Job` and hands it to django-q2 once the surrounding transaction commits. The task
function calls `job_run(job_id, work)`, which claims the job with one conditional UPDATE: a job that is
already running (and not stale) or already finished is not run again, so a task delivered twice is safe.
`work(job)` reports progress with `job_progress` and may finish the job itself with `job_succeed` (to attach
a result file); an `ApplicationError` becomes the job's error message, anything else a generic one.
"""

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django_q.tasks import async_task

from apps.core.errors import ApplicationError
from apps.core.events import emit_event
from apps.core.models import Job

logger = logging.getLogger("afterresume.jobs")

UNEXPECTED_FAILURE = (
    "Something went wrong on our side and the job stopped before it finished; nothing it started was kept. "
    "Please try again. If it keeps failing, tell us the job number: #{id}."
)


def _stale_after() -> timedelta:
    """A running job older than the queue's timeout (plus a margin) belongs to a worker that died."""
    return timedelta(seconds=int(settings.Q_CLUSTER.get("timeout") or 300) + 60)


def job_enqueue(
    *,
    kind: str,
    tenant,
    user,
    func_path: str,
    label: str = "",
    next_url: str = "",
    input_file: File | str | None = None,
    input_name: str = "input",
    **kwargs: Any,
) -> Job:
    """Create the Job row and queue `func_path(job_id, **kwargs)` after the current transaction commits.

    `kwargs` must be JSON-serialisable ids and flags (tasks take ids, not objects); they are kept on the job.
    `input_file`, when given, is stored privately with the job for the task to read (a string is the name of
    a file already in default storage, which the job then takes over).
    """
    if user is not None and not user.is_authenticated:
        user = None
    job = Job(
        kind=kind,
        tenant=tenant,
        created_by=user,
        label=label or kind,
        func_path=func_path,
        params=kwargs,
        next_url=next_url,
    )
    if isinstance(input_file, str):
        job.input_file.name = input_file
    elif input_file is not None:
        job.input_file.save(input_name, input_file, save=False)
    job.save()
    transaction.on_commit(lambda: async_task(func_path, job.pk, task_name=f"job-{job.pk}-{kind}", **kwargs))
    return job


def _job_claim(job_id: int) -> Job | None:
    now = timezone.now()
    claimable = Q(status=Job.Status.QUEUED) | Q(
        status=Job.Status.RUNNING, started_at__lt=now - _stale_after()
    )
    claimed = (
        Job.objects.filter(pk=job_id)
        .filter(claimable)
        .update(
            status=Job.Status.RUNNING,
            started_at=now,
            finished_at=None,
            attempts=F("attempts") + 1,
            progress_done=0,
            error="",
            step="",
        )
    )
    if not claimed:
        return None
    return Job.objects.select_related("tenant", "created_by").get(pk=job_id)


def job_run(job_id: int, work: Callable[[Job], None]) -> Job | None:
    """Claim the job and run `work(job)`; finish it as succeeded or failed. Safe to call twice."""
    job = _job_claim(job_id)
    if job is None:
        logger.info("job %s is already running or finished; not running it again", job_id)
        return None
    try:
        work(job)
    except Exception as exc:
        if job.status == Job.Status.SUCCEEDED:
            # The work was done and recorded; a problem in the tidying up after it does not undo that.
            logger.exception("job %s (%s) failed after it succeeded", job.pk, job.kind)
        elif isinstance(exc, ApplicationError):
            job_fail(job, message=exc.message)
        else:
            logger.exception("job %s (%s) failed", job.pk, job.kind)
            job_fail(job, message=UNEXPECTED_FAILURE.format(id=job.pk))
    else:
        if job.status == Job.Status.RUNNING:
            job_succeed(job)
    return job


def job_progress(job: Job, done: int, total: int, *, step: str | None = None) -> None:
    """Record how far the job has come. Visible at once to the person polling the job's page."""
    job.progress_done, job.progress_total = max(0, done), max(0, total)
    fields = {"progress_done": job.progress_done, "progress_total": job.progress_total}
    if step is not None:
        job.step = fields["step"] = step[:120]
    Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(**fields)


def job_step(job: Job, step: str) -> None:
    job_progress(job, job.progress_done, job.progress_total, step=step)


def job_succeed(
    job: Job,
    *,
    summary: dict | None = None,
    result: File | None = None,
    result_name: str = "",
    content_type: str = "application/octet-stream",
) -> Job:
    """Mark the job done, attaching `result` (stored privately, downloaded through the job view)."""
    if result is not None:
        job.result_file.save(result_name or "result", result, save=False)
        job.result_name = result_name or "result"
        job.result_content_type = content_type
    job.status = Job.Status.SUCCEEDED
    job.finished_at = timezone.now()
    job.step = ""
    job.error = ""
    if job.progress_total:
        job.progress_done = job.progress_total
    if summary is not None:
        job.summary = summary
    job.save()
    emit_event("job.succeeded", tenant=job.tenant, actor=job.created_by, job=job.pk, job_kind=job.kind)
    return job


def job_fail(job: Job, *, message: str) -> Job:
    job.status = Job.Status.FAILED
    job.finished_at = timezone.now()
    job.error = message
    job.step = ""
    job.save(update_fields=["status", "finished_at", "error", "step"])
    emit_event(
        "job.failed", tenant=job.tenant, actor=job.created_by, job=job.pk, job_kind=job.kind, error=message
    )
    return job


def job_list(*, tenant, kinds: list[str] | None = None, limit: int = 5) -> QuerySet[Job]:
    """The workspace's most recent jobs (of `kinds`), newest first."""
    queryset = Job.objects.filter(tenant=tenant) if tenant is not None else Job.objects.none()
    if kinds:
        queryset = queryset.filter(kind__in=kinds)
    return queryset.order_by("-created_at", "-id")[:limit]


def job_result_prune(*, tenant, kind: str, keep: int = 3) -> int:
    """Delete the result files of all but the newest `keep` finished jobs of a kind; the rows stay."""
    old = list(
        Job.objects.filter(tenant=tenant, kind=kind, status=Job.Status.SUCCEEDED)
        .exclude(result_file="")
        .order_by("-created_at", "-id")[keep:]
    )
    for job in old:
        job.result_file.delete(save=False)
        job.save(update_fields=["result_file"])
    return len(old)


def job_input_discard(job: Job) -> None:
    """Delete the job's uploaded input once it is no longer needed."""
    if job.input_file:
        job.input_file.delete(save=False)
        Job.objects.filter(pk=job.pk).update(input_file="")
