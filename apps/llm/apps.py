from django.apps import AppConfig


class LlmConfig(AppConfig):
    name = "apps.llm"
    label = "llm"
    verbose_name = "Model gateway"

    def ready(self) -> None:
        from apps.core.jobs import job_cancelled
        from apps.llm import checks  # noqa: F401 - registers the settings checks

        job_cancelled.connect(_on_job_cancelled, dispatch_uid="llm-release-holds")


def _on_job_cancelled(sender, job, **kwargs) -> None:
    """A cancelled job's calls in flight give their money back at once (not when their hold expires)."""
    from apps.llm.services import llm_job_holds_release

    llm_job_holds_release(job=job)
