"""The Stripe webhook, signed with the stripe SDK's own helper."""

import json
import time

import stripe

from apps.billing import stripe_gateway
from apps.billing.models import LedgerEntry, ReserveAccount, StripeEvent
from tests.billing.conftest import SECRET_KEY, checkout_completed_event, post_webhook, sign

DOLLAR = 1_000_000


def _balance(tenant) -> int:
    account = ReserveAccount.objects.filter(tenant=tenant).first()
    return account.balance_micros if account else 0


def test_it_credits_a_completed_checkout(client, tenant, webhook_secret):
    event = checkout_completed_event(tenant=tenant, amount_cents=2000)
    response = post_webhook(client, event)
    assert response.status_code == 200, response.content
    assert response.json() == {"received": True, "outcome": "processed"}
    assert _balance(tenant) == 20 * DOLLAR
    entry = LedgerEntry.objects.get()
    assert entry.idempotency_key == f"stripe:{event['data']['object']['id']}"
    assert StripeEvent.objects.get().status == StripeEvent.Status.PROCESSED


def test_it_rejects_a_bad_signature_and_changes_nothing(client, tenant, webhook_secret):
    event = checkout_completed_event(tenant=tenant, amount_cents=2000)
    forged = sign(json.dumps(event), secret="whsec_someone_else")
    response = post_webhook(client, event, header=forged)
    assert response.status_code == 400
    assert "Signature" in response.json()["message"]
    assert (_balance(tenant), StripeEvent.objects.count()) == (0, 0)


def test_it_rejects_a_missing_signature(client, tenant, webhook_secret):
    response = post_webhook(client, checkout_completed_event(tenant=tenant, amount_cents=2000), header="")
    assert response.status_code == 400


def test_it_rejects_a_stale_timestamp(client, tenant, webhook_secret):
    event = checkout_completed_event(tenant=tenant, amount_cents=2000)
    response = post_webhook(client, event, timestamp=int(time.time()) - 301)
    assert response.status_code == 400
    assert "tolerance" in response.json()["message"]
    assert _balance(tenant) == 0


def test_it_accepts_a_timestamp_inside_the_tolerance(client, tenant, webhook_secret):
    event = checkout_completed_event(tenant=tenant, amount_cents=2000)
    assert post_webhook(client, event, timestamp=int(time.time()) - 250).status_code == 200


def test_it_credits_a_duplicate_delivery_once(client, tenant, webhook_secret):
    event = checkout_completed_event(tenant=tenant, amount_cents=2000)
    assert post_webhook(client, event).json()["outcome"] == "processed"
    assert post_webhook(client, event).json()["outcome"] == "duplicate"
    # Stripe may also send a new event id about the same session: the session id is the credit's key.
    event["id"] = "evt_another_delivery"
    assert post_webhook(client, event).json()["outcome"] == "processed"
    assert _balance(tenant) == 20 * DOLLAR
    assert LedgerEntry.objects.count() == 1


def test_it_records_and_acknowledges_unknown_types(client, webhook_secret, db):
    event = {
        "id": "evt_unknown",
        "object": "event",
        "type": "charge.dispute.funds_reinstated",
        "data": {"object": {}},
    }
    response = post_webhook(client, event)
    assert response.status_code == 200
    row = StripeEvent.objects.get(event_id="evt_unknown")
    assert (row.status, row.type) == (StripeEvent.Status.IGNORED, "charge.dispute.funds_reinstated")


def _subscription_event(event_id: str, kind: str, subscription: dict) -> dict:
    return {
        "id": event_id,
        "object": "event",
        "type": f"customer.subscription.{kind}",
        "data": {"object": subscription},
    }


