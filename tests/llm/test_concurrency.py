"""Real threads against PostgreSQL and the loopback model server: holds decide who runs, before sending."""

import threading
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connections

from apps.accounts.models import Tenant
from apps.billing import services
from apps.billing.models import Hold, ReserveAccount, UsageEvent
from apps.core.jobs import job_cancel
from apps.core.models import Job
from apps.llm.gateway import llm_estimate
from apps.llm.models import LLMRequest
from tests.concurrency import needs_postgres, run_in_threads
from tests.llm.conftest import GOOD, make_task
from tests.llm.jobs import summarise

pytestmark = needs_postgres

JOBS = 10


def _wait_for(condition, *, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def _jobs(tenant, count: int) -> list[Job]:
    return [
        Job.objects.create(tenant=tenant, kind="test.summary", label=f"Summary {i}", func_path="x")
        for i in range(count)
    ]


@pytest.mark.django_db(transaction=True)
def test_it_runs_exactly_the_three_jobs_the_reserve_covers(llm_on, settings):
    settings.LLM_TIMEOUT_SECONDS = 60  # the gated requests wait for the test, not for a timeout
    tenant = Tenant.objects.create(name="Race", slug="race")
    hold = llm_estimate(tenant=tenant, tasks=[make_task()])
    services.reserve_credit(tenant=tenant, amount_micros=3 * hold + hold // 2, idempotency_key="top")
    jobs = _jobs(tenant, JOBS)
    llm_on.gate = threading.Event()
    llm_on.answer(GOOD, usage=(100, 20), times=None)

    results: list = []
    runner = threading.Thread(
        target=lambda: results.extend(run_in_threads(JOBS, lambda i: summarise(jobs[i].pk)))
    )
    runner.start()
    try:
        # Every job has either been refused or reached the server before any answer comes back.
        _wait_for(
            lambda: (
                len(llm_on.chat_requests) == 3
                and Job.objects.filter(tenant=tenant, status=Job.Status.FAILED).count() == JOBS - 3
            )
        )
    finally:
        llm_on.gate.set()
        runner.join(timeout=120)
        connections.close_all()

    statuses = sorted(Job.objects.filter(tenant=tenant).values_list("status", flat=True))
    assert statuses == ["failed"] * 7 + ["succeeded"] * 3
    for job in Job.objects.filter(tenant=tenant, status=Job.Status.FAILED):
        assert job.error.startswith("Not enough in the reserve") and job.cost_micros == 0
    assert len(llm_on.chat_requests) == 3  # the seven were refused before any request
    assert LLMRequest.objects.filter(error_kind="insufficient_funds").count() == 7

    each = 100 * 3 + 20 * 15 + 100
    account = ReserveAccount.objects.get(tenant=tenant)
    assert account.balance_micros == 3 * hold + hold // 2 - 3 * each
    assert account.held_micros == 0
    assert UsageEvent.objects.filter(tenant=tenant).count() == 3
    assert Hold.objects.filter(tenant=tenant, status=Hold.Status.CAPTURED).count() == 3
    out = StringIO()
    call_command("billing_reconcile", stdout=out)
    assert "all balanced" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_it_releases_the_money_of_a_call_in_flight_at_once_when_cancelled(llm_on, settings):
    settings.LLM_TIMEOUT_SECONDS = 60
    tenant = Tenant.objects.create(name="Cancel", slug="cancel")
    services.reserve_credit(tenant=tenant, amount_micros=1_000_000, idempotency_key="top")
    (job,) = _jobs(tenant, 1)
    llm_on.gate = threading.Event()
    llm_on.answer(GOOD, usage=(100, 20))

    worker = threading.Thread(target=lambda: (summarise(job.pk), connections.close_all()))
    worker.start()
    try:
        _wait_for(lambda: len(llm_on.chat_requests) == 1)
        assert ReserveAccount.objects.get(tenant=tenant).held_micros > 0

        job_cancel(job=Job.objects.get(pk=job.pk))

        account = ReserveAccount.objects.get(tenant=tenant)
        assert (account.held_micros, account.available_micros) == (0, 1_000_000)  # before the answer
    finally:
        llm_on.gate.set()
        worker.join(timeout=60)

    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED and job.cost_micros == 0
    assert not UsageEvent.objects.filter(tenant=tenant).exists()
    assert Hold.objects.get(tenant=tenant).status == Hold.Status.VOIDED
    assert LLMRequest.objects.get(tenant=tenant).outcome == "cancelled"
    assert ReserveAccount.objects.get(tenant=tenant).balance_micros == 1_000_000
