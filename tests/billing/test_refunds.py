"""Refunds: staff send money back through Stripe; the ledger records each refund once; unspent money only."""

import re

import pytest
import stripe
from django.test import Client

from apps.billing import services
from apps.billing.models import Hold, LedgerEntry, Receipt, Refund, ReserveAccount, TopUp
from apps.core.errors import ValidationFailed
from apps.core.models import Event
from tests.billing.conftest import SECRET_KEY, checkout_paid, post_webhook

DOLLAR = 1_000_000


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def paid(alice, tenant, stripe_on):
    """Alice's workspace paid $20.00 by card; (her client, the top-up)."""
    client = _signed_in(alice)
    checkout_paid(client, stripe_on, amount_cents=2000)
    return client, TopUp.objects.get()


def _refund_page(topup) -> str:
    return f"/billing/staff/payments/{topup.public_id}/refund/"


def _stripe(fake_stripe) -> stripe.StripeClient:
    return stripe.StripeClient(SECRET_KEY, base_addresses={"api": fake_stripe.url}, max_network_retries=0)


def _refunds_at_stripe(fake_stripe, topup) -> list:
    return list(
        _stripe(fake_stripe).v1.refunds.list(params={"payment_intent": topup.stripe_payment_intent_id}).data
    )


def _balance(tenant) -> int:
    return ReserveAccount.objects.get(tenant=tenant).balance_micros


def test_it_refunds_part_of_a_payment_once_and_shows_it_on_the_receipt(paid, staff, tenant, stripe_on):
    alice_client, topup = paid
    staff_client = _signed_in(staff)
    page = staff_client.get(_refund_page(topup)).content.decode()
    assert 'id="refund-allowed">$20.00' in page
    response = staff_client.post(_refund_page(topup), {"amount": "5", "reason": "Charged twice"}, follow=True)
    assert "Refunded $5.00 to the card of Alice&#x27;s workspace." in response.content.decode()

    refund = Refund.objects.get()
    assert (refund.status, refund.amount_cents, refund.reversal_micros) == ("succeeded", 500, 5 * DOLLAR)
    assert refund.stripe_refund_id.startswith("re_") and refund.requested_by == staff
    entry = LedgerEntry.objects.get(kind=LedgerEntry.Kind.REFUND)
    assert (entry.amount_micros, entry.idempotency_key) == (
        -5 * DOLLAR,
        f"stripe-refund:{refund.stripe_refund_id}",
    )
    assert _balance(tenant) == 15 * DOLLAR
    assert ReserveAccount.objects.get(tenant=tenant).held_micros == 0
    assert [r.amount for r in _refunds_at_stripe(stripe_on, topup)] == [500]

    # Stripe's own events for it (and their retries) record nothing more.
    charge_id = Receipt.objects.get().stripe_charge_id
    charge_refunded = stripe_on.post(f"/_config/charges/{charge_id}/refunded")
    assert post_webhook(alice_client, charge_refunded).json()["outcome"] == "processed"
    assert post_webhook(alice_client, charge_refunded).json()["outcome"] == "duplicate"
    updated = {
        "id": "evt_refund_updated",
        "object": "event",
        "type": "refund.updated",
        "data": {"object": {"id": refund.stripe_refund_id, "object": "refund", "status": "succeeded"}},
    }
    assert post_webhook(alice_client, updated).json()["outcome"] == "processed"
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND).count() == 1
    assert Refund.objects.count() == 1
    assert _balance(tenant) == 15 * DOLLAR

    receipt = Receipt.objects.get()
    detail = alice_client.get(f"/billing/receipts/{receipt.number}/").content.decode()
    assert "Refund · " in detail and "&minus;$5.00" in detail
    assert re.search(r'id="receipt-kept">\$15\.00<', detail)
    assert Event.objects.filter(kind="billing.refund.succeeded", tenant=tenant).count() == 1


