"""Adding money: Checkout top-ups, the Billing Portal and charging automatic top-ups.

The decision to start an automatic top-up is in `auto_topup` (the reserve calls it after a debit); the
offline simulation is in `simulated`.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Tenant
from apps.billing import stripe_gateway
from apps.billing.errors import CardDeclined, PaymentFailed, PaymentsUnavailable
from apps.billing.models import ReserveAccount, TopUp
from apps.billing.services.receipts import receipt_issue
from apps.billing.services.reserve import reserve_account_ensure, reserve_credit
from apps.core.errors import ValidationFailed
from apps.core.events import emit_event
from apps.core.money import cents_to_micros, format_micros

logger = logging.getLogger(__name__)

TOPUP_PURPOSE = "reserve_topup"
AUTO_TOPUP_PURPOSE = "auto_topup"


def topup_mode() -> str:
    """'stripe' with a key; 'simulated' without one in DEBUG; 'unavailable' otherwise (never faked)."""
    if stripe_gateway.is_configured():
        return "stripe"
    if settings.DEBUG:
        return "simulated"
    return "unavailable"


def topup_amount_check(amount_cents) -> int:
    low, high = settings.BILLING_TOPUP_MIN_CENTS, settings.BILLING_TOPUP_MAX_CENTS
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int):
        raise ValidationFailed("Enter the amount as a whole number of cents.", field="amount")
    if not low <= amount_cents <= high:
        raise ValidationFailed(
            f"Top up between {format_micros(cents_to_micros(low))} "
            f"and {format_micros(cents_to_micros(high))}.",
            field="amount",
            extra={"min_cents": low, "max_cents": high},
        )
    return amount_cents


def _customer_ensure(account: ReserveAccount, actor) -> str:
    if account.stripe_customer_id:
        return account.stripe_customer_id
    customer_id = stripe_gateway.customer_create(
        tenant_id=account.tenant_id, name=account.tenant.name, email=getattr(actor, "email", "") or ""
    )
    # Two racing first top-ups get the same customer (Stripe idempotency key); the first write wins.
    ReserveAccount.objects.filter(pk=account.pk, stripe_customer_id="").update(stripe_customer_id=customer_id)
    account.refresh_from_db(fields=["stripe_customer_id"])
    return account.stripe_customer_id


def topup_checkout_start(*, tenant: Tenant, actor, amount_cents: int, return_url: str) -> TopUp:
    """Start a top-up: a Stripe Checkout Session, or the labelled simulation when DEBUG has no Stripe key."""
    topup_amount_check(amount_cents)
    mode = topup_mode()
    if mode == "unavailable":
        raise PaymentsUnavailable("Top-ups are unavailable: card payments are not set up on this server.")
    account = reserve_account_ensure(tenant=tenant)
    if mode == "simulated":
        public_id = TopUp.new_public_id("sim_cs")
        return TopUp.objects.create(
            tenant=tenant,
            account=account,
            public_id=public_id,
            source=TopUp.Source.SIMULATED,
            amount_cents=amount_cents,
            stripe_object_id=public_id,
            checkout_url=reverse("billing_simulated_checkout", kwargs={"session_id": public_id}),
            created_by=actor,
        )
    topup = TopUp.objects.create(
        tenant=tenant,
        account=account,
        public_id=TopUp.new_public_id("co"),
        source=TopUp.Source.CHECKOUT,
        amount_cents=amount_cents,
        created_by=actor,
    )
    try:
        session = stripe_gateway.checkout_session_create(
            customer_id=_customer_ensure(account, actor),
            amount_cents=amount_cents,
            currency=account.currency,
            metadata={"tenant_id": str(tenant.pk), "topup_id": topup.public_id, "purpose": TOPUP_PURPOSE},
            idempotency_key=topup.public_id,
            success_url=f"{return_url}?topup=success&session_id={{CHECKOUT_SESSION_ID}}",
            cancel_url=f"{return_url}?topup=cancelled",
            automatic_tax=settings.STRIPE_TAX_ENABLED,
        )
    except PaymentFailed as exc:
        TopUp.objects.filter(pk=topup.pk).update(status=TopUp.Status.FAILED, failure_reason=exc.message[:300])
        raise
    topup.stripe_object_id, topup.checkout_url = session.id, session.url
    topup.save(update_fields=["stripe_object_id", "checkout_url"])
    emit_event(
        "billing.checkout.started", tenant=tenant, actor=actor, amount_cents=amount_cents, session=session.id
    )
    return topup


def portal_session_start(*, tenant: Tenant, return_url: str) -> str:
    """The Stripe Billing Portal, where the person manages cards, invoices and subscriptions."""
    if not stripe_gateway.is_configured():
        raise PaymentsUnavailable(
            "The billing portal is unavailable: card payments are not set up on this server."
        )
    account = reserve_account_ensure(tenant=tenant)
    if not account.stripe_customer_id:
        raise ValidationFailed("Make a first top-up: the portal opens once Stripe knows your workspace.")
    return stripe_gateway.portal_session_create(
        customer_id=account.stripe_customer_id, return_url=return_url
    ).url


def topup_mark(*, public_id: str, status: str, stripe_object_id: str = "", failure_reason: str = "") -> None:
    updates = {"status": status, "completed_at": timezone.now(), "failure_reason": failure_reason[:300]}
    if stripe_object_id:
        updates["stripe_object_id"] = stripe_object_id
    TopUp.objects.filter(public_id=public_id, status=TopUp.Status.PENDING).update(**updates)


def _auto_topup_turn_off(*, topup: TopUp, reason: str) -> None:
    with transaction.atomic():
        account = ReserveAccount.objects.select_for_update().get(pk=topup.account_id)
        topup_mark(public_id=topup.public_id, status=TopUp.Status.FAILED, failure_reason=reason)
        account.auto_topup_enabled = False
        account.auto_topup_failure_reason = reason[:300]
        account.auto_topup_failed_at = timezone.now()
        account.save(
            update_fields=["auto_topup_enabled", "auto_topup_failure_reason", "auto_topup_failed_at"]
        )
        emit_event("billing.auto_topup.declined", tenant=account.tenant, topup=topup.public_id, reason=reason)


def _auto_topup_tax(topup: TopUp) -> None:
    """With Stripe Tax, the tax on an automatic top-up is calculated before the charge and kept on the
    top-up, so a repeated run charges the same total (and Stripe's idempotency key agrees)."""
    if not settings.STRIPE_TAX_ENABLED or topup.stripe_tax_calculation_id:
        return
    calculation = stripe_gateway.tax_calculation_create(
        customer_id=topup.account.stripe_customer_id,
        amount_cents=topup.amount_cents,
        currency=topup.account.currency,
        reference=topup.public_id,
    )
    topup.tax_cents, topup.stripe_tax_calculation_id = calculation.tax_cents, calculation.id
    TopUp.objects.filter(pk=topup.pk).update(
        tax_cents=calculation.tax_cents, stripe_tax_calculation_id=calculation.id
    )


def tax_transaction_record(*, topup: TopUp) -> None:
    """Report a taxed automatic top-up to Stripe Tax once it is paid. Failing to never undoes the credit."""
    if not topup.stripe_tax_calculation_id:
        return
    try:
        stripe_gateway.tax_transaction_record(
            calculation_id=topup.stripe_tax_calculation_id, reference=topup.public_id
        )
    except (PaymentFailed, PaymentsUnavailable) as exc:
        logger.warning("top-up %s: tax transaction not recorded: %s", topup.public_id, exc.message)
        emit_event(
            "billing.tax_transaction_failed", tenant=topup.tenant, topup=topup.public_id, reason=exc.message
        )


def auto_topup_settle(*, topup: TopUp, payment_intent_id: str, details) -> None:
    """Credit a paid automatic top-up once, whichever path saw the payment first (the charge's answer or
    its `payment_intent.succeeded` webhook): the credit, the top-up's state and its receipt commit together;
    the sale is then reported to Stripe Tax."""
    with transaction.atomic():
        entry = reserve_credit(
            tenant=topup.tenant,
            amount_micros=cents_to_micros(topup.amount_cents),
            idempotency_key=f"stripe:{payment_intent_id}",
            stripe_object_id=payment_intent_id,
            memo="Automatic top-up",
        )
        TopUp.objects.filter(pk=topup.pk).update(stripe_payment_intent_id=payment_intent_id)
        topup_mark(
            public_id=topup.public_id, status=TopUp.Status.SUCCEEDED, stripe_object_id=payment_intent_id
        )
        receipt_issue(topup=topup, entry=entry, details=details, payment_intent_id=payment_intent_id)
    tax_transaction_record(topup=topup)


def auto_topup_charge(*, topup_id: int) -> str:
    """Charge the saved card for a pending automatic top-up. Safe to run twice: settled ones are left."""
    topup = TopUp.objects.select_related("account", "tenant").filter(pk=topup_id).first()
    if topup is None or topup.status != TopUp.Status.PENDING:
        return "already settled"
    account = topup.account
    try:
        _auto_topup_tax(topup)
        charge = stripe_gateway.payment_intent_charge_off_session(
            customer_id=account.stripe_customer_id,
            payment_method_id=account.stripe_payment_method_id,
            amount_cents=topup.charged_cents,
            currency=account.currency,
            metadata={
                "tenant_id": str(topup.tenant_id),
                "topup_id": topup.public_id,
                "purpose": AUTO_TOPUP_PURPOSE,
            },
            idempotency_key=topup.public_id,
        )
    except CardDeclined as exc:
        _auto_topup_turn_off(topup=topup, reason=f"Card declined: {exc.message}")
        return "declined"
    except (PaymentFailed, PaymentsUnavailable) as exc:
        # Not the card's fault: settle this attempt so the next debit under the threshold tries again.
        topup_mark(public_id=topup.public_id, status=TopUp.Status.FAILED, failure_reason=exc.message)
        logger.warning("automatic top-up %s failed: %s", topup.public_id, exc.message)
        emit_event(
            "billing.auto_topup.failed", tenant=topup.tenant, topup=topup.public_id, reason=exc.message
        )
        return "failed"
    if charge.status == "succeeded":
        try:
            details = stripe_gateway.payment_intent_details(payment_intent_id=charge.payment_intent_id)
        except (PaymentFailed, PaymentsUnavailable) as exc:
            logger.warning("top-up %s: card details not read: %s", topup.public_id, exc.message)
            details = stripe_gateway.PaymentDetails()
        auto_topup_settle(topup=topup, payment_intent_id=charge.payment_intent_id, details=details)
        return "succeeded"
    if charge.status in ("requires_action", "requires_payment_method"):
        _auto_topup_turn_off(
            topup=topup, reason="Your bank asked to confirm the payment; top up by hand once to continue."
        )
        return "declined"
    TopUp.objects.filter(pk=topup.pk).update(stripe_object_id=charge.payment_intent_id)
    return "processing"
