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


@dataclass(frozen=True)
class PaymentDetails:
    """What a receipt says about a payment: the card (when Stripe tells) and the charge behind it."""

    payment_method_id: str = ""
    charge_id: str = ""
    card_brand: str = ""
    card_last4: str = ""


@dataclass(frozen=True)
class TaxCalculation:
    id: str
    tax_cents: int
    total_cents: int


@dataclass(frozen=True)
class RefundInfo:
    id: str
    status: str
    amount_cents: int
    currency: str
    payment_intent_id: str
    charge_id: str
    metadata: dict
    failure_reason: str = ""


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
    automatic_tax: bool = False,
) -> HostedSession:
    """A hosted Checkout page that charges `amount_cents` once and saves the card for automatic top-ups.

    With `automatic_tax`, Stripe Tax adds tax on top of the amount (`tax_behavior: exclusive`), so the
    reserve gets what the person chose; the billing address is collected and saved on the customer, which
    automatic top-ups then use for their own tax calculation.
    """
    price_data = {
        "currency": currency,
        "unit_amount": amount_cents,
        "product_data": {"name": "AfterResume reserve top-up"},
    }
    params = {
        "mode": "payment",
        "customer": customer_id,
        "client_reference_id": metadata.get("tenant_id", ""),
        "line_items": [{"quantity": 1, "price_data": price_data}],
        "payment_intent_data": {"setup_future_usage": "off_session", "metadata": metadata},
        "metadata": metadata,
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    if automatic_tax:
        price_data["tax_behavior"] = "exclusive"
        params["automatic_tax"] = {"enabled": True}
        params["billing_address_collection"] = "required"
        params["customer_update"] = {"address": "auto", "name": "auto"}
    session = _call(
        _client().v1.checkout.sessions.create, params=params, options={"idempotency_key": idempotency_key}
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
    return payment_intent_details(payment_intent_id=payment_intent_id).payment_method_id


def _get(obj, key: str, default=None):
    """A field of a Stripe object or a plain dict, or `default` when it is absent or null."""
    if obj is None or isinstance(obj, str):
        return default
    try:
        value = obj[key]
    except (KeyError, TypeError):
        value = None
    return default if value is None else value


def _id_of(value) -> str:
    if not value:
        return ""
    return value if isinstance(value, str) else str(getattr(value, "id", "") or "")


def payment_intent_details(*, payment_intent_id: str) -> PaymentDetails:
    """The payment method, the charge and the card's brand and last four digits of a PaymentIntent."""
    intent = _call(
        _client().v1.payment_intents.retrieve, payment_intent_id, params={"expand": ["latest_charge"]}
    )
    charge = _get(intent, "latest_charge")
    card = _get(_get(charge, "payment_method_details"), "card")
    brand, last4 = str(_get(card, "brand", "")), str(_get(card, "last4", ""))
    return PaymentDetails(
        payment_method_id=_id_of(_get(intent, "payment_method")),
        charge_id=_id_of(charge),
        card_brand=brand[:20],
        card_last4=last4[-4:],
    )


def tax_calculation_create(
    *, customer_id: str, amount_cents: int, currency: str, reference: str
) -> TaxCalculation:
    """Stripe Tax on an amount charged without Checkout (automatic top-ups), tax added on top. The customer's
    address comes from their first Checkout; Stripe refuses when it has none (a PaymentFailed here)."""
    calculation = _call(
        _client().v1.tax.calculations.create,
        params={
            "currency": currency,
            "customer": customer_id,
            "line_items": [{"amount": amount_cents, "reference": reference, "tax_behavior": "exclusive"}],
        },
        options={"idempotency_key": f"taxcalc-{reference}"},
    )
    tax = int(_get(calculation, "tax_amount_exclusive", 0))
    return TaxCalculation(id=calculation.id, tax_cents=tax, total_cents=int(calculation.amount_total))


def tax_transaction_record(*, calculation_id: str, reference: str) -> str:
    """Tell Stripe Tax the calculated sale happened, so it is reported. Repeats return the first one."""
    transaction = _call(
        _client().v1.tax.transactions.create_from_calculation,
        params={"calculation": calculation_id, "reference": reference},
        options={"idempotency_key": f"taxtxn-{reference}"},
    )
    return transaction.id


def _refund_info(refund) -> RefundInfo:
    metadata = _get(refund, "metadata", {})
    metadata = metadata.to_dict() if hasattr(metadata, "to_dict") else dict(metadata)
    return RefundInfo(
        id=refund.id,
        status=str(_get(refund, "status", "")),
        amount_cents=int(_get(refund, "amount", 0)),
        currency=str(_get(refund, "currency", "")).lower(),
        payment_intent_id=_id_of(_get(refund, "payment_intent")),
        charge_id=_id_of(_get(refund, "charge")),
        metadata={str(key): str(value) for key, value in metadata.items()},
        failure_reason=str(_get(refund, "failure_reason", "")),
    )


def refund_create(
    *, payment_intent_id: str, amount_cents: int, metadata: dict[str, str], idempotency_key: str
) -> RefundInfo:
    """Send `amount_cents` of a payment back to its card. Stripe refuses more than is left to refund."""
    refund = _call(
        _client().v1.refunds.create,
        params={"payment_intent": payment_intent_id, "amount": amount_cents, "metadata": metadata},
        options={"idempotency_key": idempotency_key},
    )
    return _refund_info(refund)


def refund_retrieve(*, refund_id: str) -> RefundInfo:
    """Stripe's current view of a refund (an event is only a claim; this is what we record)."""
    return _refund_info(_call(_client().v1.refunds.retrieve, refund_id))


def refund_list(*, payment_intent_id: str) -> list[RefundInfo]:
    """Every refund of a payment, as Stripe has them now."""
    page = _call(_client().v1.refunds.list, params={"payment_intent": payment_intent_id, "limit": 100})
    return [_refund_info(refund) for refund in page.data]


def customer_delete(*, customer_id: str) -> None:
    """Remove the customer (and its saved cards) from Stripe; its payments and refunds stay there."""
    try:
        _client().v1.customers.delete(customer_id)
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            return  # already gone
        raise PaymentFailed(f"Stripe refused to delete the customer: {exc.user_message}") from exc
    except stripe.StripeError as exc:
        raise PaymentFailed("We could not reach Stripe to delete the customer.") from exc


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
