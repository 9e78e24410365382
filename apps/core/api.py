"""Jobs API, mounted at /api/jobs/: watch a job, cancel it, run it again.

`GET /api/jobs/{id}/` -> {"id", "kind", "status", "progress", "estimate_micros", "cost_micros", "error",
"result", ...}: `status` is queued, running, succeeded, failed or cancelled; `progress` a whole percent;
`result` the job's summary. Another workspace's job is a 404. Cancelling a finished job, or retrying one
that is not failed or cancelled, is a 409 with a message.
"""

from datetime import datetime

from django.http import Http404
from django.urls import reverse
from ninja import Router, Schema, Status

from apps.core.jobs import job_cancel, job_get, job_retry
from apps.core.models import Job
from apps.core.tenancy import require_tenant

router = Router(tags=["jobs"])


class JobOut(Schema):
    id: int
    kind: str
    label: str
    status: str
    progress: int
    step: str
    attempts: int
    estimate_micros: int
    cost_micros: int
    error: str
    result: dict
    can_cancel: bool
    can_retry: bool
    download_url: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


def job_out(job: Job) -> dict:
    downloadable = job.status == Job.Status.SUCCEEDED and bool(job.result_file)
    return {
        "id": job.pk,
        "kind": job.kind,
        "label": job.label,
        "status": job.status,
        "progress": job.progress_percent,
        "step": job.step,
        "attempts": job.attempts,
        "estimate_micros": job.estimate_micros,
        "cost_micros": job.cost_micros,
        "error": job.error,
        "result": job.summary or {},
        "can_cancel": job.can_cancel,
        "can_retry": job.can_retry,
        "download_url": reverse("job_download", kwargs={"pk": job.pk}) if downloadable else None,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


def _job(request, job_id: int) -> Job:
    job = job_get(tenant=require_tenant(request), pk=job_id)
    if job is None:
        raise Http404("No such job in this workspace.")
    return job


@router.get("/{job_id}/", response=JobOut)
def job_detail(request, job_id: int):
    return job_out(_job(request, job_id))


@router.post("/{job_id}/cancel/", response=JobOut)
def job_cancel_api(request, job_id: int):
    return job_out(job_cancel(job=_job(request, job_id), user=request.user))


@router.post("/{job_id}/retry/", response={202: JobOut})
def job_retry_api(request, job_id: int):
    return Status(202, job_out(job_retry(job=_job(request, job_id), user=request.user)))
