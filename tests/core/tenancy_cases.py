"""Job URLs: a job belongs to a workspace; an outsider gets 404 for its page and its download."""

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


OUTSIDER_GETS_404 = {
    "job_detail": (_job, ["get"]),
    "job_download": (_job, ["get"]),
}
