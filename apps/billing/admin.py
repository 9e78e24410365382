from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from apps.billing import services
from apps.billing.models import (
    Hold,
    LedgerEntry,
    RateCard,
    RateCardVersion,
    RateLineItem,
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
    list_display = ["public_id", "tenant", "source", "status", "amount_cents", "failure_reason", "created_at"]
    list_filter = ["source", "status"]
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


class RateLineItemInline(admin.TabularInline):
    model = RateLineItem
    extra = 1

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
    list_display = ["rate_card", "effective_from", "note"]
    list_filter = ["rate_card"]

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
