"""django-q2 tasks of AI help on entries: they take ids and run one service."""

from apps.assist import services
from apps.core.jobs import job_run


def improve_entries(job_id: int, **params) -> None:
    """Draft a suggestion for each entry of the job (`entry_ids` are kept on the job)."""
    job_run(job_id, services.improve_run)
