"""The offline checkout for development (DEBUG without a Stripe key). Paying it builds Stripe's own
`checkout.session.completed` from the TopUp record and feeds it through the webhook code, so the
simulation exercises exactly the rules a real payment meets."""

from django.utils import timezone

from apps.accounts.models import Tenant
from apps.billing.errors import PaymentsUnavailable
from apps.billing.models import TopUp
from apps.billing.services.topups import TOPUP_PURPOSE, topup_mode
from apps.billing.services.webhooks import webhook_event_process
from apps.core.errors import NotFound


def simulated_checkout_get(*, tenant: Tenant, session_id: str) -> TopUp:
    topup = TopUp.objects.filter(tenant=tenant, public_id=session_id, source=TopUp.Source.SIMULATED).first()
    if topup is None:
        raise NotFound("No such simulated checkout in this workspace.")
    return topup


def simulated_checkout_complete(*, tenant: Tenant, session_id: str) -> str:
    """Pay a simulated checkout; returns the webhook outcome (processed, duplicate, ...)."""
    if topup_mode() != "simulated":
        raise PaymentsUnavailable("The simulated checkout only exists in development without a Stripe key.")
    topup = simulated_checkout_get(tenant=tenant, session_id=session_id)
    event = {
        "id": f"evt_sim_{topup.public_id}",
        "object": "event",
        "type": "checkout.session.completed",
        "livemode": False,
        "created": int(timezone.now().timestamp()),
        "data": {
            "object": {
                "id": topup.stripe_object_id or topup.public_id,
                "object": "checkout.session",
                "mode": "payment",
                "payment_status": "paid",
                "status": "complete",
                "amount_total": topup.amount_cents,
                "currency": topup.account.currency,
                "customer": None,
                "payment_intent": None,
                "metadata": {
                    "tenant_id": str(tenant.pk),
                    "topup_id": topup.public_id,
                    "purpose": TOPUP_PURPOSE,
                },
            }
        },
    }
    return webhook_event_process(event=event)
