"""Billing API: balance, ledger, usage, Checkout and portal sessions, and the Stripe webhook (public)."""

from datetime import datetime

from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from apps.billing import receipts as billing_receipts
from apps.billing import selectors, services, stripe_gateway
from apps.billing.models import LedgerEntry
from apps.billing.schemas import (
    BalanceOut,
    HostedSessionOut,
    LedgerEntryOut,
    LedgerFilters,
    PortalSessionOut,
    TopUpSessionIn,
    UsageDayOut,
    UsageFilters,
)
from apps.core.errors import ValidationFailed
from apps.core.pagination import BoundedPageNumberPagination
from apps.core.tenancy import require_tenant

router = Router(tags=["billing"])


def _check_range(since, until):
    if since and until and since > until:
        raise ValidationFailed("`since` is after `until`.", field="since")


@router.get("/reserve/balance/", response=BalanceOut)
def reserve_balance(request):
    return selectors.reserve_balance(tenant=require_tenant(request))


@router.get("/reserve/ledger/", response=list[LedgerEntryOut])
@paginate(BoundedPageNumberPagination, page_size=50)
def reserve_ledger(request, filters: Query[LedgerFilters]):
    if filters.kind and filters.kind not in LedgerEntry.Kind.values:
        raise ValidationFailed(
            f"Unknown kind {filters.kind!r}; use one of {', '.join(LedgerEntry.Kind.values)}.", field="kind"
        )
    _check_range(filters.since, filters.until)
    return selectors.ledger_list(
        tenant=require_tenant(request), kind=filters.kind, since=filters.since, until=filters.until
    )


@router.get("/usage/", response=list[UsageDayOut])
def usage(request, filters: Query[UsageFilters]):
    _check_range(filters.since, filters.until)
    rows = selectors.usage_by_meter_and_day(
        tenant=require_tenant(request), since=filters.since, until=filters.until
    )
    return [{**row, "quantity": format(row["quantity"].normalize(), "f")} for row in rows]


@router.post("/topup/session/", response=HostedSessionOut)
def topup_session(request, body: TopUpSessionIn):
    topup = services.topup_checkout_start(
        tenant=require_tenant(request),
        actor=request.user,
        amount_cents=body.amount_cents,
        return_url=request.build_absolute_uri(reverse("billing_home")),
    )
    return {"session_id": topup.stripe_object_id, "url": request.build_absolute_uri(topup.checkout_url)}


@router.post("/portal/session/", response=PortalSessionOut)
def portal_session(request):
    url = services.portal_session_start(
        tenant=require_tenant(request), return_url=request.build_absolute_uri(reverse("billing_home"))
    )
    return {"url": url}


@router.post("/webhook/", auth=None, include_in_schema=True)
def stripe_webhook(request):
    """Stripe calls this. 400 for a bad signature; 200 once the event is recorded, including a rejected one
    (it did not match our top-up: nothing credited, shown to staff, not retried); 500 when applying it
    failed on the way (Stripe then retries)."""
    try:
        event = stripe_gateway.webhook_event_verify(
            payload=request.body, signature_header=request.headers.get("Stripe-Signature", "")
        )
    except stripe_gateway.SignatureInvalid as exc:
        return JsonResponse({"message": f"Signature check failed: {exc}", "extra": {}}, status=400)
    try:
        outcome = services.webhook_event_process(event=event)
    except Exception:
        return JsonResponse(
            {"message": "Applying the event failed; it is recorded and Stripe will retry.", "extra": {}},
            status=500,
        )
    return JsonResponse({"received": True, "outcome": outcome})


# Receipts (one per paid top-up) ------------------------------------------------------------------------


class ReceiptOut(Schema):
    number: str
    created_at: datetime
    amount_cents: int
    currency: str
    pdf_url: str


class ReceiptListOut(Schema):
    items: list[ReceiptOut]


@router.get("/receipts/", response=ReceiptListOut)
def receipt_list(request):
    """The workspace's receipts, newest first: exactly one per paid top-up. `amount_cents` is what the card
    was charged (tax included); `pdf_url` downloads the PDF with the same session or token."""
    receipts = billing_receipts.receipt_list(tenant=require_tenant(request))
    return {
        "items": [
            {
                "number": receipt.number,
                "created_at": receipt.issued_at,
                "amount_cents": receipt.total_cents,
                "currency": receipt.currency,
                "pdf_url": request.build_absolute_uri(
                    reverse("api:billing_receipt_pdf_api", args=[receipt.number])
                ),
            }
            for receipt in receipts
        ]
    }


@router.get("/receipts/{number}/pdf/", url_name="billing_receipt_pdf_api")
def receipt_pdf(request, number: str):
    """The receipt as a PDF (another workspace's receipt is a 404)."""
    receipt = billing_receipts.receipt_get(tenant=require_tenant(request), number=number)
    document = billing_receipts.receipt_document(receipt=receipt)
    response = HttpResponse(billing_receipts.receipt_pdf(document=document), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{receipt.number}.pdf"'
    return response
