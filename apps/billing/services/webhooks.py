"""Applying Stripe events. Events arrive more than once and out of order, and even a correctly signed event
is only a claim: money is credited for what our own TopUp record asked for, never for what the event says.

Each event id is inserted under a unique constraint in the same transaction as its effect: a duplicate,
even a concurrent one, waits on the insert, then finds the row and does nothing. Besides `processed`:

- `ignored`: genuine but not ours to act on (another purpose, an unpaid session, a type we do not handle).
- `rejected`: it claims to pay one of our top-ups but does not match the TopUp record (unknown session,
  another workspace, another amount or currency). Nothing is credited; the row is FAILED with the reason
  (starting with StripeEvent.REJECTED_PREFIX) on the staff billing page. The webhook answers 200: a retry
  would be refused the same way, so asking Stripe to retry a forged or mismatched event for three days
  only hides real failures. Resending it from Stripe's dashboard re-checks it (a FAILED row is re-claimed).
- a failure: something broke on the way (Stripe or the database unreachable). The effect rolls back, the
  failure is recorded in its own transaction and re-raised, so the webhook answers 500 and Stripe retries;
  the retry takes the failed row's lock and applies it once.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.accounts.models import Tenant
from apps.billing import stripe_gateway
from apps.billing.errors import PaymentFailed, PaymentsUnavailable
from apps.billing.models import RateCard, ReserveAccount, StripeEvent, TopUp
from apps.billing.services.pricing import DEFAULT_PLAN
from apps.billing.services.receipts import receipt_issue
from apps.billing.services.refunds import refund_settle, refunds_from_stripe
from apps.billing.services.reserve import reserve_credit
from apps.billing.services.topups import (
    AUTO_TOPUP_PURPOSE,
    TOPUP_PURPOSE,
    _auto_topup_turn_off,
    auto_topup_settle,
    topup_mark,
    topup_mode,
)
from apps.core.errors import NotFound
from apps.core.events import emit_event
from apps.core.input import parse_id
from apps.core.money import cents_to_micros

logger = logging.getLogger(__name__)

DUPLICATE = "duplicate"
REJECTED = "rejected"
PROCESSED = StripeEvent.Status.PROCESSED
IGNORED = StripeEvent.Status.IGNORED
ACTIVE_SUBSCRIPTION_STATES = {"active", "trialing", "past_due"}
NOT_CREDITED = StripeEvent.REJECTED_PREFIX


@dataclass(frozen=True)
class Applied:
    """What a handler did: the workspace it concerned, and a note for staff when something was left out."""

    tenant: Tenant
    note: str = ""


class Ignore(Exception):
    """The event is genuine but not ours to act on (another purpose, not paid yet)."""


class Reject(Exception):
    """The event does not match our records: credit nothing, tell staff, do not ask Stripe to retry."""

    def __init__(self, message: str, *, tenant: Tenant | None = None):
        super().__init__(NOT_CREDITED + message)
        self.tenant = tenant


def _metadata_tenant(metadata: dict) -> Tenant | None:
    tenant_id = parse_id(str(metadata.get("tenant_id") or ""))
    return Tenant.objects.filter(pk=tenant_id).first() if tenant_id is not None else None


def _account_for_customer(customer_id) -> ReserveAccount:
    account = ReserveAccount.objects.filter(stripe_customer_id=customer_id).first() if customer_id else None
    if account is None:
        raise Ignore(f"no workspace for customer {customer_id!r}")
    return account


def _check_matches(obj: dict, topup: TopUp, *, amount_key: str, expected_cents: int | None = None) -> None:
    """Same workspace, same customer, same amount, same currency as the TopUp, or Reject.

    `expected_cents` is the amount `obj[amount_key]` must be (the top-up's own amount unless given)."""
    expected = topup.amount_cents if expected_cents is None else expected_cents
    metadata = obj.get("metadata") or {}
    account = topup.account
    named_tenant = str(metadata.get("tenant_id") or "")
    if named_tenant != str(topup.tenant_id):
        raise Reject(
            f"{obj.get('id')} pays top-up {topup.public_id} of workspace {topup.tenant.slug!r}, "
            f"but the event names workspace id {named_tenant or 'none'}.",
            tenant=topup.tenant,
        )
    customer = obj.get("customer")
    if customer and account.stripe_customer_id and customer != account.stripe_customer_id:
        raise Reject(
            f"{obj.get('id')} was paid by customer {customer}, not {account.stripe_customer_id} of workspace "
            f"{topup.tenant.slug!r}.",
            tenant=topup.tenant,
        )
    amount = obj.get(amount_key)
    if isinstance(amount, bool) or not isinstance(amount, int) or amount != expected:
        raise Reject(
            f"the event says {amount!r} cents; top-up {topup.public_id} is for {expected} cents.",
            tenant=topup.tenant,
        )
    currency = str(obj.get("currency") or "").lower()
    if currency != account.currency:
        raise Reject(
            f"the event says currency {currency or 'none'!r}; top-up {topup.public_id} is in "
            f"{account.currency}.",
            tenant=topup.tenant,
        )


def _checkout_topup(session: dict) -> TopUp:
    """The TopUp this Checkout Session pays, found by the session id and checked against the event."""
    session_id = str(session.get("id") or "")
    metadata = session.get("metadata") or {}
    named = str(metadata.get("topup_id") or "")
    checkout = Q(source=TopUp.Source.CHECKOUT, stripe_object_id=session_id)
    simulated = Q(source=TopUp.Source.SIMULATED) & (Q(stripe_object_id=session_id) | Q(public_id=session_id))
    topup = (
        TopUp.objects.select_related("account", "tenant").filter(checkout | simulated).first()
        if session_id
        else None
    )
    if topup is None:
        raise Reject(
            f"no top-up of ours was started with Checkout Session {session_id or '(none)'}"
            + (f" (the event names top-up {named})." if named else "."),
            tenant=_metadata_tenant(metadata),
        )
    if named and named != topup.public_id:
        raise Reject(
            f"session {session_id} belongs to top-up {topup.public_id}, but the event names top-up {named}.",
            tenant=topup.tenant,
        )
    if topup.source == TopUp.Source.SIMULATED and topup_mode() != "simulated":
        raise Reject(
            f"{topup.public_id} is a simulated checkout; they are paid only in development without a "
            "Stripe key.",
            tenant=topup.tenant,
        )
    tax = _session_tax(session, topup)
    total = session.get("amount_total")
    subtotal = session.get("amount_subtotal", total - tax if _is_cents(total) else total)
    _check_matches({**session, "amount_subtotal": subtotal}, topup, amount_key="amount_subtotal")
    if total != subtotal + tax:
        raise Reject(
            f"the event's total {total!r} cents is not its subtotal {subtotal} plus tax {tax}.",
            tenant=topup.tenant,
        )
    return topup


def _is_cents(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _session_tax(session: dict, topup: TopUp) -> int:
    """Stripe Tax's amount on a session; tax only counts when the session had automatic tax on."""
    tax = (session.get("total_details") or {}).get("amount_tax") or 0
    if not _is_cents(tax):
        raise Reject(f"the event's tax {tax!r} is not a whole number of cents.", tenant=topup.tenant)
    if tax and not (session.get("automatic_tax") or {}).get("enabled"):
        raise Reject(f"the event charges {tax} cents of tax without Stripe Tax.", tenant=topup.tenant)
    return tax


def _payment_details(payment_intent_id: str, topup: TopUp) -> tuple[stripe_gateway.PaymentDetails, str]:
    """(card and charge, note). Not being able to look the card up never stops the credit."""
    if not payment_intent_id:
        return stripe_gateway.PaymentDetails(), ""
    try:
        return stripe_gateway.payment_intent_details(payment_intent_id=payment_intent_id), ""
    except (PaymentFailed, PaymentsUnavailable) as exc:
        logger.warning("top-up %s credited; card lookup failed: %s", topup.public_id, exc.message)
        emit_event(
            "billing.card_not_saved", tenant=topup.tenant, topup=topup.public_id, reason=exc.message[:300]
        )
        return (
            stripe_gateway.PaymentDetails(),
            f"Credited, but the card was not saved for automatic top-ups: {exc.message}",
        )


def _on_checkout_completed(session: dict) -> Applied:
    metadata = session.get("metadata") or {}
    if metadata.get("purpose") != TOPUP_PURPOSE:
        raise Ignore("not a reserve top-up")
    if session.get("payment_status") != "paid":
        raise Ignore(f"payment status is {session.get('payment_status')!r}")
    topup = _checkout_topup(session)
    payment_intent = str(session.get("payment_intent") or "")
    details, note = _payment_details(payment_intent, topup)
    entry = reserve_credit(
        tenant=topup.tenant,
        amount_micros=cents_to_micros(topup.amount_cents),
        idempotency_key=f"stripe:{session['id']}",
        stripe_object_id=session["id"],
        memo="Top-up" + (" (simulated)" if topup.source == TopUp.Source.SIMULATED else ""),
    )
    account = topup.account
    updates = {}
    if session.get("customer") and not account.stripe_customer_id:
        updates["stripe_customer_id"] = session["customer"]
    if details.payment_method_id:
        updates["stripe_payment_method_id"] = details.payment_method_id
    if updates:
        ReserveAccount.objects.filter(pk=account.pk).update(**updates)
    tax = _session_tax(session, topup)
    TopUp.objects.filter(pk=topup.pk).update(tax_cents=tax, stripe_payment_intent_id=payment_intent)
    topup.tax_cents, topup.stripe_payment_intent_id = tax, payment_intent
    topup_mark(public_id=topup.public_id, status=TopUp.Status.SUCCEEDED, stripe_object_id=session["id"])
    customer = session.get("customer_details") or {}
    receipt_issue(
        topup=topup,
        entry=entry,
        details=details,
        checkout_session_id=session["id"] if topup.source == TopUp.Source.CHECKOUT else "",
        payment_intent_id=payment_intent,
        billed_to_name=str(customer.get("name") or ""),
        billed_to_email=str(customer.get("email") or ""),
    )
    return Applied(topup.tenant, note)


def _auto_topup(intent: dict) -> TopUp:
    """The pending or settled automatic TopUp this PaymentIntent charges, checked against the event."""
    metadata = intent.get("metadata") or {}
    if metadata.get("purpose") != AUTO_TOPUP_PURPOSE:
        raise Ignore("not an automatic top-up (Checkout payments are credited from the session)")
    named = str(metadata.get("topup_id") or "")
    topup = (
        TopUp.objects.select_related("account", "tenant")
        .filter(source=TopUp.Source.AUTOMATIC, public_id=named)
        .first()
    )
    if topup is None:
        raise Reject(
            f"no automatic top-up of ours is called {named or '(none)'} (PaymentIntent {intent.get('id')}).",
            tenant=_metadata_tenant(metadata),
        )
    if topup.stripe_object_id not in ("", intent.get("id")):
        raise Reject(
            f"top-up {topup.public_id} was charged by {topup.stripe_object_id}, not {intent.get('id')}.",
            tenant=topup.tenant,
        )
    return topup


def _on_payment_intent_succeeded(intent: dict) -> Applied:
    topup = _auto_topup(intent)
    received = intent.get("amount_received") or intent.get("amount")
    # The card pays the top-up plus the tax calculated before the charge (zero without Stripe Tax).
    _check_matches(
        {**intent, "amount": received}, topup, amount_key="amount", expected_cents=topup.charged_cents
    )
    details, _note = _payment_details(intent["id"], topup)
    auto_topup_settle(topup=topup, payment_intent_id=intent["id"], details=details)
    return Applied(topup.tenant)


def _on_payment_intent_failed(intent: dict) -> Applied:
    topup = _auto_topup(intent)
    error = intent.get("last_payment_error") or {}
    reason = f"Card declined: {error.get('message') or 'the payment failed'}"
    if topup.status == TopUp.Status.PENDING:
        _auto_topup_turn_off(topup=topup, reason=reason)
    return Applied(topup.tenant)


def _on_subscription_changed(subscription: dict) -> Applied:
    current = stripe_gateway.subscription_current(subscription_id=subscription["id"])
    account = _account_for_customer(current["customer"])
    replaced = account.stripe_subscription_id and account.stripe_subscription_id != current["id"]
    if replaced and current["status"] not in ACTIVE_SUBSCRIPTION_STATES:
        raise Ignore("an older subscription of this customer")
    wanted_plan = current["metadata"].get("plan", DEFAULT_PLAN)
    active = current["status"] in ACTIVE_SUBSCRIPTION_STATES
    plan = wanted_plan if active and RateCard.objects.filter(plan=wanted_plan).exists() else DEFAULT_PLAN
    ReserveAccount.objects.filter(pk=account.pk).update(
        stripe_subscription_id=current["id"], subscription_status=current["status"], plan=plan
    )
    emit_event("billing.subscription.synced", tenant=account.tenant, status=current["status"], plan=plan)
    return Applied(account.tenant)


def _on_invoice_payment_failed(invoice: dict) -> Applied:
    account = _account_for_customer(invoice.get("customer"))
    if invoice.get("subscription"):
        _on_subscription_changed({"id": invoice["subscription"]})
    emit_event(
        "billing.invoice.payment_failed",
        tenant=account.tenant,
        invoice=invoice.get("id"),
        amount_due=invoice.get("amount_due"),
    )
    return Applied(account.tenant)


def _on_refund(refund: dict) -> Applied:
    """A refund was created or changed: record what Stripe says about it now (not what the event says)."""
    try:
        info = stripe_gateway.refund_retrieve(refund_id=str(refund.get("id") or ""))
        recorded = refund_settle(info=info)
    except NotFound as exc:
        raise Ignore(exc.message) from exc
    return Applied(recorded.tenant)


def _on_charge_refunded(charge: dict) -> Applied:
    """A charge was (partly) refunded: record each of its refunds, as Stripe lists them now."""
    payment_intent = charge.get("payment_intent")
    payment_intent = payment_intent if isinstance(payment_intent, str) else (payment_intent or {}).get("id")
    if not payment_intent:
        raise Ignore("the charge names no PaymentIntent")
    try:
        recorded = refunds_from_stripe(payment_intent_id=payment_intent)
    except NotFound as exc:
        raise Ignore(exc.message) from exc
    if not recorded:
        raise Ignore("Stripe lists no refund for this charge")
    return Applied(recorded[0].tenant)


HANDLERS: dict[str, Callable[[dict], Applied]] = {
    "charge.refunded": _on_charge_refunded,
    "charge.refund.updated": _on_refund,
    "refund.created": _on_refund,
    "refund.updated": _on_refund,
    "refund.failed": _on_refund,
    "checkout.session.completed": _on_checkout_completed,
    "payment_intent.succeeded": _on_payment_intent_succeeded,
    "payment_intent.payment_failed": _on_payment_intent_failed,
    "customer.subscription.created": _on_subscription_changed,
    "customer.subscription.updated": _on_subscription_changed,
    "customer.subscription.deleted": _on_subscription_changed,
    "invoice.payment_failed": _on_invoice_payment_failed,
}


def _claim(event: dict) -> StripeEvent | None:
    """Insert the event row, or lock the one a failed delivery left. None means: already done."""
    try:
        with transaction.atomic():
            return StripeEvent.objects.create(
                event_id=event["id"], type=event["type"], status=StripeEvent.Status.PROCESSED, payload=event
            )
    except IntegrityError:
        row = StripeEvent.objects.select_for_update().get(event_id=event["id"])
        if row.status != StripeEvent.Status.FAILED:
            return None
        row.attempts = F("attempts") + 1
        return row


def _record_failure(event: dict, error: Exception) -> None:
    message = f"{type(error).__name__}: {error}"[:2000]
    with transaction.atomic():
        row, created = StripeEvent.objects.get_or_create(
            event_id=event["id"],
            defaults={
                "type": event["type"],
                "status": StripeEvent.Status.FAILED,
                "payload": event,
                "error": message,
            },
        )
        if not created:
            StripeEvent.objects.filter(pk=row.pk).update(
                status=StripeEvent.Status.FAILED, error=message, attempts=F("attempts") + 1
            )
    logger.error("stripe event %s (%s) failed: %s", event["id"], event["type"], message)


def webhook_event_process(*, event: dict) -> str:
    """Apply one verified Stripe event exactly once: processed, ignored, rejected or duplicate.

    A rejected event is recorded as FAILED for staff and credits nothing; it is answered normally (200).
    Any other error is recorded and re-raised, so that the caller answers 500 and Stripe retries.
    """
    handler = HANDLERS.get(event["type"])
    try:
        with transaction.atomic():
            row = _claim(event)
            if row is None:
                return DUPLICATE
            outcome, status, error, tenant = PROCESSED, PROCESSED, "", None
            if handler is None:
                outcome = status = IGNORED
                error = "event type not handled"
            else:
                try:
                    with transaction.atomic():
                        applied = handler(event["data"]["object"])
                    tenant, error = applied.tenant, applied.note
                except Ignore as reason:
                    outcome = status = IGNORED
                    error = str(reason)
                except Reject as reason:
                    outcome, status = REJECTED, StripeEvent.Status.FAILED
                    error, tenant = str(reason), reason.tenant
                    logger.warning("stripe event %s (%s) rejected: %s", event["id"], event["type"], error)
            row.status, row.error, row.tenant, row.processed_at = status, error[:2000], tenant, timezone.now()
            row.save()
            return outcome
    except Exception as exc:
        _record_failure(event, exc)
        raise
