"""The one module that talks to Stripe. Everything else sees plain values and our own errors.

`STRIPE_API_BASE` points the SDK at another Stripe-compatible server (the tests start one on loopback).
"""

import json
from dataclasses import dataclass

import stripe
from django.conf import settings

from apps.billing.errors import CardDeclined, PaymentFailed, PaymentsUnavailable

WEBHOOK_TOLERANCE_SECONDS = 300


class SignatureInvalid(Exception):
    pass


@dataclass(frozen=True)
class HostedSession:
    id: str
    url: str


@dataclass(frozen=True)
class Charge:
    payment_intent_id: str
    status: str


def is_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def _client() -> stripe.StripeClient:
    if not is_configured():
        raise PaymentsUnavailable("Card payments are not set up on this server.")
    base = settings.STRIPE_API_BASE
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": base} if base else None,
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
    )


def _call(operation, *args, **kwargs):
    try:
        return operation(*args, **kwargs)
    except stripe.CardError as exc:
        raise CardDeclined(exc.user_message or "The card was declined.", extra={"code": exc.code}) from exc
    except stripe.APIConnectionError as exc:
        raise PaymentFailed("We could not reach Stripe. Please try again in a minute.") from exc
    except stripe.StripeError as exc:
        raise PaymentFailed(
            f"Stripe refused the request: {exc.user_message or 'unknown error'}",
            extra={"code": getattr(exc, "code", None), "http_status": exc.http_status},
        ) from exc


def customer_create(*, tenant_id: int, name: str, email: str) -> str:
    """A new Stripe customer for a workspace. The idempotency key makes racing creations return one."""
    customer = _call(
        _client().v1.customers.create,
        params={"name": name[:250], "email": email, "metadata": {"tenant_id": str(tenant_id)}},
        options={"idempotency_key": f"afterresume-customer-{tenant_id}"},
    )
    return customer.id


def checkout_session_create(
    *,
    customer_id: str,
    amount_cents: int,
    currency: str,
    metadata: dict[str, str],
    idempotency_key: str,
    success_url: str,
    cancel_url: str,
) -> HostedSession:
    """A hosted Checkout page that charges `amount_cents` once and saves the card for automatic top-ups."""
    session = _call(
        _client().v1.checkout.sessions.create,
        params={
            "mode": "payment",
            "customer": customer_id,
            "client_reference_id": metadata.get("tenant_id", ""),
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": currency,
                        "unit_amount": amount_cents,
                        "product_data": {"name": "AfterResume reserve top-up"},
                    },
                }
            ],
            "payment_intent_data": {"setup_future_usage": "off_session", "metadata": metadata},
            "metadata": metadata,
            "success_url": success_url,
            "cancel_url": cancel_url,
        },
        options={"idempotency_key": idempotency_key},
    )
    return HostedSession(id=session.id, url=session.url)


def portal_session_create(*, customer_id: str, return_url: str) -> HostedSession:
    session = _call(
        _client().v1.billing_portal.sessions.create,
        params={"customer": customer_id, "return_url": return_url},
    )
    return HostedSession(id=session.id, url=session.url)


def payment_intent_charge_off_session(
    *,
    customer_id: str,
    payment_method_id: str,
    amount_cents: int,
    currency: str,
    metadata: dict[str, str],
    idempotency_key: str,
) -> Charge:
    """Charge the saved card while the person is away (automatic top-up). Raises CardDeclined."""
    intent = _call(
        _client().v1.payment_intents.create,
        params={
            "amount": amount_cents,
            "currency": currency,
            "customer": customer_id,
            "payment_method": payment_method_id,
            "off_session": True,
            "confirm": True,
            "metadata": metadata,
        },
        options={"idempotency_key": idempotency_key},
    )
    return Charge(payment_intent_id=intent.id, status=intent.status)


def payment_intent_payment_method(*, payment_intent_id: str) -> str:
    intent = _call(_client().v1.payment_intents.retrieve, payment_intent_id)
    method = intent.payment_method
    return method if isinstance(method, str) else (method.id if method else "")


def subscription_current(*, subscription_id: str) -> dict:
    """Stripe's current view of a subscription (events may arrive out of order; this never does)."""
    subscription = _call(_client().v1.subscriptions.retrieve, subscription_id)
    return {
        "id": subscription.id,
        "status": subscription.status,
        "customer": subscription.customer,
        "metadata": subscription.metadata.to_dict() if subscription.metadata else {},
    }


def webhook_event_verify(*, payload: bytes, signature_header: str) -> dict:
    """The event in a webhook body, after checking Stripe's signature and its 300 s timestamp tolerance."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise SignatureInvalid("No webhook secret is configured.")
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature_header, secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError as exc:
        raise SignatureInvalid(str(exc).split(".")[0]) from exc
    try:
        event = json.loads(payload)
    except ValueError as exc:
        raise SignatureInvalid("The body is not JSON.") from exc
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise SignatureInvalid("The body is not a Stripe event.")
    return event
