"""A signed event is only a claim: money is credited for what our TopUp record asked for, nothing else.

Mismatches are recorded as FAILED events for staff, credit nothing and are answered 200 (a retry would be
refused the same way). Real Checkout payments go through the loopback Stripe server.
"""

import pytest

from apps.billing.models import LedgerEntry, ReserveAccount, StripeEvent, TopUp
from apps.core.models import Event
from tests.billing.conftest import checkout_completed_event, checkout_topup, post_webhook
from tests.billing.test_stripe_flows import _pay_on_hosted_page

DOLLAR = 1_000_000


def _balance(tenant) -> int:
    account = ReserveAccount.objects.filter(tenant=tenant).first()
    return account.balance_micros if account else 0


def _rejected(client, event) -> StripeEvent:
    response = post_webhook(client, event)
    assert response.status_code == 200, response.content
    assert response.json() == {"received": True, "outcome": "rejected"}
    row = StripeEvent.objects.get(event_id=event["id"])
    assert row.status == StripeEvent.Status.FAILED and row.is_rejected
    assert not LedgerEntry.objects.exists()
    return row


def test_it_credits_the_top_ups_amount_not_a_forged_one(client, tenant, webhook_secret):
    event = checkout_completed_event(tenant=tenant, amount_cents=2000)
    event["data"]["object"]["amount_total"] = 50_000
    row = _rejected(client, event)
    assert "the event says 50000 cents" in row.error and "is for 2000 cents" in row.error
    assert row.tenant == tenant
    assert TopUp.objects.get().status == TopUp.Status.PENDING
    assert _balance(tenant) == 0


@pytest.mark.parametrize("amount", [None, "2000", 20.0, True])
def test_it_rejects_an_amount_that_is_not_whole_cents(client, tenant, webhook_secret, amount):
    event = checkout_completed_event(tenant=tenant, amount_cents=2000)
    event["data"]["object"]["amount_total"] = amount
    _rejected(client, event)


def test_it_never_credits_one_workspace_with_another_workspaces_session(
    client, tenant, other_tenant, webhook_secret
):
    theirs = checkout_topup(tenant=other_tenant, amount_cents=2000)
    event = checkout_completed_event(
        tenant=tenant, amount_cents=2000, session_id=theirs.stripe_object_id, record=False
    )
    row = _rejected(client, event)
    assert "of workspace 'charlie'" in row.error
    assert row.tenant == other_tenant
    assert (_balance(tenant), _balance(other_tenant)) == (0, 0)


def test_it_rejects_a_session_that_names_another_top_up(client, tenant, webhook_secret):
    mine = checkout_topup(tenant=tenant, amount_cents=2000)
    event = checkout_completed_event(tenant=tenant, amount_cents=2000)
    event["data"]["object"]["metadata"]["topup_id"] = mine.public_id
    row = _rejected(client, event)
    assert f"names top-up {mine.public_id}" in row.error


def test_it_rejects_an_unknown_session(client, tenant, webhook_secret):
    row = _rejected(client, checkout_completed_event(tenant=tenant, amount_cents=2000, record=False))
    assert "no top-up of ours was started with Checkout Session cs_test_" in row.error
    assert row.tenant == tenant


def test_it_rejects_an_unknown_session_for_no_known_workspace(client, tenant, webhook_secret):
    event = checkout_completed_event(tenant=tenant, amount_cents=2000, record=False)
    event["data"]["object"]["metadata"]["tenant_id"] = "999999"
    assert _rejected(client, event).tenant is None


def test_it_rejects_a_currency_mismatch(client, tenant, webhook_secret):
    event = checkout_completed_event(tenant=tenant, amount_cents=2000, currency="eur")
    row = _rejected(client, event)
    assert "currency 'eur'" in row.error and "is in usd" in row.error


def test_it_rejects_a_session_paid_by_another_customer(client, tenant, webhook_secret):
    event = checkout_completed_event(tenant=tenant, amount_cents=2000, customer="cus_someone_else")
    ReserveAccount.objects.filter(tenant=tenant).update(stripe_customer_id="cus_alice")
    assert "paid by customer cus_someone_else" in _rejected(client, event).error


def test_it_still_ignores_sessions_that_are_not_reserve_top_ups(client, tenant, webhook_secret):
    event = checkout_completed_event(tenant=tenant, amount_cents=2000, record=False)
    event["data"]["object"]["metadata"] = {"purpose": "something_else"}
    assert post_webhook(client, event).json()["outcome"] == "ignored"


def test_it_does_not_ask_for_retries_of_a_rejected_event_but_rechecks_a_resend(
    client, tenant, webhook_secret
):
    event = checkout_completed_event(tenant=tenant, amount_cents=2000)
    event["data"]["object"]["amount_total"] = 2500
    _rejected(client, event)
    # Staff find the top-up really was for $25 (say, corrected by hand) and resend it from Stripe.
    TopUp.objects.update(amount_cents=2500)
    assert post_webhook(client, event).json()["outcome"] == "processed"
    row = StripeEvent.objects.get()
    assert (row.status, row.attempts, row.error) == (StripeEvent.Status.PROCESSED, 2, "")
    assert _balance(tenant) == 25 * DOLLAR


def test_it_credits_a_session_once_however_many_events_name_it(client, tenant, webhook_secret):
    event = checkout_completed_event(tenant=tenant, amount_cents=2000)
    assert post_webhook(client, event).json()["outcome"] == "processed"
    assert post_webhook(client, event).json()["outcome"] == "duplicate"
    for index in range(3):
        event["id"] = f"evt_redelivery_{index}"
        assert post_webhook(client, event).json()["outcome"] == "processed"
    assert (_balance(tenant), LedgerEntry.objects.count()) == (20 * DOLLAR, 1)
    assert TopUp.objects.get().status == TopUp.Status.SUCCEEDED


