"""The automatic top-up decision, taken inside a debit's transaction with the account row locked.

It sits below both `reserve` (which calls it after every debit) and `topups` (which charges the card), so
the two never import each other. The partial unique index on pending automatic top-ups means there is
never a second one in flight; the charge itself runs in a django-q2 job after commit.
"""

from django.db import IntegrityError, transaction
from django_q.tasks import async_task

from apps.billing import stripe_gateway
from apps.billing.models import ReserveAccount, TopUp

# By dotted path, so this module needs no import of the tasks module (which imports the services).
CHARGE_TASK = "apps.billing.tasks.auto_topup_charge"


def auto_topup_charge_enqueue(topup_id: int) -> None:
    """Hand the charge to the job queue; called from `transaction.on_commit`, so the job sees the row."""
    async_task(CHARGE_TASK, topup_id, task_name=f"auto-topup-{topup_id}", group="billing")


def auto_topup_maybe_start(*, account: ReserveAccount) -> TopUp | None:
    """Start one automatic top-up when available money falls under the threshold (account locked)."""
    if not (
        account.auto_topup_enabled and account.stripe_payment_method_id and stripe_gateway.is_configured()
    ):
        return None
    if account.available_micros >= account.auto_topup_threshold_micros:
        return None
    try:
        with transaction.atomic():
            topup = TopUp.objects.create(
                tenant_id=account.tenant_id,
                account=account,
                public_id=TopUp.new_public_id("auto"),
                source=TopUp.Source.AUTOMATIC,
                amount_cents=account.auto_topup_amount_cents,
            )
    except IntegrityError:
        return None  # one is already pending
    transaction.on_commit(lambda: auto_topup_charge_enqueue(topup.pk))
    return topup
