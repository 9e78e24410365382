"""Stripe Tax: tax on top of the top-up, the reserve credited the amount before tax, receipts show all."""

import io

import pytest
from django.test import Client
from pypdf import PdfReader

from apps.billing import services, tasks
from apps.billing.models import LedgerEntry, Receipt, Refund, ReserveAccount, StripeEvent, TopUp
from tests.billing import fake_stripe_extras
from tests.billing.conftest import (
    auto_topup_pending,
    auto_topup_succeeded_event,
    checkout_completed_event,
    checkout_paid,
    post_webhook,
)

DOLLAR = 1_000_000


@pytest.fixture
def tax_on(settings, stripe_on):
    settings.STRIPE_TAX_ENABLED = True
    return stripe_on


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_it_adds_tax_on_top_in_checkout_and_credits_the_amount_before_tax(alice, tenant, tax_on):
    client = _client(alice)
    session, event = checkout_paid(client, tax_on, amount_cents=2000)
    tax = fake_stripe_extras.tax_on(2000)
    assert tax == 165
    stripe_session = fake_stripe_extras.CHECKOUT_SESSIONS[session["session_id"]]
    assert stripe_session["automatic_tax"]["enabled"] is True
    assert event["data"]["object"]["amount_total"] == 2165

    topup = TopUp.objects.get()
    assert (topup.amount_cents, topup.tax_cents, topup.charged_cents) == (2000, 165, 2165)
    assert ReserveAccount.objects.get(tenant=tenant).balance_micros == 20 * DOLLAR
    assert LedgerEntry.objects.get().amount_micros == 20 * DOLLAR
    receipt = Receipt.objects.get()
    assert (receipt.net_cents, receipt.tax_cents, receipt.total_cents) == (2000, 165, 2165)
    assert client.get("/api/billing/receipts/").json()["items"][0]["amount_cents"] == 2165

    page = client.get(f"/billing/receipts/{receipt.number}/").content.decode()
    assert 'id="receipt-net">$20.00' in page and 'id="receipt-tax">$1.65' in page
    assert 'id="receipt-total">$21.65' in page
    pdf = client.get(f"/billing/receipts/{receipt.number}/pdf/").content
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Net" in text and "$1.65" in text and "$21.65" in text


def test_it_asks_for_no_tax_when_stripe_tax_is_off(alice, tenant, stripe_on):
    session, _event = checkout_paid(_client(alice), stripe_on, amount_cents=2000)
    assert fake_stripe_extras.CHECKOUT_SESSIONS[session["session_id"]]["automatic_tax"]["enabled"] is False
    receipt = Receipt.objects.get()
    assert (receipt.net_cents, receipt.tax_cents, receipt.total_cents) == (2000, 0, 2000)


def test_it_taxes_an_automatic_top_up_before_charging_and_reports_the_sale(alice, tenant, tax_on):
    pending = auto_topup_pending(_client(alice), tenant, tax_on)  # the Checkout saves the address too
    assert tasks.auto_topup_charge(pending.pk) == "succeeded"
    pending.refresh_from_db()
    tax = fake_stripe_extras.tax_on(2500)
    assert (pending.tax_cents, pending.charged_cents) == (tax, 2500 + tax)
    assert pending.stripe_tax_calculation_id.startswith("taxcalc_")
    assert ReserveAccount.objects.get(tenant=tenant).balance_micros == (10 - 6 + 25) * DOLLAR
    receipt = Receipt.objects.get(topup=pending)
    assert (receipt.net_cents, receipt.tax_cents, receipt.total_cents) == (2500, tax, 2500 + tax)
    assert [t["reference"] for t in fake_stripe_extras.TAX_TRANSACTIONS.values()].count(
        pending.public_id
    ) == 1

    # Stripe's payment_intent.succeeded is checked against the taxed total, and credits nothing more.
    event = auto_topup_succeeded_event(pending, amount_cents=2500 + tax, event_id="evt_auto_taxed")
    assert post_webhook(Client(), event).json()["outcome"] == "processed"
    assert ReserveAccount.objects.get(tenant=tenant).balance_micros == 29 * DOLLAR
    assert Receipt.objects.filter(topup=pending).count() == 1


def test_it_fails_an_automatic_top_up_when_stripe_cannot_tax_it(alice, tenant, stripe_on, settings):
    pending = auto_topup_pending(_client(alice), tenant, stripe_on)  # no tax yet: no address collected
    settings.STRIPE_TAX_ENABLED = True
    assert tasks.auto_topup_charge(pending.pk) == "failed"
    pending.refresh_from_db()
    assert pending.status == TopUp.Status.FAILED
    assert "location isn't recognized" in pending.failure_reason
    assert ReserveAccount.objects.get(tenant=tenant).balance_micros == 4 * DOLLAR


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"total_details": {"amount_tax": 165}, "amount_total": 2165}, "without Stripe Tax"),
        (
            {
                "automatic_tax": {"enabled": True},
                "total_details": {"amount_tax": 165},
                "amount_subtotal": 2000,
            },
            "is not its subtotal 2000 plus tax 165",
        ),
        ({"automatic_tax": {"enabled": True}, "total_details": {"amount_tax": -5}}, "is not a whole number"),
        ({"amount_subtotal": 1900, "amount_total": 1900}, "the event says 1900 cents"),
    ],
)
def test_it_rejects_tax_figures_that_do_not_add_up(tenant, webhook_secret, changes, reason):
    event = checkout_completed_event(tenant=tenant, amount_cents=2000)
    event["data"]["object"].update(changes)
    assert services.webhook_event_process(event=event) == "rejected"
    assert reason in StripeEvent.objects.get().error
    assert LedgerEntry.objects.count() == 0 and Receipt.objects.count() == 0


def test_it_refunds_a_taxed_payment_by_share_and_gives_back_exactly_the_credit_in_the_end(
    alice, staff, tenant, tax_on
):
    checkout_paid(_client(alice), tax_on, amount_cents=2000)  # $21.65 charged, $20.00 credited
    topup = TopUp.objects.get()
    first = services.refund_start(
        topup_public_id=topup.public_id, actor=staff, amount_cents=1000, reason="Half"
    )
    assert first.reversal_micros == 9_237_875  # 10.00 x 20.00 / 21.65, rounded half up once
    rest = services.refund_start(
        topup_public_id=topup.public_id, actor=staff, amount_cents=1165, reason="Rest"
    )
    assert rest.reversal_micros == 20 * DOLLAR - 9_237_875
    assert ReserveAccount.objects.get(tenant=tenant).balance_micros == 0
    assert sum(Refund.objects.values_list("amount_cents", flat=True)) == 2165
