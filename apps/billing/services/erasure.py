"""Billing's part of deleting a workspace: the records stay (they are accounting), the person goes.

Nothing is deleted: the ledger is append-only, and receipts, refunds, top-ups and Stripe events are what
an accountant asks for. What identifies the person is removed from them: the receipts' name and address
(apps.billing.services.receipts), the customer details and addresses in the stored Stripe payloads; the
Stripe customer is deleted at Stripe (with the saved cards), automatic top-ups are turned off, and holds
still pending are voided (nothing will capture them now).
"""

import logging

from apps.accounts.models import Tenant
from apps.billing import stripe_gateway
from apps.billing.errors import PaymentFailed, PaymentsUnavailable
from apps.billing.models import Hold, ReserveAccount, StripeEvent
from apps.billing.services.receipts import receipts_personal_details_remove
from apps.billing.services.reserve import hold_void
from apps.core.events import emit_event

logger = logging.getLogger(__name__)

# Keys of Stripe objects that carry a person's name, email, phone or address.
PERSONAL_KEYS = frozenset(
    {
        "address",
        "billing_details",
        "customer_details",
        "customer_email",
        "email",
        "name",
        "phone",
        "receipt_email",
        "shipping",
        "shipping_details",
    }
)


def _scrub(value):
    if isinstance(value, dict):
        return {key: (None if key in PERSONAL_KEYS else _scrub(item)) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    return value


def billing_workspace_purge(*, tenant: Tenant) -> int:
    """Scrub the workspace's billing records of personal details. Returns how many records changed."""
    account = ReserveAccount.objects.filter(tenant=tenant).first()
    changed = receipts_personal_details_remove(tenant=tenant)
    for event in StripeEvent.objects.filter(tenant=tenant).only("id", "payload").iterator():
        clean = _scrub(event.payload)
        if clean != event.payload:
            StripeEvent.objects.filter(pk=event.pk).update(payload=clean)
            changed += 1
    if account is None:
        return changed
    for hold_id in Hold.objects.filter(account=account, status=Hold.Status.PENDING).values_list(
        "pk", flat=True
    ):
        hold_void(tenant=tenant, hold_id=hold_id)
        changed += 1
    customer = account.stripe_customer_id
    customer_gone = not customer
    if customer and stripe_gateway.is_configured():
        try:
            stripe_gateway.customer_delete(customer_id=customer)
            customer_gone = True
        except (PaymentFailed, PaymentsUnavailable) as exc:
            # The id stays on the account, so staff can delete the customer in Stripe's dashboard.
            logger.warning(
                "workspace %s: Stripe customer %s not deleted: %s", tenant.pk, customer, exc.message
            )
            emit_event("billing.customer_not_deleted", tenant=tenant, customer=customer, reason=exc.message)
    updates = {"auto_topup_enabled": False, "stripe_payment_method_id": ""}
    if customer_gone:
        updates["stripe_customer_id"] = ""
    ReserveAccount.objects.filter(pk=account.pk).update(**updates)
    return changed + 1
