"""django-q2 jobs for accounts: each takes ids and calls one service; each is safe to run twice."""

from apps.accounts import deletion
from apps.core.jobs import job_run


def account_delete(job_id: int, **params) -> None:
    job_run(job_id, deletion.account_delete_work)
