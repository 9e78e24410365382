import uuid
from decimal import Decimal

from django import forms
from django.conf import settings

from apps.accounts.models import Tenant
from apps.billing.models import LedgerEntry
from apps.core.money import MoneyError, units_to_micros


def _dollars_to_micros(value: Decimal) -> int:
    try:
        return units_to_micros(value)
    except MoneyError as exc:
        raise forms.ValidationError("Use at most six decimals.") from exc


class TopUpForm(forms.Form):
    """A preset button posts `amount` in whole dollars; the custom field takes dollars and cents."""

    amount = forms.DecimalField(
        label="Amount (USD)",
        max_digits=9,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"class": "form-control", "step": "0.01", "inputmode": "decimal"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        low, high = settings.BILLING_TOPUP_MIN_CENTS / 100, settings.BILLING_TOPUP_MAX_CENTS / 100
        self.fields["amount"].widget.attrs.update({"min": f"{low:.2f}", "max": f"{high:.2f}"})
        self.fields["amount"].help_text = f"Between ${low:,.2f} and ${high:,.2f}."

    def amount_cents(self) -> int:
        return int(self.cleaned_data["amount"] * 100)


class AutoTopUpForm(forms.Form):
    auto_topup_enabled = forms.BooleanField(
        label="Top up automatically",
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    auto_topup_amount = forms.DecimalField(
        label="Top-up amount (USD)",
        max_digits=9,
        decimal_places=2,
        min_value=Decimal("0.01"),
        widget=forms.NumberInput(attrs={"class": "form-control", "step": "0.01"}),
    )
    auto_topup_threshold = forms.DecimalField(
        label="When under (USD)",
        max_digits=12,
        decimal_places=2,
        min_value=Decimal(0),
        widget=forms.NumberInput(attrs={"class": "form-control", "step": "0.01"}),
    )
    low_balance_threshold = forms.DecimalField(
        label="Warn me below (USD)",
        max_digits=12,
        decimal_places=2,
        min_value=Decimal(0),
        widget=forms.NumberInput(attrs={"class": "form-control", "step": "0.01"}),
        help_text="A banner shows on every page while the available balance is under this.",
    )

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "auto_topup_enabled": data["auto_topup_enabled"],
            "auto_topup_amount_cents": int(data["auto_topup_amount"] * 100),
            "auto_topup_threshold_micros": _dollars_to_micros(data["auto_topup_threshold"]),
            "low_balance_threshold_micros": _dollars_to_micros(data["low_balance_threshold"]),
        }


class LedgerFilterForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[("", "All kinds"), *LedgerEntry.Kind.choices],
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    since = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}),
    )
    until = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError("The start date is after the end date.")
        return data


class AdjustmentForm(forms.Form):
    tenant = forms.ModelChoiceField(
        queryset=Tenant.objects.order_by("name", "slug"),
        label="Workspace",
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    amount = forms.DecimalField(
        label="Amount (USD, negative to take away)",
        max_digits=14,
        decimal_places=6,
        widget=forms.NumberInput(attrs={"class": "form-control", "step": "0.000001"}),
    )
    reason = forms.CharField(
        max_length=300,
        widget=forms.TextInput(
            attrs={"class": "form-control", "placeholder": "e.g. Refund for failed export #1234"}
        ),
        help_text="Required. It is shown in the ledger and kept in the audit log.",
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=200)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", f"adjustment:{uuid.uuid4().hex}")
        super().__init__(*args, **kwargs)

    def amount_micros(self) -> int:
        return _dollars_to_micros(self.cleaned_data["amount"])


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        label="Refund to the card (USD)",
        max_digits=9,
        decimal_places=2,
        min_value=Decimal("0.01"),
        widget=forms.NumberInput(attrs={"class": "form-control", "step": "0.01", "inputmode": "decimal"}),
    )
    reason = forms.CharField(
        max_length=300,
        widget=forms.TextInput(
            attrs={"class": "form-control", "placeholder": "e.g. Charged twice by mistake"}
        ),
        help_text="Required. Kept with the refund and in the audit log.",
    )

    def amount_cents(self) -> int:
        return int(self.cleaned_data["amount"] * 100)
