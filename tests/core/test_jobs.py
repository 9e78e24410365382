"""Jobs: enqueued after commit, run by django-q2's real worker code (sync mode), watched by the person."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from django_q.conf import Conf

from apps.core.errors import ValidationFailed
from apps.core.jobs import job_enqueue, job_progress, job_run, job_succeed
from apps.core.models import Event, Job

RUNS: list[int] = []


def count_to(job_id: int, n: int) -> None:
    """A task as apps write them: take the id, claim the job, report progress, attach a result."""

    def work(job: Job) -> None:
        RUNS.append(job.pk)
        for done in range(1, n + 1):
            job_progress(job, done, n, step="Counting")
        job_succeed(
            job,
            summary={"lines": [f"Counted to {n}."]},
            result=ContentFile(",".join(str(i) for i in range(1, n + 1)).encode()),
            result_name="count.csv",
            content_type="text/csv",
        )

    job_run(job_id, work)


def refuse(job_id: int) -> None:
    def work(job: Job) -> None:
        raise ValidationFailed("Row 3 has no date.")

    job_run(job_id, work)


def crash(job_id: int) -> None:
    def work(job: Job) -> None:
        raise RuntimeError("disk on fire")

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
    RUNS.clear()


def _enqueue(alice, tenant, func="count_to", **kwargs) -> Job:
    return job_enqueue(
        kind="test.count",
        tenant=tenant,
        user=alice,
        func_path=f"tests.core.test_jobs.{func}",
        label="Counting",
        **kwargs,
    )


def test_it_runs_only_after_the_transaction_commits(alice, tenant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = _enqueue(alice, tenant, n=3)
    assert job.status == Job.Status.QUEUED and RUNS == []
    assert job.params == {"n": 3}

    for callback in callbacks:
        callback()

    job.refresh_from_db()
    assert [job.pk] == RUNS
    assert job.status == Job.Status.SUCCEEDED
    assert (job.progress_done, job.progress_total, job.progress_percent) == (3, 3, 100)
    assert job.started_at <= job.finished_at and job.attempts == 1
    assert job.result_file.read() == b"1,2,3"
    assert Event.objects.filter(kind="job.succeeded", tenant=tenant).exists()


def test_it_does_not_redo_a_job_that_succeeded(alice, tenant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = _enqueue(alice, tenant, n=2)
    first_result = Job.objects.get(pk=job.pk).result_file.name

    count_to(job.pk, 2)  # delivered a second time

    job.refresh_from_db()
    assert [job.pk] == RUNS
    assert job.attempts == 1 and job.result_file.name == first_result


def test_it_leaves_a_running_job_to_its_worker_but_takes_over_a_stale_one(alice, tenant):
    job = Job.objects.create(tenant=tenant, kind="test.count", label="Counting", func_path="x")
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, started_at=timezone.now())
    count_to(job.pk, 1)
    assert RUNS == []

    Job.objects.filter(pk=job.pk).update(started_at=timezone.now() - timedelta(hours=1))
    count_to(job.pk, 1)
    job.refresh_from_db()
    assert [job.pk] == RUNS and job.status == Job.Status.SUCCEEDED and job.attempts == 1


def test_it_records_a_refusal_as_the_persons_message(alice, tenant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = _enqueue(alice, tenant, func="refuse")
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error == "Row 3 has no date."
    assert Event.objects.filter(kind="job.failed", data__error="Row 3 has no date.").exists()

    refuse(job.pk)  # a failed job is not retried behind the person's back
    job.refresh_from_db()
    assert job.attempts == 1


def test_it_hides_an_unexpected_error_behind_a_message_with_the_job_number(
    alice, tenant, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = _enqueue(alice, tenant, func="crash")
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "Something went wrong on our side" in job.error and f"#{job.pk}" in job.error
    assert "disk on fire" not in job.error


def test_it_shows_the_job_page_to_members(
    alice_client, bob, tenant, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = _enqueue(bob, tenant, n=4, next_url="/profile/")
    response = alice_client.get(reverse("job_detail", kwargs={"pk": job.pk}))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Counted to 4." in page and "count.csv</span>" in page
    assert 'href="/profile/"' in page and 'hx-trigger="every 1s"' not in page

    download = alice_client.get(reverse("job_download", kwargs={"pk": job.pk}))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"1,2,3,4"
    assert download["Content-Disposition"] == 'attachment; filename="count.csv"'
    assert download["Cache-Control"] == "private, no-store"


def test_it_polls_while_the_job_runs(alice_client, alice, tenant):
    job = Job.objects.create(
        tenant=tenant,
        created_by=alice,
        kind="test.count",
        label="Counting",
        func_path="x",
        status=Job.Status.RUNNING,
        started_at=timezone.now(),
        progress_done=5,
        progress_total=20,
        step="Counting",
    )
    response = alice_client.get(reverse("job_detail", kwargs={"pk": job.pk}), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith("<div") and "<html" not in html  # the fragment only
    assert 'hx-trigger="every 1s"' in html
    assert "Counting · 5 of 20" in html and 'aria-valuenow="25"' in html
    assert alice_client.get(reverse("job_download", kwargs={"pk": job.pk})).status_code == 404


def test_it_shows_a_failed_jobs_message(alice_client, alice, tenant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = _enqueue(alice, tenant, func="refuse")
    html = alice_client.get(
        reverse("job_detail", kwargs={"pk": job.pk}), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Row 3 has no date." in html and "hx-trigger" not in html
    assert alice_client.get(reverse("job_download", kwargs={"pk": job.pk})).status_code == 404


def test_it_answers_404_to_an_outsider(client, charlie, alice, tenant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = _enqueue(alice, tenant, n=1)
    client.force_login(charlie)
    assert client.get(reverse("job_detail", kwargs={"pk": job.pk})).status_code == 404
    assert client.get(reverse("job_detail", kwargs={"pk": job.pk}), HTTP_HX_REQUEST="true").status_code == 404
    assert client.get(reverse("job_download", kwargs={"pk": job.pk})).status_code == 404


def test_it_answers_404_for_a_system_job(alice_client):
    job = Job.objects.create(tenant=None, kind="system.cleanup", label="Clean up", func_path="x")
    assert alice_client.get(reverse("job_detail", kwargs={"pk": job.pk})).status_code == 404
