"""The jobs contract: GET /api/jobs/{id}/, cancel and retry, and the same actions on the job's page."""

import pytest
from django.urls import reverse
from django.utils import timezone
from django_q.conf import Conf

from apps.core.models import Job


@pytest.fixture(autouse=True)
def _sync(monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", True)


def _job(tenant, user, **fields) -> Job:
    values = {
        "tenant": tenant,
        "created_by": user,
        "kind": "test.count",
        "label": "Counting",
        "func_path": "tests.core.test_jobs.count_to",
        "params": {"n": 2},
    }
    values.update(fields)
    return Job.objects.create(**values)


def test_it_answers_the_contract_shape(alice_client, alice, tenant):
    job = _job(
        tenant,
        alice,
        status=Job.Status.RUNNING,
        attempts=1,
        progress_done=1,
        progress_total=4,
        step="Counting",
        estimate_micros=12_000,
        cost_micros=3_000,
        started_at=timezone.now(),
    )
    response = alice_client.get(f"/api/jobs/{job.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert {"id", "kind", "status", "progress", "estimate_micros", "cost_micros", "error", "result"} <= set(
        body
    )
    assert (body["id"], body["kind"], body["status"], body["progress"]) == (
        job.pk,
        "test.count",
        "running",
        25,
    )
    assert (body["estimate_micros"], body["cost_micros"], body["error"], body["result"]) == (
        12_000,
        3_000,
        "",
        {},
    )
    assert (body["step"], body["attempts"], body["can_cancel"], body["can_retry"]) == (
        "Counting",
        1,
        True,
        False,
    )


def test_it_shows_a_finished_jobs_summary_as_its_result(alice_client, alice, tenant):
    job = _job(tenant, alice, status=Job.Status.SUCCEEDED, summary={"suggestion_ids": [4, 5]})
    body = alice_client.get(f"/api/jobs/{job.pk}/").json()
    assert (body["status"], body["progress"], body["result"]) == (
        "succeeded",
        100,
        {"suggestion_ids": [4, 5]},
    )


def test_it_answers_404_for_another_workspaces_job(client, charlie, alice, tenant):
    job = _job(tenant, alice, status=Job.Status.RUNNING)
    client.force_login(charlie)
    for method, path in [
        ("get", f"/api/jobs/{job.pk}/"),
        ("post", f"/api/jobs/{job.pk}/cancel/"),
        ("post", f"/api/jobs/{job.pk}/retry/"),
    ]:
        response = getattr(client, method)(path)
        assert response.status_code == 404, (method, path)
        assert set(response.json()) == {"message", "extra"}
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING


def test_it_cancels_a_queued_job_and_refuses_a_finished_one(alice_client, alice, tenant):
    job = _job(tenant, alice)
    response = alice_client.post(f"/api/jobs/{job.pk}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"

    again = alice_client.post(f"/api/jobs/{job.pk}/cancel/")
    assert again.status_code == 409
    assert again.json() == {
        "message": "This job was already cancelled, so there is nothing to cancel.",
        "extra": {"status": "cancelled"},
    }


def test_it_retries_a_failed_job(
    alice_client, alice, tenant, django_capture_on_commit_callbacks, tmp_path, settings
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    job = _job(tenant, alice, status=Job.Status.FAILED, attempts=1, error="Disk full.")
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(f"/api/jobs/{job.pk}/retry/")
    assert response.status_code == 202 and response.json()["status"] == "queued"
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.attempts == 2 and job.error == ""

    refused = alice_client.post(f"/api/jobs/{job.pk}/retry/")
    assert refused.status_code == 409
    assert "Only a job that failed or was cancelled can run again" in refused.json()["message"]


def test_it_cancels_from_the_page_with_htmx_and_a_toast(alice_client, alice, tenant):
    job = _job(tenant, alice, status=Job.Status.RUNNING, attempts=1, started_at=timezone.now())
    page = alice_client.get(reverse("job_detail", kwargs={"pk": job.pk})).content.decode()
    assert f'hx-post="/jobs/{job.pk}/cancel/"' in page and "csrfmiddlewaretoken" in page

    response = alice_client.post(reverse("job_cancel", kwargs={"pk": job.pk}), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div class="ar-job ar-job-cancelled"')
    assert "hx-trigger" not in html.split("hx-swap-oob")[0]  # polling stops
    assert 'hx-swap-oob="beforeend:#toasts"' in html and "Job cancelled." in html
    assert "data-job-retry" in html  # it can be run again from here

    second = alice_client.post(reverse("job_cancel", kwargs={"pk": job.pk}), HTTP_HX_REQUEST="true")
    assert "was already cancelled, so there is nothing to cancel" in second.content.decode()
    assert 'role="alert"' in second.content.decode()


def test_it_retries_from_the_page_without_javascript(
    alice_client, alice, tenant, django_capture_on_commit_callbacks
):
    job = _job(
        tenant,
        alice,
        status=Job.Status.CANCELLED,
        attempts=1,
        func_path="tests.core.test_jobs.refuse",
        params={},
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("job_retry", kwargs={"pk": job.pk}))
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    page = alice_client.get(response["Location"]).content.decode()
    assert "Job queued to run again." in page  # the toast
    assert "Row 3 has no date." in page and "Attempt</dt>" in page  # attempt 2 ran and failed


def test_it_only_takes_posts_for_actions(alice_client, alice, tenant):
    job = _job(tenant, alice, status=Job.Status.RUNNING)
    assert alice_client.get(reverse("job_cancel", kwargs={"pk": job.pk})).status_code == 405
    assert alice_client.get(reverse("job_retry", kwargs={"pk": job.pk})).status_code == 405
