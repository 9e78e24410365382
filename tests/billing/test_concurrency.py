"""Real threads against PostgreSQL: row locks and unique constraints, not hope."""

import json

import pytest
from django.test import Client

from apps.accounts.models import Tenant
from apps.billing import services
from apps.billing.errors import InsufficientFunds
from apps.billing.models import Hold, LedgerEntry, ReserveAccount, StripeEvent
from tests.billing.conftest import checkout_completed_event, sign
from tests.concurrency import needs_postgres, run_in_threads

pytestmark = needs_postgres

WORKERS = 32


@pytest.mark.django_db(transaction=True)
def test_it_never_overdraws_or_loses_an_update_under_32_deducting_workers():
    tenant = Tenant.objects.create(name="Race", slug="race")
    services.reserve_credit(tenant=tenant, amount_micros=100, idempotency_key="top")

    def deduct(index):
        outcomes = []
        for attempt in range(5):
            try:
                services.reserve_deduct(tenant=tenant, amount_micros=1, idempotency_key=f"w{index}-{attempt}")
                outcomes.append("ok")
            except InsufficientFunds:
                outcomes.append("refused")
        return outcomes

    outcomes = [outcome for worker in run_in_threads(WORKERS, deduct) for outcome in worker]
    assert outcomes.count("ok") == 100
    assert outcomes.count("refused") == WORKERS * 5 - 100
    account = ReserveAccount.objects.get(tenant=tenant)
    assert account.balance_micros == 0
    assert LedgerEntry.objects.filter(kind="usage").count() == 100
    assert min(LedgerEntry.objects.values_list("balance_after_micros", flat=True)) == 0


@pytest.mark.django_db(transaction=True)
def test_it_credits_concurrent_duplicate_webhooks_once(settings):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_afterresume"
    tenant = Tenant.objects.create(name="Race", slug="race")
    payload = json.dumps(checkout_completed_event(tenant=tenant, amount_cents=2000, session_id="cs_race"))

    def deliver(index):
        response = Client().post(
            "/api/billing/webhook/",
            data=payload,
            content_type="application/json",
            headers={"Stripe-Signature": sign(payload)},
        )
        return response.status_code, response.json()["outcome"]

    results = run_in_threads(16, deliver)
    assert {status for status, _ in results} == {200}
    assert sorted(outcome for _, outcome in results) == ["duplicate"] * 15 + ["processed"]
    assert ReserveAccount.objects.get(tenant=tenant).balance_micros == 20_000_000
    assert (LedgerEntry.objects.count(), StripeEvent.objects.count()) == (1, 1)


@pytest.mark.django_db(transaction=True)
def test_it_never_lets_concurrent_holds_exceed_the_balance():
    tenant = Tenant.objects.create(name="Race", slug="race")
    services.reserve_credit(tenant=tenant, amount_micros=10_000, idempotency_key="top")

    def hold(index):
        try:
            services.hold_place(tenant=tenant, amount_micros=1_000, idempotency_key=f"job-{index}")
        except InsufficientFunds:
            return "refused"
        return "held"

    outcomes = run_in_threads(WORKERS, hold)
    assert outcomes.count("held") == 10
    account = ReserveAccount.objects.get(tenant=tenant)
    assert (account.held_micros, account.available_micros) == (10_000, 0)
    assert Hold.objects.filter(status="pending").count() == 10
