"""Billing fixtures: a Stripe-compatible server on loopback, signed webhooks, and a reconcile check
after every test that touched the database (so `billing_reconcile` stays clean across the suite)."""

import json
import time

import pytest
import stripe

from apps.billing import selectors, services
from apps.billing.models import TopUp
from tests.billing.fake_stripe_extras import shared_server

WEBHOOK_SECRET = "whsec_test_afterresume"
SECRET_KEY = "sk_test_afterresume"

DB_FIXTURES = {"db", "transactional_db", "live_server"}


@pytest.fixture(autouse=True)
def _ledger_reconciles(request):
    uses_db = DB_FIXTURES & set(request.fixturenames) or request.node.get_closest_marker("django_db")
    if not uses_db:
        yield
        return
    request.getfixturevalue("_django_db_helper")  # set up first, so this check runs before the rollback
    yield
    if "ledger_may_break" in request.fixturenames:
        return
    _accounts, problems = selectors.reconcile_problems()
    assert not problems, problems


@pytest.fixture
def ledger_may_break():
    """For tests that corrupt the ledger on purpose to see the reconcile command catch it."""


@pytest.fixture(scope="session")
def fake_stripe_server():
    server = shared_server()
    yield server
    server.stop()


@pytest.fixture
def fake_stripe(fake_stripe_server):
    """The loopback server, answering normally again after each test that made it fail."""
    yield fake_stripe_server
    fake_stripe_server.heal()


@pytest.fixture
def stripe_on(settings, fake_stripe):
    """Stripe configured and pointed at the loopback server."""
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_afterresume"
    settings.STRIPE_API_BASE = fake_stripe.url
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    return fake_stripe


@pytest.fixture
def webhook_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    return WEBHOOK_SECRET


@pytest.fixture
def rate_card(db):
    card, _ = services.rate_card_install_default()
    return card


def sign(payload: str, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The Stripe-Signature header, computed by the stripe SDK's own helper."""
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)


def post_webhook(client, event: dict, *, header: str | None = None, timestamp: int | None = None):
    payload = json.dumps(event)
    return client.post(
        "/api/billing/webhook/",
        data=payload,
        content_type="application/json",
        headers={"Stripe-Signature": header if header is not None else sign(payload, timestamp=timestamp)},
    )


def checkout_topup(*, tenant, amount_cents: int, session_id: str | None = None) -> TopUp:
    """The TopUp record a Checkout start leaves behind (what the webhook must match)."""
    return TopUp.objects.create(
        tenant=tenant,
        account=services.reserve_account_ensure(tenant=tenant),
        public_id=TopUp.new_public_id("co"),
        source=TopUp.Source.CHECKOUT,
        amount_cents=amount_cents,
        stripe_object_id=session_id or f"cs_test_{time.time_ns()}",
    )


def checkout_completed_event(
    *, tenant, amount_cents: int, session_id: str | None = None, record: bool = True, **session
) -> dict:
    """Stripe's event for a paid Checkout Session; with `record`, the matching TopUp is created first."""
    session_id = session_id or f"cs_test_{time.time_ns()}"
    topup_id = ""
    if record:
        topup_id = checkout_topup(tenant=tenant, amount_cents=amount_cents, session_id=session_id).public_id
    return {
        "id": f"evt_{session_id}",
        "object": "event",
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": session_id,
                "object": "checkout.session",
                "payment_status": "paid",
                "amount_total": amount_cents,
                "currency": "usd",
                "customer": None,
                "payment_intent": None,
                "metadata": {"tenant_id": str(tenant.pk), "topup_id": topup_id, "purpose": "reserve_topup"},
                **session,
            }
        },
    }


def checkout_paid(client, fake_stripe, amount_cents: int = 2000) -> tuple[dict, dict]:
    """Start a top-up through the API as the client's person, pay it on the loopback Stripe and deliver
    Stripe's `checkout.session.completed`: (the session answer, the event)."""
    response = client.post(
        "/api/billing/topup/session/", {"amount_cents": amount_cents}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    session = response.json()
    event = fake_stripe.pay_checkout(session["session_id"])
    assert post_webhook(client, event).status_code == 200
    return session, event


def auto_topup_pending(client, tenant, fake_stripe) -> TopUp:
    """Pay $10.00 by Checkout (saving the card), turn on automatic top-ups of $25.00 under $5.00, and spend
    $6.00: the automatic top-up that leaves behind, not charged yet."""
    checkout_paid(client, fake_stripe, amount_cents=1000)
    services.reserve_settings_update(
        tenant=tenant,
        actor=None,
        auto_topup_enabled=True,
        auto_topup_amount_cents=2500,
        auto_topup_threshold_micros=5_000_000,
        low_balance_threshold_micros=5_000_000,
    )
    services.reserve_deduct(tenant=tenant, amount_micros=6_000_000, idempotency_key="use")
    return TopUp.objects.get(source=TopUp.Source.AUTOMATIC)


def auto_topup_succeeded_event(topup: TopUp, *, amount_cents: int, event_id: str) -> dict:
    """Stripe's `payment_intent.succeeded` for a charged automatic top-up."""
    return {
        "id": event_id,
        "object": "event",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": topup.stripe_object_id,
                "object": "payment_intent",
                "amount": amount_cents,
                "amount_received": amount_cents,
                "currency": "usd",
                "metadata": {
                    "tenant_id": str(topup.tenant_id),
                    "topup_id": topup.public_id,
                    "purpose": "auto_topup",
                },
            }
        },
    }
