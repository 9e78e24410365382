"""django-q2 tasks of the shared kernel: each calls one function and is safe to run twice."""

from apps.core import job_recovery


def jobs_requeue_lost() -> int:
    return job_recovery.jobs_requeue_lost()
