from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.billing import receipts, selectors, services, statements
from apps.billing.exports import ledger_csv_response
from apps.billing.forms import AdjustmentForm, AutoTopUpForm, LedgerFilterForm, RefundForm, TopUpForm
from apps.billing.models import StripeEvent
from apps.billing.status_bar import status_bar_read
from apps.core.decorators import staff_required
from apps.core.errors import ApplicationError, NotFound
from apps.core.money import cents_to_micros, format_micros, micros_to_decimal_string
from apps.core.tenancy import require_tenant

LEDGER_PER_PAGE = 25
USAGE_DAYS = 30
STAFF_USAGE_DAYS = 30
RECENT_RECEIPTS = 5
RECEIPTS_PER_PAGE = 25
STAFF_RECENT_PAYMENTS = 15


def _auto_topup_form(account) -> AutoTopUpForm:
    return AutoTopUpForm(
        initial={
            "auto_topup_enabled": account.auto_topup_enabled,
            "auto_topup_amount": micros_to_decimal_string(
                cents_to_micros(account.auto_topup_amount_cents), 2
            ),
            "auto_topup_threshold": micros_to_decimal_string(account.auto_topup_threshold_micros, 2),
            "low_balance_threshold": micros_to_decimal_string(account.low_balance_threshold_micros, 2),
        }
    )


