"""Job URLs: a job belongs to a workspace; an outsider gets 404 for its page, download, cancel and retry."""

from django.core.files.base import ContentFile


def _job(owner):
    from apps.core.jobs import job_succeed
    from apps.core.models import Job

    job = Job.objects.create(
        tenant=owner.memberships.get().tenant,
        created_by=owner,
        kind="test.report",
        label="A report",
        func_path="tests.core.test_jobs.count_to",
        status=Job.Status.RUNNING,
    )
    job_succeed(
        job, result=ContentFile(b"secret numbers"), result_name="report.txt", content_type="text/plain"
    )
    return {"pk": job.pk}


def _job_in(owner, status):
    from apps.core.models import Job

    job = Job.objects.create(
        tenant=owner.memberships.get().tenant,
        created_by=owner,
        kind="test.report",
        label="A report",
        func_path="tests.core.test_jobs.count_to",
        status=status,
        attempts=1,
    )
    return {"pk": job.pk}


def _running_job(owner):
    return _job_in(owner, "running")  # the owner could cancel it: an outsider must not even see it


def _failed_job(owner):
    return _job_in(owner, "failed")  # the owner could run it again


OUTSIDER_GETS_404 = {
    "job_detail": (_job, ["get"]),
    "job_download": (_job, ["get"]),
    "job_cancel": (_running_job, ["post"]),
    "job_retry": (_failed_job, ["post"]),
}
