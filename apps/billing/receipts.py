"""Reads for receipts: the workspace's list, one receipt, and what its page, PDF and email show.

The PDF is rendered by WeasyPrint from the same print template the page links to (apps.core.pdf).
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db.models import QuerySet

from apps.accounts.models import Tenant
from apps.billing.models import Receipt, Refund, TopUp
from apps.core.errors import NotFound
from apps.core.pdf import template_to_pdf

CARD_BRANDS = {
    "amex": "American Express",
    "diners": "Diners Club",
    "discover": "Discover",
    "jcb": "JCB",
    "mastercard": "Mastercard",
    "unionpay": "UnionPay",
    "visa": "Visa",
}


@dataclass(frozen=True)
class RefundLine:
    created_at: datetime
    amount_cents: int
    status: str
    status_label: str
    reason: str


@dataclass(frozen=True)
class ReceiptDocument:
    receipt: Receipt
    issuer: str
    issuer_lines: list[str]
    payment_label: str
    card_label: str
    refunds: list[RefundLine] = field(default_factory=list)

    @property
    def refunded_cents(self) -> int:
        return sum(line.amount_cents for line in self.refunds if line.status == Refund.Status.SUCCEEDED)

    @property
    def kept_cents(self) -> int:
        return self.receipt.total_cents - self.refunded_cents

    @property
    def has_tax(self) -> bool:
        return self.receipt.tax_cents > 0

    @property
    def billed_to_name(self) -> str:
        """The payer's name, unless it only repeats the workspace's (Stripe's customer carries that name)."""
        name = self.receipt.billed_to_name
        return "" if name.strip().casefold() == self.receipt.workspace_name.strip().casefold() else name


def receipt_list(*, tenant: Tenant | None) -> QuerySet[Receipt]:
    if tenant is None:
        return Receipt.objects.none()
    return Receipt.objects.filter(tenant=tenant).order_by("-issued_at", "-id")


def receipt_get(*, tenant: Tenant | None, number: str) -> Receipt:
    """The workspace's receipt with this number; another workspace's is NotFound too."""
    receipt = receipt_list(tenant=tenant).filter(number=number).select_related("topup").first()
    if receipt is None:
        raise NotFound("No receipt with that number in this workspace.")
    return receipt


def card_label(brand: str, last4: str) -> str:
    if not last4:
        return ""
    name = CARD_BRANDS.get(brand.lower(), brand.title() if brand else "Card")
    return f"{name} ending in {last4}"


def receipt_document(*, receipt: Receipt) -> ReceiptDocument:
    refunds = [
        RefundLine(
            created_at=refund.completed_at or refund.created_at,
            amount_cents=refund.amount_cents,
            status=refund.status,
            status_label=refund.get_status_display(),
            reason=refund.reason,
        )
        for refund in Refund.objects.filter(topup_id=receipt.topup_id).order_by("created_at", "id")
    ]
    return ReceiptDocument(
        receipt=receipt,
        issuer=settings.BILLING_RECEIPT_ISSUER,
        issuer_lines=list(settings.BILLING_RECEIPT_ISSUER_LINES),
        payment_label=TopUp.Source(receipt.source).label,
        card_label=card_label(receipt.card_brand, receipt.card_last4),
        refunds=refunds,
    )


def receipt_pdf(*, document: ReceiptDocument) -> bytes:
    return template_to_pdf("billing/print/receipt.html", {"doc": document})