def test_it_shows_rejected_events_to_staff(client, staff_client, tenant, webhook_secret):
    event = checkout_completed_event(tenant=tenant, amount_cents=2000, currency="eur")
    _rejected(client, event)
    page = staff_client.get("/billing/staff/").content.decode()
    assert event["id"] in page
    assert "Not credited: the event says currency" in page
    assert "Rejected" in page


def test_it_credits_a_paid_top_up_when_the_card_lookup_fails(alice_client, tenant, stripe_on):
    """Stripe answering 500 for the PaymentIntent must not cost the person their money."""
    response = alice_client.post(
        "/api/billing/topup/session/", {"amount_cents": 2000}, content_type="application/json"
    )
    event = _pay_on_hosted_page(stripe_on, response.json()["session_id"])
    intent = event["data"]["object"]["payment_intent"]
    stripe_on.fail(f"/v1/payment_intents/{intent}", 500)

    answer = post_webhook(alice_client, event)
    assert answer.json() == {"received": True, "outcome": "processed"}
    account = ReserveAccount.objects.get(tenant=tenant)
    assert (account.balance_micros, account.stripe_payment_method_id) == (20 * DOLLAR, "")
    row = StripeEvent.objects.get()
    assert row.status == StripeEvent.Status.PROCESSED
    assert "Credited, but the card was not saved for automatic top-ups" in row.error
    assert Event.objects.filter(kind="billing.card_not_saved", tenant=tenant).exists()
    assert TopUp.objects.get().status == TopUp.Status.SUCCEEDED
    page = alice_client.get("/billing/").content.decode()
    assert "Needs a card saved by a first top-up through Stripe." in page


def test_it_saves_the_card_when_the_lookup_works(alice_client, tenant, stripe_on):
    response = alice_client.post(
        "/api/billing/topup/session/", {"amount_cents": 2000}, content_type="application/json"
    )
    post_webhook(alice_client, _pay_on_hosted_page(stripe_on, response.json()["session_id"]))
    assert ReserveAccount.objects.get(tenant=tenant).stripe_payment_method_id.startswith("pm_")
    assert StripeEvent.objects.get().error == ""


def _auto_topup_event(topup: TopUp, **intent) -> dict:
    return {
        "id": f"evt_auto_{topup.public_id}",
        "object": "event",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": "pi_auto_1",
                "object": "payment_intent",
                "amount": topup.amount_cents,
                "amount_received": topup.amount_cents,
                "currency": "usd",
                "metadata": {
                    "tenant_id": str(topup.tenant_id),
                    "topup_id": topup.public_id,
                    "purpose": "auto_topup",
                },
                **intent,
            }
        },
    }


def _pending_auto_topup(tenant) -> TopUp:
    return TopUp.objects.create(
        tenant=tenant,
        account=ReserveAccount.objects.get_or_create(tenant=tenant)[0],
        public_id=TopUp.new_public_id("auto"),
        source=TopUp.Source.AUTOMATIC,
        amount_cents=2500,
    )


def test_it_credits_an_automatic_top_up_from_its_record(client, tenant, webhook_secret):
    topup = _pending_auto_topup(tenant)
    assert post_webhook(client, _auto_topup_event(topup)).json()["outcome"] == "processed"
    assert _balance(tenant) == 25 * DOLLAR
    topup.refresh_from_db()
    assert (topup.status, topup.stripe_object_id) == (TopUp.Status.SUCCEEDED, "pi_auto_1")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"amount_received": 250_000}, "the event says 250000 cents"),
        ({"currency": "gbp"}, "currency 'gbp'"),
        ({"metadata": {"tenant_id": "1", "topup_id": "auto_nope", "purpose": "auto_topup"}}, "auto_nope"),
    ],
)
def test_it_rejects_an_automatic_top_up_that_does_not_match(client, tenant, webhook_secret, change, message):
    topup = _pending_auto_topup(tenant)
    assert message in _rejected(client, _auto_topup_event(topup, **change)).error
    assert _balance(tenant) == 0


def test_it_rejects_a_second_payment_intent_for_a_charged_top_up(client, tenant, webhook_secret):
    topup = _pending_auto_topup(tenant)
    TopUp.objects.filter(pk=topup.pk).update(stripe_object_id="pi_the_real_one")
    assert "was charged by pi_the_real_one" in _rejected(client, _auto_topup_event(topup)).error


def test_it_completes_a_simulated_checkout_through_the_same_rules(alice_client, tenant, settings):
    settings.DEBUG = True
    checkout = alice_client.post("/billing/topup/", {"amount": "20"})["Location"]
    TopUp.objects.update(amount_cents=1000)  # the record no longer says what the page offered
    alice_client.post(checkout, {"action": "pay"})
    assert _balance(tenant) == 10 * DOLLAR
    assert StripeEvent.objects.get().status == StripeEvent.Status.PROCESSED


def test_it_never_pays_a_simulated_checkout_from_outside_development(client, tenant, webhook_secret):
    topup = TopUp.objects.create(
        tenant=tenant,
        account=ReserveAccount.objects.create(tenant=tenant),
        public_id="sim_cs_abc",
        source=TopUp.Source.SIMULATED,
        amount_cents=2000,
        stripe_object_id="sim_cs_abc",
    )
    event = checkout_completed_event(
        tenant=tenant, amount_cents=2000, session_id=topup.public_id, record=False
    )
    event["data"]["object"]["metadata"]["topup_id"] = topup.public_id
    assert "is a simulated checkout" in _rejected(client, event).error