def _billing_page(request, *, topup_form=None, auto_form=None, status=200):
    tenant = require_tenant(request)
    account = selectors.reserve_account_for(tenant=tenant)
    filter_form = LedgerFilterForm(request.GET or None)
    filters = filter_form.cleaned_data if filter_form.is_valid() else {}
    entries = selectors.ledger_list(
        tenant=tenant, kind=filters.get("kind", ""), since=filters.get("since"), until=filters.get("until")
    )
    page_obj = Paginator(entries, LEDGER_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    since = timezone.localdate() - timedelta(days=USAGE_DAYS - 1)
    topup_result = request.GET.get("topup")
    context = {
        "account": account,
        "mode": services.topup_mode(),
        "presets": [cents // 100 for cents in settings.BILLING_TOPUP_PRESETS_CENTS],
        "topup_form": topup_form or TopUpForm(),
        "auto_form": auto_form or _auto_topup_form(account),
        "filter_form": filter_form,
        "page_obj": page_obj,
        "filter_query": query.urlencode(),
        "usage_rows": selectors.usage_by_meter_and_day(tenant=tenant, since=since),
        "usage_days": USAGE_DAYS,
        "recent_topups": selectors.topup_recent(tenant=tenant),
        "receipts": receipts.receipt_list(tenant=tenant)[:RECENT_RECEIPTS],
        "receipt_count": receipts.receipt_list(tenant=tenant).count(),
        "topup_result": topup_result if topup_result in ("success", "cancelled") else "",
    }
    return render(request, "billing/home.html", context, status=status)


@require_GET
def billing_home(request):
    return _billing_page(request)


@require_POST
def topup_start(request):
    tenant = require_tenant(request)
    form = TopUpForm(request.POST)
    if form.is_valid():
        try:
            topup = services.topup_checkout_start(
                tenant=tenant,
                actor=request.user,
                amount_cents=form.amount_cents(),
                return_url=request.build_absolute_uri(reverse("billing_home")),
            )
        except ApplicationError as exc:
            form.add_error("amount" if exc.field == "amount" else None, exc.message)
        else:
            return redirect(topup.checkout_url)
    return _billing_page(request, topup_form=form, status=400)


@require_POST
def portal_start(request):
    tenant = require_tenant(request)
    try:
        url = services.portal_session_start(
            tenant=tenant, return_url=request.build_absolute_uri(reverse("billing_home"))
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("billing_home")
    return redirect(url)


@require_POST
def auto_topup_update(request):
    tenant = require_tenant(request)
    form = AutoTopUpForm(request.POST)
    if form.is_valid():
        try:
            services.reserve_settings_update(tenant=tenant, actor=request.user, **form.service_kwargs())
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "Top-up settings saved.")
            return redirect("billing_home")
    return _billing_page(request, auto_form=form, status=400)


@require_GET
def balance_badge(request):
    """The top bar's balance and today's tokens, polled by htmx so they stay current (one query)."""
    status = status_bar_read(tenant=request.tenant)
    account = status.account if status else None
    return render(request, "billing/partials/_balance_badge.html", {"account": account, "status": status})


@require_http_methods(["GET", "POST"])
def simulated_checkout(request, session_id: str):
    tenant = require_tenant(request)
    try:
        topup = services.simulated_checkout_get(tenant=tenant, session_id=session_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    if services.topup_mode() != "simulated":
        raise Http404("The simulated checkout only exists in development without a Stripe key.")
    if request.method == "POST":
        if request.POST.get("action") == "cancel":
            messages.info(request, "Simulated checkout cancelled; nothing was charged.")
            return redirect("billing_home")
        try:
            outcome = services.simulated_checkout_complete(tenant=tenant, session_id=session_id)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("billing_simulated_checkout", session_id=session_id)
        if outcome == "duplicate":
            messages.info(request, "This simulated checkout was already paid; it was credited once.")
        elif outcome == "rejected":
            messages.error(request, "This simulated checkout does not match its top-up; nothing was added.")
        else:
            amount = format_micros(cents_to_micros(topup.amount_cents))
            messages.success(request, f"Simulated payment of {amount} added to your reserve.")
        return redirect("billing_home")
    return render(request, "billing/simulated_checkout.html", {"topup": topup})


@staff_required
@require_GET
def staff_billing(request):
    return _staff_page(request, adjust_form=AdjustmentForm())


def _staff_page(request, *, adjust_form, status=200):
    since = timezone.now() - timedelta(days=STAFF_USAGE_DAYS)
    context = {
        "summary": selectors.staff_reserve_summary(),
        "attention": selectors.staff_accounts_needing_attention(),
        "usage_costs": selectors.staff_usage_cost_by_tenant_and_model(since=since),
        "usage_days": STAFF_USAGE_DAYS,
        "failed_events": selectors.staff_stripe_events_needing_attention(),
        "recent_payments": services.refundable_topups_recent(limit=STAFF_RECENT_PAYMENTS),
        "adjust_form": adjust_form,
        "failed_status": StripeEvent.Status.FAILED,
    }
    return render(request, "billing/staff/overview.html", context, status=status)


@staff_required
@require_POST
def staff_adjust(request):
    form = AdjustmentForm(request.POST)
    if form.is_valid():
        try:
            entry = services.reserve_adjust(
                tenant=form.cleaned_data["tenant"],
                amount_micros=form.amount_micros(),
                reason=form.cleaned_data["reason"],
                actor=request.user,
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request,
                f"Adjustment recorded for {form.cleaned_data['tenant'].name} (ledger entry {entry.pk}).",
            )
            return redirect("billing_staff")
    return _staff_page(request, adjust_form=form, status=400)


@staff_required
@require_GET
def staff_ledger_csv(request):
    filter_form = LedgerFilterForm(request.GET or None)
    filters = filter_form.cleaned_data if filter_form.is_valid() else {}
    rows = selectors.ledger_export_rows(since=filters.get("since"), until=filters.get("until"))
    return ledger_csv_response(rows)


# Receipts and statements ---------------------------------------------------------------------------------


def _receipt_or_404(request, number: str):
    try:
        return receipts.receipt_get(tenant=require_tenant(request), number=number)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def receipt_list(request):
    tenant = require_tenant(request)
    page_obj = Paginator(receipts.receipt_list(tenant=tenant), RECEIPTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "billing/receipts.html", {"page_obj": page_obj})


@require_GET
def receipt_detail(request, number: str):
    receipt = _receipt_or_404(request, number)
    return render(request, "billing/receipt.html", {"doc": receipts.receipt_document(receipt=receipt)})


@require_GET
def receipt_pdf(request, number: str):
    receipt = _receipt_or_404(request, number)
    document = receipts.receipt_document(receipt=receipt)
    return _pdf_response(receipts.receipt_pdf(document=document), f"{receipt.number}.pdf")


def _statement_or_404(request, month: str):
    tenant = require_tenant(request)
    try:
        return statements.statement_get(tenant=tenant, month=statements.month_parse(month))
    except NotFound as exc:
        raise Http404(exc.message) from exc


@require_GET
def statement_index(request):
    """The statements page opens on this month; the month list links to every other one."""
    return redirect("billing_statement", month=f"{timezone.localdate():%Y-%m}")


@require_GET
def statement_detail(request, month: str):
    statement = _statement_or_404(request, month)
    context = {"statement": statement, "months": statements.statement_months(tenant=statement.tenant)}
    return render(request, "billing/statement.html", context)


@require_GET
def statement_pdf(request, month: str):
    statement = _statement_or_404(request, month)
    return _pdf_response(statements.statement_pdf(statement=statement), f"statement-{statement.slug}.pdf")


# Staff refunds -------------------------------------------------------------------------------------------


def _refund_page(request, topup, *, form, status=200):
    context = {
        "topup": topup,
        "receipt": getattr(topup, "receipt", None),
        "refunds": services.refund_list_for(topup=topup),
        "room": services.refund_room(topup=topup, account=topup.account),
        "form": form,
    }
    return render(request, "billing/staff/refund.html", context, status=status)


@staff_required
@require_http_methods(["GET", "POST"])
def staff_refund(request, public_id: str):
    try:
        topup = services.refundable_topup_get(public_id=public_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    if request.method == "GET":
        room = services.refund_room(topup=topup, account=topup.account)
        initial = {"amount": micros_to_decimal_string(cents_to_micros(room.allowed_cents), 2)}
        return _refund_page(request, topup, form=RefundForm(initial=initial))
    form = RefundForm(request.POST)
    if form.is_valid():
        try:
            refund = services.refund_start(
                topup_public_id=topup.public_id,
                actor=request.user,
                amount_cents=form.amount_cents(),
                reason=form.cleaned_data["reason"],
            )
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            amount = format_micros(cents_to_micros(refund.amount_cents), refund.currency)
            if refund.status == refund.Status.SUCCEEDED:
                messages.success(request, f"Refunded {amount} to the card of {topup.tenant.name}.")
            else:
                messages.info(
                    request,
                    f"Refund of {amount} sent to Stripe; it is {refund.get_status_display().lower()}.",
                )
            return redirect("billing_staff_refund", public_id=topup.public_id)
    topup.account.refresh_from_db()
    return _refund_page(request, topup, form=form, status=400)
