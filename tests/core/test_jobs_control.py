"""Cancel and retry: the runner never overwrites a cancelled job, and only the current attempt moves it."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from django_q.conf import Conf

from apps.core.errors import Conflict
from apps.core.jobs import (
    JobCancelled,
    job_cancel,
    job_check_cancelled,
    job_enqueue,
    job_fail,
    job_input_discard,
    job_progress,
    job_retry,
    job_run,
    job_succeed,
)
from apps.core.models import Event, Job

SEEN: list[tuple[int, int]] = []


def cancel_midway(job_id: int) -> None:
    """Does step 1, is cancelled by the person, then tries to carry on and to finish."""

    def work(job: Job) -> None:
        SEEN.append((job.pk, job.attempts))
        job_progress(job, 1, 2, step="Step 1")
        job_cancel(job=Job.objects.get(pk=job.pk))
        assert job_progress(job, 2, 2, step="Step 2") is False  # nothing written any more
        job_succeed(job, result=ContentFile(b"late"), result_name="late.txt")

    job_run(job_id, work)


def checks_between_steps(job_id: int) -> None:
    def work(job: Job) -> None:
        SEEN.append((job.pk, job.attempts))
        job_cancel(job=Job.objects.get(pk=job.pk))
        job_check_cancelled(job)
        SEEN.append((-1, -1))  # never reached

    job_run(job_id, work)


def succeed(job_id: int) -> None:
    def work(job: Job) -> None:
        SEEN.append((job.pk, job.attempts))

    job_run(job_id, work)


@pytest.fixture(autouse=True)
def _sync(monkeypatch, settings, tmp_path):
    monkeypatch.setattr(Conf, "SYNC", True)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    SEEN.clear()


def _enqueue(alice, tenant, func: str, **kwargs) -> Job:
    return job_enqueue(
        kind="test.control",
        tenant=tenant,
        user=alice,
        func_path=f"tests.core.test_jobs_control.{func}",
        **kwargs,
    )


def test_it_keeps_a_cancelled_job_cancelled_and_drops_its_late_result(
    alice, tenant, tmp_path, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = _enqueue(alice, tenant, "cancel_midway")
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED and job.finished_at is not None
    assert (job.progress_done, job.step) == (1, "")
    assert not job.result_file and list(tmp_path.rglob("late*")) == []
    assert Event.objects.filter(kind="job.cancelled", tenant=tenant).exists()
    assert not Event.objects.filter(kind="job.succeeded").exists()


def test_it_stops_the_work_at_the_next_check(alice, tenant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = _enqueue(alice, tenant, "checks_between_steps")
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED and [(job.pk, 1)] == SEEN
    assert not Event.objects.filter(kind="job.failed").exists()


def test_it_never_runs_a_job_cancelled_while_queued(alice, tenant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = _enqueue(alice, tenant, "succeed")
    job_cancel(job=job, user=alice)
    for callback in callbacks:
        callback()
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED and SEEN == [] and job.attempts == 0


def test_it_refuses_to_cancel_a_finished_job(alice, tenant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = _enqueue(alice, tenant, "succeed")
    with pytest.raises(Conflict) as raised:
        job_cancel(job=job, user=alice)
    assert raised.value.message == "This job is already done, so there is nothing to cancel."
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED


def test_it_runs_a_cancelled_job_again_as_a_new_attempt(alice, tenant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = _enqueue(alice, tenant, "checks_between_steps")
    Job.objects.filter(pk=job.pk).update(func_path="tests.core.test_jobs_control.succeed")
    job.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        job_retry(job=job, user=alice)

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.attempts == 2
    assert [(job.pk, 1), (job.pk, 2)] == SEEN
    assert Event.objects.filter(kind="job.retried", data__previous_attempts=1).exists()


def test_it_refuses_to_retry_a_job_that_did_not_fail(alice, tenant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = _enqueue(alice, tenant, "succeed")
    with pytest.raises(Conflict) as raised:
        job_retry(job=job, user=alice)
    assert "Only a job that failed or was cancelled can run again" in raised.value.message


def test_it_refuses_to_retry_a_job_whose_input_is_gone(alice, tenant):
    job = Job.objects.create(
        tenant=tenant, kind="test.import", label="Import", func_path="x", status=Job.Status.RUNNING
    )
    job.input_file.save("upload.csv", ContentFile(b"a,b"), save=True)
    job_input_discard(job)
    job_fail(job, message="Row 3 has no date.")
    job.refresh_from_db()
    assert job.can_retry is False
    with pytest.raises(Conflict) as raised:
        job_retry(job=job, user=alice)
    assert "what it worked on is no longer kept" in raised.value.message


def test_it_lets_only_the_current_attempt_finish_the_job(alice, tenant):
    job = Job.objects.create(tenant=tenant, kind="test.control", label="Control", func_path="x")
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.RUNNING, attempts=1, started_at=timezone.now() - timedelta(hours=1)
    )
    stale = Job.objects.get(pk=job.pk)  # the worker that went quiet

    job_run(job.pk, lambda current: SEEN.append((current.pk, current.attempts)))  # taken over: attempt 2
    assert [(job.pk, 2)] == SEEN
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)  # say attempt 2 is still going

    job_fail(stale, message="late failure from attempt 1")
    with pytest.raises(JobCancelled):
        job_check_cancelled(stale)
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and job.error == "" and job.attempts == 2
