"""AI work as jobs: the estimate before, the cost after, failures shown, cancel and retry with their money."""

import pytest
from django.urls import reverse

from apps.billing import services
from apps.billing.models import Hold, ReserveAccount, UsageEvent
from apps.core.jobs import job_cancel, job_enqueue, job_retry
from apps.core.models import Job
from apps.llm.gateway import llm_estimate, llm_step_key
from apps.llm.models import LLMRequest
from tests.llm.conftest import GOOD, make_task

DOLLAR = 1_000_000


def _fund(tenant, micros=DOLLAR):
    services.reserve_credit(tenant=tenant, amount_micros=micros, idempotency_key=f"top-{micros}")


def _balance(tenant) -> int:
    return ReserveAccount.objects.get(tenant=tenant).balance_micros


def _enqueue(alice, tenant, steps=1, **params) -> Job:
    return job_enqueue(
        kind="test.summary",
        tenant=tenant,
        user=alice,
        func_path="tests.llm.jobs.summarise",
        label="Summarising",
        estimate_micros=llm_estimate(tenant=tenant, tasks=[make_task()] * steps),
        steps=steps,
        **params,
    )


@pytest.fixture(autouse=True)
def _jobs_run_in_process(sync_jobs):
    """django-q2 runs each task at once (sync), through its real task code."""


def test_it_shows_the_estimate_before_and_the_cost_after(
    alice_client, alice, tenant, llm_on, django_capture_on_commit_callbacks
):
    _fund(tenant)
    llm_on.answer(GOOD, usage=(100, 20), times=2)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = _enqueue(alice, tenant, steps=2)
    assert job.estimate_micros == 2 * llm_estimate(tenant=tenant, tasks=[make_task()]) > 0

    page = alice_client.get(reverse("job_detail", kwargs={"pk": job.pk})).content.decode()
    assert "Waiting to start" in page and "Estimate</dt>" in page and "up to $" in page
    assert "data-job-cancel" in page

    for callback in callbacks:
        callback()
    job.refresh_from_db()
    each = 100 * 3 + 20 * 15 + 100
    assert job.status == Job.Status.SUCCEEDED and job.cost_micros == 2 * each
    assert job.summary["answers"] == [GOOD, GOOD]
    assert _balance(tenant) == DOLLAR - 2 * each
    keys = sorted(UsageEvent.objects.values_list("idempotency_key", flat=True))
    assert keys == [f"job:{job.pk}:a1:s1", f"job:{job.pk}:a1:s2"]
    assert UsageEvent.objects.filter(job_reference=f"job:{job.pk}").count() == 2
    assert set(LLMRequest.objects.values_list("job_id", flat=True)) == {job.pk}

    page = alice_client.get(reverse("job_detail", kwargs={"pk": job.pk})).content.decode()
    assert "Cost</dt>" in page and "$0.0014" in page and "data-job-cancel" not in page


def test_it_fails_the_job_on_a_server_that_keeps_failing_and_charges_nothing(
    alice_client, alice, tenant, llm_on, django_capture_on_commit_callbacks
):
    _fund(tenant)
    llm_on.reply(500, times=None)
    with django_capture_on_commit_callbacks(execute=True):
        job = _enqueue(alice, tenant)

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.cost_micros == 0
    assert "The model server kept failing (HTTP 500)" in job.error and "Nothing was charged" in job.error
    assert _balance(tenant) == DOLLAR
    assert ReserveAccount.objects.get(tenant=tenant).held_micros == 0
    assert Hold.objects.get().status == Hold.Status.VOIDED

    html = alice_client.get(
        reverse("job_detail", kwargs={"pk": job.pk}), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "kept failing (HTTP 500)" in html and "Nothing charged" in html
    assert "data-job-retry" in html and "hx-trigger" not in html


def test_it_retries_a_failed_job_as_a_new_attempt_with_new_keys(
    alice, tenant, llm_on, django_capture_on_commit_callbacks
):
    _fund(tenant)
    llm_on.reply(500, times=3)  # attempt 1: three tries, all fail
    with django_capture_on_commit_callbacks(execute=True):
        job = _enqueue(alice, tenant)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.attempts == 1

    llm_on.answer(GOOD, usage=(100, 20))
    with django_capture_on_commit_callbacks(execute=True):
        job_retry(job=job, user=alice)

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.attempts == 2 and job.error == ""
    assert list(Hold.objects.order_by("pk").values_list("idempotency_key", "status")) == [
        (f"job:{job.pk}:a1:s1:hold", "voided"),
        (f"job:{job.pk}:a2:s1:hold", "captured"),
    ]
    assert job.cost_micros == UsageEvent.objects.get().cost_micros == _balance(tenant) * -1 + DOLLAR


def test_it_refuses_a_job_the_reserve_cannot_cover_with_a_top_up_link_and_sends_nothing(
    alice_client, alice, tenant, llm_on, django_capture_on_commit_callbacks
):
    llm_on.answer(GOOD, times=None)
    with django_capture_on_commit_callbacks(execute=True):
        job = _enqueue(alice, tenant)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error.startswith("Not enough in the reserve") and "Top up to continue." in job.error
    assert llm_on.requests == []


def test_it_stops_between_steps_once_cancelled_and_keeps_only_what_was_done(
    alice, tenant, llm_on, django_capture_on_commit_callbacks
):
    _fund(tenant)
    llm_on.answer(GOOD, usage=(100, 20), times=None)
    with django_capture_on_commit_callbacks(execute=True):
        job = _enqueue(alice, tenant, steps=3, cancel_after=1)

    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED  # not overwritten by the runner
    assert len(llm_on.chat_requests) == 1
    assert job.cost_micros == UsageEvent.objects.get().cost_micros
    assert _balance(tenant) == DOLLAR - job.cost_micros
    assert ReserveAccount.objects.get(tenant=tenant).held_micros == 0


def test_it_releases_the_hold_of_a_call_in_flight_when_the_job_is_cancelled(alice, tenant, llm_on):
    """The worker is waiting for the model (its hold is pending) when the person cancels; another job's
    call in flight keeps its hold."""
    _fund(tenant)

    def running_job():
        return Job.objects.create(
            tenant=tenant,
            kind="test.summary",
            label="Summarising",
            func_path="x",
            status="running",
            attempts=1,
        )

    job, other = running_job(), running_job()
    hold, others = (
        services.hold_place(
            tenant=tenant, amount_micros=5_000, idempotency_key=f"{llm_step_key(j, 's1')}:hold"
        )
        for j in (job, other)
    )
    assert ReserveAccount.objects.get(tenant=tenant).available_micros == DOLLAR - 10_000

    job_cancel(job=job, user=alice)

    hold.refresh_from_db()
    others.refresh_from_db()
    assert hold.status == Hold.Status.VOIDED
    assert others.status == Hold.Status.PENDING
    assert ReserveAccount.objects.get(tenant=tenant).available_micros == DOLLAR - 5_000
