"""Job functions for the tests: they run through apps.core.jobs like the app's own tasks."""

from apps.core.errors import ApplicationError
from apps.core.jobs import job_run


def finish(job_id: int, **params) -> None:
    job_run(job_id, lambda job: None)


def fail(job_id: int, **params) -> None:
    def work(job):
        raise ApplicationError("The model server did not answer in 60 seconds; nothing was charged.")

    job_run(job_id, work)
