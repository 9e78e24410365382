"""Applying Stripe events. Events arrive more than once and out of order.

Each event id is inserted under a unique constraint in the same transaction as its effect: a duplicate,
even a concurrent one, waits on the insert, then finds the row and does nothing. A failing handler rolls
its effect back, records the failure in its own transaction (for staff to see) and re-raises so the
webhook answers 500 and Stripe retries; the retry takes the failed row's lock and applies it once.
"""

import logging
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.accounts.models import Tenant
from apps.billing import stripe_gateway
from apps.billing.models import RateCard, ReserveAccount, StripeEvent, TopUp
from apps.billing.services.pricing import DEFAULT_PLAN
from apps.billing.services.reserve import reserve_account_ensure, reserve_credit
from apps.billing.services.topups import AUTO_TOPUP_PURPOSE, TOPUP_PURPOSE, _auto_topup_turn_off, topup_mark
from apps.core.events import emit_event
from apps.core.money import cents_to_micros

logger = logging.getLogger(__name__)

DUPLICATE = "duplicate"
PROCESSED = StripeEvent.Status.PROCESSED
IGNORED = StripeEvent.Status.IGNORED
ACTIVE_SUBSCRIPTION_STATES = {"active", "trialing", "past_due"}


class Ignore(Exception):
    """The event is genuine but not ours to act on (no workspace, another purpose)."""


def _tenant_from_metadata(obj: dict) -> Tenant:
    tenant_id = (obj.get("metadata") or {}).get("tenant_id", "")
    tenant = Tenant.objects.filter(pk=int(tenant_id)).first() if str(tenant_id).isdigit() else None
    if tenant is None:
        raise Ignore(f"no workspace for tenant_id {tenant_id!r}")
    return tenant


def _account_for_customer(customer_id) -> ReserveAccount:
    account = ReserveAccount.objects.filter(stripe_customer_id=customer_id).first() if customer_id else None
    if account is None:
        raise Ignore(f"no workspace for customer {customer_id!r}")
    return account


def _on_checkout_completed(session: dict) -> Tenant:
    metadata = session.get("metadata") or {}
    if metadata.get("purpose") != TOPUP_PURPOSE:
        raise Ignore("not a reserve top-up")
    tenant = _tenant_from_metadata(session)
    if session.get("payment_status") != "paid":
        raise Ignore(f"payment status is {session.get('payment_status')!r}")
    account = reserve_account_ensure(tenant=tenant)
    if (session.get("currency") or "").lower() != account.currency:
        raise ValueError(
            f"checkout currency {session.get('currency')!r} is not the reserve's {account.currency}"
        )
    amount_cents = int(session["amount_total"])
    payment_method = ""
    if session.get("payment_intent"):
        payment_method = stripe_gateway.payment_intent_payment_method(
            payment_intent_id=session["payment_intent"]
        )
    reserve_credit(
        tenant=tenant,
        amount_micros=cents_to_micros(amount_cents),
        idempotency_key=f"stripe:{session['id']}",
        stripe_object_id=session["id"],
        memo="Top-up" + (" (simulated)" if session["id"].startswith("sim_") else ""),
    )
    updates = {}
    if session.get("customer") and not account.stripe_customer_id:
        updates["stripe_customer_id"] = session["customer"]
    if payment_method:
        updates["stripe_payment_method_id"] = payment_method
    if updates:
        ReserveAccount.objects.filter(pk=account.pk).update(**updates)
    topup_mark(
        public_id=metadata.get("topup_id", ""), status=TopUp.Status.SUCCEEDED, stripe_object_id=session["id"]
    )
    return tenant


def _auto_topup(intent: dict) -> tuple[Tenant, TopUp | None]:
    if (intent.get("metadata") or {}).get("purpose") != AUTO_TOPUP_PURPOSE:
        raise Ignore("not an automatic top-up (Checkout payments are credited from the session)")
    tenant = _tenant_from_metadata(intent)
    topup = TopUp.objects.filter(tenant=tenant, public_id=intent["metadata"].get("topup_id", "")).first()
    return tenant, topup


def _on_payment_intent_succeeded(intent: dict) -> Tenant:
    tenant, topup = _auto_topup(intent)
    reserve_credit(
        tenant=tenant,
        amount_micros=cents_to_micros(int(intent["amount_received"] or intent["amount"])),
        idempotency_key=f"stripe:{intent['id']}",
        stripe_object_id=intent["id"],
        memo="Automatic top-up",
    )
    if topup is not None:
        topup_mark(public_id=topup.public_id, status=TopUp.Status.SUCCEEDED, stripe_object_id=intent["id"])
    return tenant


def _on_payment_intent_failed(intent: dict) -> Tenant:
    tenant, topup = _auto_topup(intent)
    error = intent.get("last_payment_error") or {}
    reason = f"Card declined: {error.get('message') or 'the payment failed'}"
    if topup is not None and topup.status == TopUp.Status.PENDING:
        _auto_topup_turn_off(topup=topup, reason=reason)
    return tenant


def _on_subscription_changed(subscription: dict) -> Tenant:
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
    return account.tenant


def _on_invoice_payment_failed(invoice: dict) -> Tenant:
    account = _account_for_customer(invoice.get("customer"))
    if invoice.get("subscription"):
        _on_subscription_changed({"id": invoice["subscription"]})
    emit_event(
        "billing.invoice.payment_failed",
        tenant=account.tenant,
        invoice=invoice.get("id"),
        amount_due=invoice.get("amount_due"),
    )
    return account.tenant


HANDLERS: dict[str, Callable[[dict], Tenant]] = {
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
    """Apply one verified Stripe event exactly once. Returns processed, ignored or duplicate.

    Raises the handler's error (after recording it) so that the caller answers 500 and Stripe retries.
    """
    handler = HANDLERS.get(event["type"])
    try:
        with transaction.atomic():
            row = _claim(event)
            if row is None:
                return DUPLICATE
            status, error, tenant = PROCESSED, "", None
            if handler is None:
                status, error = IGNORED, "event type not handled"
            else:
                try:
                    with transaction.atomic():
                        tenant = handler(event["data"]["object"])
                except Ignore as reason:
                    status, error = IGNORED, str(reason)
            row.status, row.error, row.tenant, row.processed_at = status, error, tenant, timezone.now()
            row.save()
            return status
    except Exception as exc:
        _record_failure(event, exc)
        raise
