"""Background jobs a person can watch, cancel and run again.

`job_enqueue` records a `Job` and hands it to django-q2 once the surrounding transaction commits. The task
function calls `job_run(job_id, work)`, which claims the job with one conditional UPDATE: a job that is
already running (and not stale) or already finished is not run again, so a task delivered twice is safe.
Each claim is a new attempt (`job.attempts` goes up by one).

`work(job)` reports progress with `job_progress`, checks `job_check_cancelled(job)` between steps, and may
finish the job itself with `job_succeed` (to attach a result file). An `ApplicationError` becomes the job's
error message, anything else a generic one. `JobCancelled` ends the work quietly.

Only the current attempt moves a job on: every write the runner makes is conditional on
`status = running AND attempts = <this attempt>`, so a cancelled job is never overwritten with succeeded or
failed, and a worker that was taken over (or whose job was cancelled and started again) cannot touch the
newer attempt.

`job_cancel` stops a queued or running job and sends `job_cancelled`, so apps that keep money or other
resources for a job's steps can release them (apps.llm voids the job's pending holds). `job_retry` starts a
failed or cancelled job again as a new attempt.
"""

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.dispatch import Signal
from django.utils import timezone
from django_q.tasks import async_task

from apps.core.errors import ApplicationError, Conflict
from apps.core.events import emit_event
from apps.core.models import Job

logger = logging.getLogger("afterresume.jobs")

UNEXPECTED_FAILURE = (
    "Something went wrong on our side and the job stopped before it finished; nothing it started was kept. "
    "Please try again. If it keeps failing, tell us the job number: #{id}."
)

# Sent (robustly: a failing receiver is logged, not raised) after a job was cancelled. Arguments: job.
job_cancelled = Signal()


class JobCancelled(Exception):
    """Raised inside a job's work when the job was cancelled (or a newer attempt took it over).

    `job_run` catches it: the job keeps the status the person gave it.
    """


def _stale_after(timeout: int | None = None) -> timedelta:
    """A running job older than its time limit (a `timeout` it was queued with, else the queue's own) plus a
    margin (Q_LEASE_MARGIN, a minute by default) belongs to a worker that died."""
    margin = getattr(settings, "Q_LEASE_MARGIN", 60)
    return timedelta(seconds=int(timeout or settings.Q_CLUSTER.get("timeout") or 300) + margin)


def _queue(job: Job) -> None:
    task_name = f"job-{job.pk}-{job.kind}"
    transaction.on_commit(lambda: async_task(job.func_path, job.pk, task_name=task_name, **job.params))


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
    estimate_micros: int = 0,
    retryable: bool = True,
    **kwargs: Any,
) -> Job:
    """Create the Job row and queue `func_path(job_id, **kwargs)` after the current transaction commits.

    `kwargs` must be JSON-serialisable ids and flags (tasks take ids, not objects); they are kept on the job.
    `input_file`, when given, is stored privately with the job for the task to read (a string is the name of
    a file already in default storage, which the job then takes over). `estimate_micros` is the most the
    work may cost (e.g. from `apps.llm.gateway.llm_estimate`), shown on the job's page before it starts.
    """
    if user is not None and not user.is_authenticated:
        user = None
    if isinstance(estimate_micros, bool) or not isinstance(estimate_micros, int) or estimate_micros < 0:
        raise ValueError("estimate_micros is a whole, non-negative number of micros")
    job = Job(
        kind=kind,
        tenant=tenant,
        created_by=user,
        label=label or kind,
        func_path=func_path,
        params=kwargs,
        next_url=next_url,
        estimate_micros=estimate_micros,
        retryable=retryable,
    )
    if isinstance(input_file, str):
        job.input_file.name = input_file
    elif input_file is not None:
        job.input_file.save(input_name, input_file, save=False)
    job.save()
    _queue(job)
    return job


def _job_claim(job_id: int) -> Job | None:
    now = timezone.now()
    params = Job.objects.filter(pk=job_id).values_list("params", flat=True).first() or {}
    timeout = params.get("timeout") if isinstance(params, dict) else None
    claimable = Q(status=Job.Status.QUEUED) | Q(
        status=Job.Status.RUNNING,
        started_at__lt=now - _stale_after(timeout if isinstance(timeout, int) else None),
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


def _this_attempt(job: Job) -> QuerySet[Job]:
    """The job's row, only while it is running as this attempt."""
    return Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, attempts=job.attempts)


def _note_lost(job: Job) -> None:
    """The job is no longer this attempt's: reload what the person (or a newer attempt) made of it."""
    current = Job.objects.filter(pk=job.pk).values("status", "attempts").first() or {}
    job.status = current.get("status", job.status)
    if job.status == Job.Status.RUNNING and current.get("attempts") != job.attempts:
        job.status = Job.Status.CANCELLED  # for this worker: a newer attempt owns the job now


def job_run(job_id: int, work: Callable[[Job], None]) -> Job | None:
    """Claim the job and run `work(job)`; finish it as succeeded or failed. Safe to call twice."""
    job = _job_claim(job_id)
    if job is None:
        logger.info("job %s is already running or finished; not running it again", job_id)
        return None
    try:
        work(job)
    except JobCancelled:
        logger.info("job %s (%s) attempt %s stopped: cancelled", job.pk, job.kind, job.attempts)
        _note_lost(job)
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


def job_is_current(job: Job) -> bool:
    """True while the job is running as this attempt (not cancelled, not taken over)."""
    return _this_attempt(job).exists()


