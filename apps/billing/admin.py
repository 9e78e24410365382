from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from apps.billing import services, unit_prices
from apps.billing.models import (
    Hold,
    LedgerEntry,
    RateCard,
    RateCardVersion,
    RateLineItem,
    Receipt,
    Refund,
    ReserveAccount,
    StripeEvent,
    TopUp,
    UsageEvent,
)
from apps.core.errors import ApplicationError


class ReadOnlyAdmin(admin.ModelAdmin):
    """Money records are written by services only; the admin shows them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "tenant", "kind", "amount_micros", "balance_after_micros", "memo"]
    list_filter = ["kind"]
    search_fields = ["idempotency_key", "stripe_object_id", "tenant__slug", "memo"]
    list_select_related = ["tenant"]


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = ["id", "tenant", "amount_micros", "captured_micros", "status", "expires_at"]
    list_filter = ["status"]
    list_select_related = ["tenant"]


@admin.register(UsageEvent)
class UsageEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "occurred_at", "tenant", "model", "cost_micros", "rate_version"]
    search_fields = ["idempotency_key", "job_reference", "tenant__slug"]
    list_select_related = ["tenant", "rate_version__rate_card"]


@admin.register(TopUp)
class TopUpAdmin(ReadOnlyAdmin):
    list_display = [
        "public_id",
        "tenant",
        "source",
        "status",
        "amount_cents",
        "tax_cents",
        "failure_reason",
        "created_at",
        "refund_link",
    ]
    list_filter = ["source", "status"]
    list_select_related = ["tenant"]
    search_fields = ["public_id", "stripe_object_id", "stripe_payment_intent_id", "tenant__slug"]

    @admin.display(description="Refund")
    def refund_link(self, topup) -> str:
        """Refunds go through the staff page (a reason, a confirmation, Stripe and the ledger together)."""
        if topup.status != TopUp.Status.SUCCEEDED or topup.source == TopUp.Source.SIMULATED:
            return "—"
        return format_html(
            '<a href="{}">Refund…</a>', reverse("billing_staff_refund", args=[topup.public_id])
        )


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = [
        "number",
        "issued_at",
        "tenant",
        "workspace_name",
        "total_cents",
        "tax_cents",
        "card_last4",
    ]
    search_fields = ["number", "tenant__slug", "stripe_payment_intent_id", "stripe_checkout_session_id"]
    list_select_related = ["tenant"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = [
        "public_id",
        "created_at",
        "tenant",
        "status",
        "amount_cents",
        "reversal_micros",
        "reason",
    ]
    list_filter = ["status"]
    search_fields = ["public_id", "stripe_refund_id", "tenant__slug"]
    list_select_related = ["tenant"]


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "type", "status", "attempts", "error", "received_at", "processed_at"]
    list_filter = ["status", "type"]
    search_fields = ["event_id"]


class ReserveAccountForm(forms.ModelForm):
    class Meta:
        model = ReserveAccount
        fields = ["policy", "credit_limit_micros"]


@admin.register(ReserveAccount)
class ReserveAccountAdmin(admin.ModelAdmin):
    """Staff choose the low-balance policy here; balances change only through the ledger."""

    form = ReserveAccountForm
    list_display = ["tenant", "balance_micros", "held_micros", "policy", "plan", "auto_topup_enabled"]
    list_filter = ["policy", "auto_topup_enabled"]
    list_select_related = ["tenant"]
    search_fields = ["tenant__slug", "tenant__name", "stripe_customer_id"]
    readonly_fields = [
        "tenant",
        "currency",
        "balance_micros",
        "held_micros",
        "plan",
        "subscription_status",
        "stripe_customer_id",
        "stripe_payment_method_id",
        "auto_topup_enabled",
        "auto_topup_failure_reason",
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        try:
            services.reserve_policy_set(
                tenant=obj.tenant,
                actor=request.user,
                policy=form.cleaned_data["policy"],
                credit_limit_micros=form.cleaned_data["credit_limit_micros"],
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)


class RateLineItemForm(forms.ModelForm):
    """Staff type dollars per 1M tokens (or per call, GB-month, export); micros per unit are stored."""

    price = forms.DecimalField(
        label="Price (USD)", min_value=0, max_digits=32, decimal_places=18, help_text=unit_prices.HELP
    )

    class Meta:
        model = RateLineItem
        fields = ["meter", "model", "price"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and self.instance.meter in unit_prices.PRICE_UNITS:
            self.initial["price"] = unit_prices.dollars_from_micros(
                self.instance.meter, self.instance.unit_price_micros
            ).normalize()

    def clean(self):
        data = super().clean()
        if data.get("meter") and data.get("price") is not None:
            try:
                self.instance.unit_price_micros = unit_prices.micros_from_dollars(
                    data["meter"], data["price"]
                )
            except unit_prices.PriceError as exc:
                self.add_error("price", str(exc))
        return data


class RateLineItemInline(admin.TabularInline):
    model = RateLineItem
    form = RateLineItemForm
    extra = 1
    fields = ["meter", "model", "price", "reads_as"]
    readonly_fields = ["reads_as"]

    @admin.display(description="Price (USD)")
    def price(self, item) -> str:
        """How a frozen version (shown read-only) lists its prices."""
        return unit_prices.price_label(item.meter, item.unit_price_micros) if item.pk else ""

    @admin.display(description="Reads as")
    def reads_as(self, item) -> str:
        if item.pk is None:
            return "—"
        label = unit_prices.price_label(item.meter, item.unit_price_micros)
        return f"{label} ({item.unit_price_micros.normalize():f} micros per unit)"

    def _editable(self, obj) -> bool:
        return obj is None or not services.rate_version_is_used(version=obj)

    def has_add_permission(self, request, obj=None):
        return self._editable(obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj)


class RateCardVersionForm(forms.ModelForm):
    class Meta:
        model = RateCardVersion
        fields = ["rate_card", "effective_from", "note"]

    def clean(self):
        data = super().clean()
        if data.get("rate_card") and data.get("effective_from"):
            try:
                services.rate_version_start_check(
                    rate_card=data["rate_card"],
                    effective_from=data["effective_from"],
                    version_id=self.instance.pk,
                )
            except ApplicationError as exc:
                raise ValidationError({"effective_from": exc.message}) from exc
        return data


@admin.register(RateCardVersion)
class RateCardVersionAdmin(admin.ModelAdmin):
    """A version that has priced usage is frozen: supersede it with a new version instead."""

    form = RateCardVersionForm
    inlines = [RateLineItemInline]
    list_display = ["rate_card", "effective_from", "note", "prices"]
    list_filter = ["rate_card"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("rate_card").prefetch_related("line_items")

    @admin.display(description="Prices")
    def prices(self, version) -> str:
        lines = sorted(version.line_items.all(), key=lambda item: (item.meter, item.model))
        return format_html_join(
            "",
            "<div>{}{}: {}</div>",
            (
                (
                    item.get_meter_display(),
                    f" ({item.model})" if item.model else "",
                    unit_prices.price_label(item.meter, item.unit_price_micros),
                )
                for item in lines
            ),
        )

    def has_change_permission(self, request, obj=None):
        if obj is not None and services.rate_version_is_used(version=obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and services.rate_version_is_used(version=obj):
            return False
        return super().has_delete_permission(request, obj)


@admin.register(RateCard)
class RateCardAdmin(admin.ModelAdmin):
    list_display = ["plan", "name", "created_at"]
    search_fields = ["plan", "name"]
