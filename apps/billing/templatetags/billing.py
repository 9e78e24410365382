from django import template

from apps.billing import selectors
from apps.core.money import cents_to_micros, format_micros, micros_to_decimal_string

register = template.Library()


@register.filter
def money(micros, currency: str = "usd") -> str:
    """12_345_000 -> "$12.35"."""
    if micros is None or micros == "":
        return ""
    return format_micros(int(micros), currency)


@register.filter
def money_fine(micros, currency: str = "usd") -> str:
    """Like `money`, but amounts under a cent keep their digits: 300 -> "$0.0003"."""
    micros = int(micros or 0)
    if micros == 0 or abs(micros) >= 10_000:
        return format_micros(micros, currency)
    digits = micros_to_decimal_string(abs(micros)).rstrip("0")
    return f"{'-' if micros < 0 else ''}{format_micros(0, currency)[:-4]}{digits}"


@register.filter
def cents(amount_cents) -> str:
    """2000 -> "$20.00"."""
    return format_micros(cents_to_micros(int(amount_cents)))


@register.filter
def money_exact(micros) -> str:
    """All six decimals, for ledger detail: 1_234_567 -> "1.234567"."""
    if micros is None or micros == "":
        return ""
    return micros_to_decimal_string(int(micros))


def _account(request):
    """One query per request for the top bar and the banner together."""
    if not hasattr(request, "_billing_account"):
        request._billing_account = selectors.reserve_account_for(tenant=getattr(request, "tenant", None))
    return request._billing_account


@register.inclusion_tag("billing/partials/_reserve_badge_tag.html", takes_context=True)
def reserve_badge(context):
    request = context["request"]
    return {"request": request, "account": _account(request)}


@register.inclusion_tag("billing/partials/_low_balance_banner.html", takes_context=True)
def low_balance_banner(context):
    request = context["request"]
    return {"request": request, "account": _account(request)}