def job_check_cancelled(job: Job) -> None:
    """Call between steps: raises JobCancelled once the job was cancelled or a newer attempt took over."""
    if not job_is_current(job):
        _note_lost(job)
        raise JobCancelled(f"job {job.pk} attempt {job.attempts} is no longer running")


def job_progress(job: Job, done: int, total: int, *, step: str | None = None) -> bool:
    """Record how far the job has come. Visible at once to the person polling the job's page.

    Returns False (and writes nothing) when the job is no longer running as this attempt.
    """
    job.progress_done, job.progress_total = max(0, done), max(0, total)
    fields = {"progress_done": job.progress_done, "progress_total": job.progress_total}
    if step is not None:
        job.step = fields["step"] = step[:120]
    return bool(_this_attempt(job).update(**fields))


def job_step(job: Job, step: str) -> bool:
    return job_progress(job, job.progress_done, job.progress_total, step=step)


def job_succeed(
    job: Job,
    *,
    summary: dict | None = None,
    result: File | None = None,
    result_name: str = "",
    content_type: str = "application/octet-stream",
) -> Job:
    """Mark the job done, attaching `result` (stored privately, downloaded through the job view).

    A job that was cancelled meanwhile stays cancelled, and its result file is not kept.
    """
    fields: dict[str, Any] = {
        "status": Job.Status.SUCCEEDED,
        "finished_at": timezone.now(),
        "step": "",
        "error": "",
    }
    if result is not None:
        job.result_file.save(result_name or "result", result, save=False)
        fields.update(
            result_file=job.result_file.name,
            result_name=result_name or "result",
            result_content_type=content_type,
        )
    if job.progress_total:
        fields["progress_done"] = job.progress_total
    if summary is not None:
        fields["summary"] = summary
    if not _this_attempt(job).update(**fields):
        if result is not None:
            job.result_file.delete(save=False)
        _note_lost(job)
        return job
    for name, value in fields.items():
        if name != "result_file":  # already set on the instance by the save above
            setattr(job, name, value)
    emit_event("job.succeeded", tenant=job.tenant, actor=job.created_by, job=job.pk, job_kind=job.kind)
    return job


def job_fail(job: Job, *, message: str) -> Job:
    """Mark the job failed with a message the person reads. A cancelled job stays cancelled."""
    now = timezone.now()
    if not _this_attempt(job).update(status=Job.Status.FAILED, finished_at=now, error=message, step=""):
        _note_lost(job)
        return job
    job.status, job.finished_at, job.error, job.step = Job.Status.FAILED, now, message, ""
    emit_event(
        "job.failed", tenant=job.tenant, actor=job.created_by, job=job.pk, job_kind=job.kind, error=message
    )
    return job


def _finished_phrase(job: Job) -> str:
    return {
        Job.Status.SUCCEEDED: "is already done",
        Job.Status.FAILED: "has already stopped with an error",
        Job.Status.CANCELLED: "was already cancelled",
    }.get(job.status, f"is {job.get_status_display().lower()}")


def job_cancel(*, job: Job, user=None) -> Job:
    """Stop a queued or running job. The work stops at its next check; money held for it is released."""
    now = timezone.now()
    with transaction.atomic():
        updated = Job.objects.filter(pk=job.pk, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).update(
            status=Job.Status.CANCELLED, finished_at=now, step=""
        )
        job.refresh_from_db()
        if not updated:
            raise Conflict(
                f"This job {_finished_phrase(job)}, so there is nothing to cancel.",
                extra={"status": job.status},
            )
        emit_event(
            "job.cancelled",
            tenant=job.tenant,
            actor=user if user is not None and user.is_authenticated else None,
            job=job.pk,
            job_kind=job.kind,
            attempt=job.attempts,
        )
    for receiver, response in job_cancelled.send_robust(sender=Job, job=job):
        if isinstance(response, Exception):
            logger.error("cancelling job %s: %r failed: %r", job.pk, receiver, response)
    return job


def job_retry(*, job: Job, user=None) -> Job:
    """Queue a failed or cancelled job again; its next run is a new attempt with new idempotency keys."""
    if job.status in (Job.Status.FAILED, Job.Status.CANCELLED) and not job.retryable:
        raise Conflict(
            "This job cannot run again: what it worked on is no longer kept. Start it again from the page "
            "where you began it.",
            extra={"status": job.status},
        )
    with transaction.atomic():
        updated = Job.objects.filter(
            pk=job.pk, status__in=[Job.Status.FAILED, Job.Status.CANCELLED], retryable=True
        ).update(
            status=Job.Status.QUEUED,
            error="",
            step="",
            progress_done=0,
            progress_total=0,
            started_at=None,
            finished_at=None,
        )
        job.refresh_from_db()
        if not updated:
            raise Conflict(
                f"Only a job that failed or was cancelled can run again; this one {_finished_phrase(job)}.",
                extra={"status": job.status},
            )
        emit_event(
            "job.retried",
            tenant=job.tenant,
            actor=user if user is not None and user.is_authenticated else None,
            job=job.pk,
            job_kind=job.kind,
            previous_attempts=job.attempts,
        )
        _queue(job)
    return job


def job_get(*, tenant, pk: int) -> Job | None:
    """The workspace's job with this id, or None (another workspace's job is None too)."""
    if tenant is None:
        return None
    return Job.objects.filter(tenant=tenant, pk=pk).select_related("created_by").first()


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
    """Delete the job's uploaded input once it is no longer needed; the job can then not run again."""
    if job.input_file:
        job.input_file.delete(save=False)
        Job.objects.filter(pk=job.pk).update(input_file="", retryable=False)
        job.retryable = False