def test_it_ends_out_of_order_subscription_events_in_stripes_current_state(
    client, tenant, stripe_on, rate_card
):
    from apps.billing.models import RateCard

    RateCard.objects.create(plan="pro", name="Pro")
    customer = stripe_gateway.customer_create(tenant_id=tenant.pk, name="Alice", email="alice@example.com")
    ReserveAccount.objects.create(tenant=tenant, stripe_customer_id=customer)
    client_ = stripe.StripeClient(SECRET_KEY, base_addresses={"api": stripe_on.url})
    product = client_.v1.products.create(params={"name": "Pro"})
    plan = client_.v1.plans.create(
        params={"product": product.id, "amount": 0, "currency": "usd", "interval": "month"}
    )
    created = client_.v1.subscriptions.create(
        params={"customer": customer, "items": [{"plan": plan.id}], "metadata": {"plan": "pro"}}
    )
    created_snapshot = created.to_dict()
    deleted_snapshot = client_.v1.subscriptions.cancel(created.id).to_dict()

    # The deletion arrives first, then the (older) creation saying "active".
    assert (
        post_webhook(client, _subscription_event("evt_del", "deleted", deleted_snapshot)).status_code == 200
    )
    assert (
        post_webhook(client, _subscription_event("evt_new", "created", created_snapshot)).status_code == 200
    )
    account = ReserveAccount.objects.get(tenant=tenant)
    assert (account.subscription_status, account.plan) == ("canceled", "standard")


def test_it_moves_an_active_subscription_to_its_plan(client, tenant, stripe_on, rate_card):
    from apps.billing.models import RateCard

    RateCard.objects.create(plan="pro", name="Pro")
    customer = stripe_gateway.customer_create(tenant_id=tenant.pk, name="Alice", email="alice@example.com")
    ReserveAccount.objects.create(tenant=tenant, stripe_customer_id=customer)
    client_ = stripe.StripeClient(SECRET_KEY, base_addresses={"api": stripe_on.url})
    product = client_.v1.products.create(params={"name": "Pro"})
    plan = client_.v1.plans.create(
        params={"product": product.id, "amount": 0, "currency": "usd", "interval": "month"}
    )
    created = client_.v1.subscriptions.create(
        params={"customer": customer, "items": [{"plan": plan.id}], "metadata": {"plan": "pro"}}
    )
    assert post_webhook(client, _subscription_event("evt_c", "created", created.to_dict())).status_code == 200
    account = ReserveAccount.objects.get(tenant=tenant)
    assert (account.subscription_status, account.plan, account.stripe_subscription_id) == (
        "active",
        "pro",
        created.id,
    )


def test_it_answers_500_when_stripe_is_down_and_applies_the_retry_once(client, tenant, stripe_on, rate_card):
    """A failure on the way (Stripe unreachable) is recorded and answered 500; Stripe's retry applies once."""
    from apps.billing.models import RateCard

    RateCard.objects.create(plan="pro", name="Pro")
    customer = stripe_gateway.customer_create(tenant_id=tenant.pk, name="Alice", email="alice@example.com")
    ReserveAccount.objects.create(tenant=tenant, stripe_customer_id=customer)
    client_ = stripe.StripeClient(SECRET_KEY, base_addresses={"api": stripe_on.url})
    product = client_.v1.products.create(params={"name": "Pro"})
    plan = client_.v1.plans.create(
        params={"product": product.id, "amount": 0, "currency": "usd", "interval": "month"}
    )
    created = client_.v1.subscriptions.create(
        params={"customer": customer, "items": [{"plan": plan.id}], "metadata": {"plan": "pro"}}
    )
    event = _subscription_event("evt_sub_down", "created", created.to_dict())

    stripe_on.fail(f"/v1/subscriptions/{created.id}", 500)
    failed = post_webhook(client, event)
    assert failed.status_code == 500
    row = StripeEvent.objects.get()
    assert (row.status, row.attempts, row.is_rejected) == (StripeEvent.Status.FAILED, 1, False)
    assert "PaymentFailed" in row.error
    assert ReserveAccount.objects.get(tenant=tenant).plan == "standard"

    stripe_on.heal()
    assert post_webhook(client, event).json()["outcome"] == "processed"
    assert post_webhook(client, event).json()["outcome"] == "duplicate"
    row.refresh_from_db()
    assert (row.status, row.attempts, row.error) == (StripeEvent.Status.PROCESSED, 2, "")
    assert ReserveAccount.objects.get(tenant=tenant).plan == "pro"