def test_it_refuses_a_refund_above_what_is_unspent_and_sends_nothing_to_stripe(
    paid, staff, tenant, stripe_on
):
    _alice_client, topup = paid
    services.reserve_deduct(tenant=tenant, amount_micros=18 * DOLLAR, idempotency_key="spent")
    staff_client = _signed_in(staff)
    assert 'id="refund-allowed">$2.00' in staff_client.get(_refund_page(topup)).content.decode()
    response = staff_client.post(_refund_page(topup), {"amount": "5", "reason": "Unhappy"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Only $2.00 of this workspace&#x27;s reserve is unspent; refund at most $2.00." in page
    assert 'value="5"' in page and 'value="Unhappy"' in page  # what was typed is kept
    assert Refund.objects.count() == 0 and _refunds_at_stripe(stripe_on, topup) == []
    assert Hold.objects.count() == 0 and _balance(tenant) == 2 * DOLLAR


def test_it_refuses_more_than_is_left_of_the_payment(paid, staff, tenant, stripe_on):
    _alice_client, topup = paid
    services.refund_start(topup_public_id=topup.public_id, actor=staff, amount_cents=1500, reason="Part")
    with pytest.raises(ValidationFailed, match=r"Only \$5\.00 of this payment is left to refund"):
        services.refund_start(topup_public_id=topup.public_id, actor=staff, amount_cents=1000, reason="More")
    services.refund_start(topup_public_id=topup.public_id, actor=staff, amount_cents=500, reason="The rest")
    assert _balance(tenant) == 0
    page = _signed_in(staff).get(_refund_page(topup)).content.decode()
    assert "This payment has been refunded in full." in page


def test_it_records_a_refund_made_in_stripes_dashboard_once_even_when_the_money_was_spent(
    paid, tenant, stripe_on
):
    alice_client, topup = paid
    services.reserve_deduct(tenant=tenant, amount_micros=19_500_000, idempotency_key="spent")
    made_elsewhere = _stripe(stripe_on).v1.refunds.create(
        params={"payment_intent": topup.stripe_payment_intent_id}
    )
    event = stripe_on.post(f"/_config/charges/{made_elsewhere.charge}/refunded")
    assert post_webhook(alice_client, event).json()["outcome"] == "processed"
    again = {**event, "id": event["id"] + "_retry"}
    assert post_webhook(alice_client, again).json()["outcome"] == "processed"
    refund = Refund.objects.get()
    assert (refund.stripe_refund_id, refund.amount_cents, refund.requested_by) == (
        made_elsewhere.id,
        2000,
        None,
    )
    assert LedgerEntry.objects.get(kind=LedgerEntry.Kind.REFUND).amount_micros == -20 * DOLLAR
    assert _balance(tenant) == -19_500_000  # a refund that happened is recorded, spent or not
    assert Event.objects.filter(kind="billing.refund.overdrawn", tenant=tenant).exists()


def test_it_holds_a_pending_refund_and_settles_it_from_the_webhook(paid, staff, tenant, stripe_on):
    alice_client, topup = paid
    stripe_on.post("/_config/refunds/mode", {"status": "pending"})
    refund = services.refund_start(
        topup_public_id=topup.public_id, actor=staff, amount_cents=600, reason="Late"
    )
    assert refund.status == Refund.Status.PENDING
    account = ReserveAccount.objects.get(tenant=tenant)
    assert (account.balance_micros, account.available_micros) == (20 * DOLLAR, 14 * DOLLAR)
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND).exists()

    failing = services.refund_start(
        topup_public_id=topup.public_id, actor=staff, amount_cents=400, reason="Other"
    )
    failed_event = stripe_on.post(f"/_config/refunds/{failing.stripe_refund_id}/settle", {"status": "failed"})
    assert post_webhook(alice_client, failed_event).json()["outcome"] == "processed"
    assert Refund.objects.get(pk=failing.pk).status == Refund.Status.FAILED

    settled = stripe_on.post(f"/_config/refunds/{refund.stripe_refund_id}/settle", {"status": "succeeded"})
    assert post_webhook(alice_client, settled).json()["outcome"] == "processed"
    assert (
        post_webhook(alice_client, {**settled, "id": settled["id"] + "_2"}).json()["outcome"] == "processed"
    )
    account.refresh_from_db()
    assert (account.balance_micros, account.held_micros) == (14 * DOLLAR, 0)
    assert LedgerEntry.objects.get(kind=LedgerEntry.Kind.REFUND).amount_micros == -6 * DOLLAR
    assert set(Hold.objects.values_list("status", flat=True)) == {Hold.Status.VOIDED}


def test_it_releases_the_money_when_stripe_refuses_the_refund(paid, staff, tenant, stripe_on):
    _alice_client, topup = paid
    stripe_on.fail("/v1/refunds", 500)
    response = _signed_in(staff).post(_refund_page(topup), {"amount": "3", "reason": "Try"})
    assert response.status_code == 400
    assert "Stripe refused the request" in response.content.decode()
    refund = Refund.objects.get()
    assert refund.status == Refund.Status.FAILED and refund.failure_reason
    account = ReserveAccount.objects.get(tenant=tenant)
    assert (account.balance_micros, account.held_micros) == (20 * DOLLAR, 0)


def test_it_never_starts_an_automatic_top_up_because_of_a_refund(paid, staff, tenant, stripe_on):
    services.reserve_settings_update(
        tenant=tenant,
        actor=None,
        auto_topup_enabled=True,
        auto_topup_amount_cents=2500,
        auto_topup_threshold_micros=15 * DOLLAR,
        low_balance_threshold_micros=5 * DOLLAR,
    )
    _alice_client, topup = paid
    assert not TopUp.objects.filter(source=TopUp.Source.AUTOMATIC).exists()
    services.refund_start(topup_public_id=topup.public_id, actor=staff, amount_cents=1800, reason="Sorry")
    assert _balance(tenant) == 2 * DOLLAR
    assert not TopUp.objects.filter(source=TopUp.Source.AUTOMATIC).exists()


def test_it_keeps_refunds_to_staff(paid, alice, staff):
    alice_client, topup = paid
    assert alice_client.get(_refund_page(topup)).status_code == 404
    assert alice_client.post(_refund_page(topup), {"amount": "1", "reason": "x"}).status_code == 404
    assert Refund.objects.count() == 0
    with pytest.raises(Exception, match="Only staff"):
        services.refund_start(topup_public_id=topup.public_id, actor=alice, amount_cents=100, reason="x")
    assert _signed_in(staff).get("/billing/staff/payments/co_nope/refund/").status_code == 404


def test_it_lists_recent_payments_with_a_refund_link_for_staff(paid, staff):
    _alice_client, topup = paid
    page = _signed_in(staff).get("/billing/staff/").content.decode()
    assert _refund_page(topup) in page and Receipt.objects.get().number in page


def test_it_refuses_to_refund_a_simulated_payment(tenant, staff, settings, alice):
    settings.DEBUG = True
    client = _signed_in(alice)
    client.post(client.post("/billing/topup/", {"amount": "20"})["Location"])
    topup = TopUp.objects.get()
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    with pytest.raises(ValidationFailed, match="never charged"):
        services.refund_start(topup_public_id=topup.public_id, actor=staff, amount_cents=100, reason="x")


def test_it_ignores_a_refund_of_a_payment_that_is_not_ours(client, stripe_on, db):
    customer = _stripe(stripe_on).v1.customers.create(params={"email": "someone@example.com"})
    method = _stripe(stripe_on).v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        }
    )
    _stripe(stripe_on).v1.payment_methods.attach(method.id, params={"customer": customer.id})
    intent = _stripe(stripe_on).v1.payment_intents.create(
        params={
            "amount": 900,
            "currency": "usd",
            "customer": customer.id,
            "payment_method": method.id,
            "confirm": True,
        }
    )
    refund = _stripe(stripe_on).v1.refunds.create(params={"payment_intent": intent.id})
    event = {
        "id": "evt_foreign",
        "object": "event",
        "type": "refund.created",
        "data": {"object": {"id": refund.id}},
    }
    assert post_webhook(client, event).json()["outcome"] == "ignored"
    assert Refund.objects.count() == 0 and LedgerEntry.objects.count() == 0
