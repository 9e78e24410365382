"""Receipts: one numbered, immutable record per paid top-up, issued in the transaction of its credit.

Numbering: `<BILLING_RECEIPT_PREFIX>-<year>-<000001>`, gapless per calendar year (UTC). The year's counter row
is locked (`select_for_update`) after the account row, in the same transaction as the ledger credit, so a
number is used exactly when the credit commits; a rolled-back credit gives its number back. The receipt is
unique per top-up in the database, so a webhook that arrives twice (or the automatic charge and Stripe's
`payment_intent.succeeded` for the same payment) finds the first receipt.

The email with the PDF is sent by a django-q2 job queued after commit, never inside a request.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_q.tasks import async_task

from apps.accounts.selectors import tenant_owner
from apps.billing.models import LedgerEntry, Receipt, ReceiptCounter, TopUp
from apps.billing.receipts import receipt_document, receipt_pdf
from apps.billing.stripe_gateway import PaymentDetails
from apps.core.events import emit_event

logger = logging.getLogger(__name__)

EMAIL_TASK = "apps.billing.tasks.receipt_email_send"


def _next_sequence(year: int) -> int:
    """The next number of `year`, taken under the counter row's lock (created on the year's first receipt)."""
    ReceiptCounter.objects.bulk_create([ReceiptCounter(year=year)], ignore_conflicts=True)
    counter = ReceiptCounter.objects.select_for_update().get(year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number


def receipt_number_format(year: int, sequence: int) -> str:
    return f"{settings.BILLING_RECEIPT_PREFIX}-{year}-{sequence:06d}"


def _billed_to(topup: TopUp, name: str, email: str) -> tuple[str, str]:
    if email:
        return name[:150], email[:254]
    person = topup.created_by or tenant_owner(tenant=topup.tenant)
    if person is None:
        return name[:150], ""
    return (name or person.name)[:150], person.email[:254]


@transaction.atomic
def receipt_issue(
    *,
    topup: TopUp,
    entry: LedgerEntry,
    details: PaymentDetails | None = None,
    checkout_session_id: str = "",
    payment_intent_id: str = "",
    billed_to_name: str = "",
    billed_to_email: str = "",
) -> Receipt:
    """The receipt of a paid top-up: the existing one, or a new one numbered now. Call it in the credit's
    transaction, after the credit (which holds the account's row lock)."""
    existing = Receipt.objects.filter(topup=topup).first()
    if existing is not None:
        return existing
    details = details or PaymentDetails()
    name, email = _billed_to(topup, billed_to_name, billed_to_email)
    issued_at = timezone.now()
    try:
        with transaction.atomic():
            sequence = _next_sequence(issued_at.year)
            receipt = Receipt.objects.create(
                tenant_id=topup.tenant_id,
                account_id=topup.account_id,
                topup=topup,
                ledger_entry=entry,
                number=receipt_number_format(issued_at.year, sequence),
                year=issued_at.year,
                sequence=sequence,
                issued_at=issued_at,
                workspace_name=topup.tenant.name[:100],
                billed_to_name=name,
                billed_to_email=email,
                currency=topup.account.currency,
                net_cents=topup.amount_cents,
                tax_cents=topup.tax_cents,
                total_cents=topup.charged_cents,
                source=topup.source,
                card_brand=details.card_brand,
                card_last4=details.card_last4,
                stripe_checkout_session_id=checkout_session_id,
                stripe_payment_intent_id=payment_intent_id,
                stripe_charge_id=details.charge_id,
            )
    except IntegrityError:
        # Another transaction issued it first (the unique top-up); its number stands, ours rolled back.
        return Receipt.objects.get(topup=topup)
    emit_event(
        "billing.receipt.issued",
        tenant=topup.tenant,
        receipt=receipt.number,
        topup=topup.public_id,
        total_cents=receipt.total_cents,
    )
    receipt_id = receipt.pk
    transaction.on_commit(
        lambda: async_task(EMAIL_TASK, receipt_id, task_name=f"receipt-email-{receipt_id}", group="billing")
    )
    return receipt


def receipt_email_send(*, receipt_id: int) -> str:
    """Email the receipt with its PDF to the person billed. At most once: the send is claimed first, and the
    claim is given back when sending fails (so the job's retry sends it)."""
    receipt = Receipt.objects.select_related("topup").filter(pk=receipt_id).first()
    if receipt is None or receipt.emailed_at is not None:
        return "already sent"
    if not receipt.billed_to_email:
        return "no address"
    claimed = Receipt.objects.filter(pk=receipt_id, emailed_at__isnull=True).update(emailed_at=timezone.now())
    if not claimed:
        return "already sent"
    document = receipt_document(receipt=receipt)
    context = {"doc": document, "site_url": settings.SITE_URL.rstrip("/")}
    message = EmailMultiAlternatives(
        subject=f"[AfterResume] Receipt {receipt.number}",
        body=render_to_string("billing/email/receipt.txt", context),
        to=[receipt.billed_to_email],
    )
    message.attach_alternative(render_to_string("billing/email/receipt.html", context), "text/html")
    message.attach(f"{receipt.number}.pdf", receipt_pdf(document=document), "application/pdf")
    try:
        message.send()
    except Exception:
        Receipt.objects.filter(pk=receipt_id).update(emailed_at=None)
        raise
    emit_event("billing.receipt.emailed", tenant=receipt.topup.tenant, receipt=receipt.number)
    return "sent"


def receipts_personal_details_remove(*, tenant) -> int:
    """Account deletion: the receipts stay (they are accounting records) without the person's name and
    address, and under a neutral workspace name."""
    return Receipt.objects.filter(tenant=tenant, personal_details_removed_at__isnull=True).update(
        billed_to_name="",
        billed_to_email="",
        workspace_name="Deleted workspace",
        personal_details_removed_at=timezone.now(),
    )
