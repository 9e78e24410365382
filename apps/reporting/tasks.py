"""django-q2 entry points: they take ids and run a service inside the job harness."""

from apps.core.jobs import job_run
from apps.reporting import services


def report_generate_task(job_id: int, report_id: int) -> None:
    job_run(job_id, lambda job: services.report_generate(job=job, report_id=report_id))


def report_section_task(job_id: int, report_id: int, section_key: str) -> None:
    job_run(
        job_id,
        lambda job: services.report_section_generate(job=job, report_id=report_id, section_key=section_key),
    )
