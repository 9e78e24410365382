from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "apps.reporting"
    label = "reporting"
    verbose_name = "Reports"

    def ready(self) -> None:
        from apps.core.jobs import job_cancelled

        job_cancelled.connect(_on_job_cancelled, dispatch_uid="reporting.job_cancelled")


def _on_job_cancelled(sender, job, **kwargs) -> None:
    if job.kind.startswith("report."):
        from apps.reporting.services import report_job_cancelled

        report_job_cancelled(job=job)
