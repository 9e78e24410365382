"""Checkout, portal and automatic top-up through the real stripe SDK against the loopback Stripe server."""

import json
import urllib.request

from django.db import transaction
from django_q.models import OrmQ

from apps.billing import services, tasks
from apps.billing.models import LedgerEntry, ReserveAccount, TopUp
from apps.core.models import Event
from tests.billing.conftest import post_webhook

DOLLAR = 1_000_000
DECLINING_CARD = "4000000000000341"  # attaches fine, declines every charge


def _pay_on_hosted_page(fake_stripe, session_id: str, card: str = "4242424242424242") -> dict:
    request = urllib.request.Request(  # noqa: S310 - the loopback test server, over http
        f"{fake_stripe.url}/_config/checkout/sessions/{session_id}/complete",
        data=json.dumps({"card": card}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.load(response)


def _top_up_through_checkout(client, fake_stripe, amount_cents=2000) -> dict:
    response = client.post(
        "/api/billing/topup/session/", {"amount_cents": amount_cents}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    session = response.json()
    assert session["url"].startswith(fake_stripe.url)
    event = _pay_on_hosted_page(fake_stripe, session["session_id"])
    assert post_webhook(client, event).status_code == 200
    return session


def test_it_tops_up_through_checkout_and_saves_the_card(alice_client, tenant, stripe_on):
    session = _top_up_through_checkout(alice_client, stripe_on)
    account = ReserveAccount.objects.get(tenant=tenant)
    assert account.balance_micros == 20 * DOLLAR
    assert account.stripe_customer_id.startswith("cus_")
    assert account.stripe_payment_method_id.startswith("pm_")
    topup = TopUp.objects.get()
    assert (topup.status, topup.stripe_object_id) == (TopUp.Status.SUCCEEDED, session["session_id"])
    assert LedgerEntry.objects.get().stripe_object_id == session["session_id"]


def test_it_reuses_the_stripe_customer_for_later_top_ups(alice_client, tenant, stripe_on):
    _top_up_through_checkout(alice_client, stripe_on)
    customer = ReserveAccount.objects.get(tenant=tenant).stripe_customer_id
    _top_up_through_checkout(alice_client, stripe_on, amount_cents=500)
    account = ReserveAccount.objects.get(tenant=tenant)
    assert (account.stripe_customer_id, account.balance_micros) == (customer, 25 * DOLLAR)


def test_it_opens_the_portal_once_stripe_knows_the_workspace(alice_client, tenant, stripe_on):
    assert alice_client.post("/api/billing/portal/session/").status_code == 400
    _top_up_through_checkout(alice_client, stripe_on)
    response = alice_client.post("/api/billing/portal/session/")
    assert response.status_code == 200
    assert response.json()["url"].startswith(f"{stripe_on.url}/portal/bps_")


def _with_saved_card(client, tenant, fake_stripe, *, card="4242424242424242"):
    response = client.post(
        "/api/billing/topup/session/", {"amount_cents": 1000}, content_type="application/json"
    )
    event = _pay_on_hosted_page(fake_stripe, response.json()["session_id"], card="4242424242424242")
    post_webhook(client, event)
    if card != "4242424242424242":
        from localstripe.resources import PaymentMethod

        method = PaymentMethod._api_create(
            type="card", card={"number": card, "exp_month": "12", "exp_year": "2030", "cvc": "123"}
        )
        account = ReserveAccount.objects.get(tenant=tenant)
        PaymentMethod._api_attach(method.id, customer=account.stripe_customer_id)
        ReserveAccount.objects.filter(tenant=tenant).update(stripe_payment_method_id=method.id)
    services.reserve_settings_update(
        tenant=tenant,
        actor=None,
        auto_topup_enabled=True,
        auto_topup_amount_cents=2500,
        auto_topup_threshold_micros=5 * DOLLAR,
        low_balance_threshold_micros=5 * DOLLAR,
    )


def test_it_starts_one_automatic_top_up_under_the_threshold_and_charges_it(
    alice_client, tenant, stripe_on, django_capture_on_commit_callbacks
):
    _with_saved_card(alice_client, tenant, stripe_on)
    with django_capture_on_commit_callbacks(execute=True):
        services.reserve_deduct(tenant=tenant, amount_micros=6 * DOLLAR, idempotency_key="use-1")
    with django_capture_on_commit_callbacks(execute=True):
        services.reserve_deduct(tenant=tenant, amount_micros=DOLLAR, idempotency_key="use-2")
    pending = TopUp.objects.get(source=TopUp.Source.AUTOMATIC)
    assert pending.status == TopUp.Status.PENDING
    assert OrmQ.objects.count() == 1  # enqueued once, after commit

    assert tasks.auto_topup_charge(pending.pk) == "succeeded"
    assert tasks.auto_topup_charge(pending.pk) == "already settled"
    pending.refresh_from_db()
    assert pending.status == TopUp.Status.SUCCEEDED
    assert ReserveAccount.objects.get(tenant=tenant).balance_micros == (10 - 7 + 25) * DOLLAR

    # Stripe's own payment_intent.succeeded for the same charge credits nothing more.
    event = {
        "id": "evt_auto",
        "object": "event",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": pending.stripe_object_id,
                "object": "payment_intent",
                "amount": 2500,
                "amount_received": 2500,
                "currency": "usd",
                "metadata": {
                    "tenant_id": str(tenant.pk),
                    "topup_id": pending.public_id,
                    "purpose": "auto_topup",
                },
            }
        },
    }
    assert post_webhook(alice_client, event).json()["outcome"] == "processed"
    assert ReserveAccount.objects.get(tenant=tenant).balance_micros == 28 * DOLLAR


def test_it_never_has_two_automatic_top_ups_in_flight(alice_client, tenant, stripe_on):
    _with_saved_card(alice_client, tenant, stripe_on)
    services.reserve_deduct(tenant=tenant, amount_micros=6 * DOLLAR, idempotency_key="use-1")
    account = ReserveAccount.objects.get(tenant=tenant)
    with transaction.atomic():
        assert services.auto_topup_maybe_start(account=account) is None
    assert TopUp.objects.filter(source=TopUp.Source.AUTOMATIC, status=TopUp.Status.PENDING).count() == 1


def test_it_turns_auto_top_up_off_when_the_card_is_declined(alice_client, tenant, stripe_on):
    _with_saved_card(alice_client, tenant, stripe_on, card=DECLINING_CARD)
    services.reserve_deduct(tenant=tenant, amount_micros=6 * DOLLAR, idempotency_key="use-1")
    pending = TopUp.objects.get(source=TopUp.Source.AUTOMATIC)
    assert tasks.auto_topup_charge(pending.pk) == "declined"
    account = ReserveAccount.objects.get(tenant=tenant)
    assert not account.auto_topup_enabled
    assert "declined" in account.auto_topup_failure_reason
    assert Event.objects.filter(kind="billing.auto_topup.declined", tenant=tenant).exists()
    assert TopUp.objects.get(pk=pending.pk).status == TopUp.Status.FAILED
    page = alice_client.get("/billing/")
    assert "Automatic top-up was turned off" in page.content.decode()
    assert account.balance_micros == 4 * DOLLAR
