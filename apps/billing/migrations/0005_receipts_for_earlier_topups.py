"""Receipts for the top-ups paid before receipts existed, numbered in the order they were paid.

Card details were not kept then, so these receipts show none; everything else comes from the TopUp and its
ledger credit. Safe on an empty database and when run again (a top-up with a receipt is skipped).
"""

from django.conf import settings
from django.db import migrations


def issue_missing(apps, schema_editor):
    TopUp = apps.get_model("billing", "TopUp")
    LedgerEntry = apps.get_model("billing", "LedgerEntry")
    Receipt = apps.get_model("billing", "Receipt")
    ReceiptCounter = apps.get_model("billing", "ReceiptCounter")
    prefix = settings.BILLING_RECEIPT_PREFIX
    paid = (
        TopUp.objects.filter(status="succeeded", receipt__isnull=True)
        .select_related("account", "tenant")
        .order_by("completed_at", "id")
    )
    for topup in paid:
        entry = LedgerEntry.objects.filter(
            account_id=topup.account_id, idempotency_key=f"stripe:{topup.stripe_object_id}", kind="topup"
        ).first()
        if entry is None:
            continue
        issued_at = topup.completed_at or entry.created_at
        counter, _ = ReceiptCounter.objects.get_or_create(year=issued_at.year)
        counter.last_number += 1
        counter.save()
        Receipt.objects.create(
            tenant_id=topup.tenant_id,
            account_id=topup.account_id,
            topup=topup,
            ledger_entry=entry,
            number=f"{prefix}-{issued_at.year}-{counter.last_number:06d}",
            year=issued_at.year,
            sequence=counter.last_number,
            issued_at=issued_at,
            workspace_name=topup.tenant.name[:100],
            currency=topup.account.currency,
            net_cents=topup.amount_cents,
            tax_cents=0,
            total_cents=topup.amount_cents,
            source=topup.source,
            stripe_checkout_session_id=topup.stripe_object_id if topup.source != "automatic" else "",
            stripe_payment_intent_id=topup.stripe_object_id if topup.source == "automatic" else "",
        )


class Migration(migrations.Migration):
    dependencies = [("billing", "0004_receipts_refunds_tax")]

    operations = [migrations.RunPython(issue_missing, migrations.RunPython.noop)]
