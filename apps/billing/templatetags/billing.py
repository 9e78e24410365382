from django import template

from apps.billing.status_bar import status_bar_read
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


@register.filter
def tokens_short(count) -> str:
    """Token counts for the top bar, rounded half up: 950 -> "950", 12_345 -> "12.3k", 999_950 -> "1M"."""
    count = int(count or 0)
    number, sign = abs(count), "-" if count < 0 else ""
    if number < 1000:
        return str(count)
    units = ((1_000, "k"), (1_000_000, "M"), (1_000_000_000, "B"))
    for size, suffix in units:
        tenths = (number * 10 + size // 2) // size
        if tenths < 1000:
            whole, tenth = divmod(tenths, 10)
            return f"{sign}{whole}.{tenth}{suffix}" if tenth else f"{sign}{whole}{suffix}"
        whole = (number + size // 2) // size
        if whole < 1000 or suffix == "B":
            return f"{sign}{whole}{suffix}"
    return str(count)  # not reached: the last unit always answers


def _status(request):
    """One query per request for the top bar (balance and today's tokens) and the banner together."""
    if not hasattr(request, "_billing_status"):
        request._billing_status = status_bar_read(tenant=getattr(request, "tenant", None))
    return request._billing_status


def _account(request):
    status = _status(request)
    return status.account if status is not None else None


@register.inclusion_tag("billing/partials/_reserve_badge_tag.html", takes_context=True)
def reserve_badge(context):
    request = context["request"]
    return {"request": request, "account": _account(request), "status": _status(request)}


@register.inclusion_tag("billing/partials/_low_balance_banner.html", takes_context=True)
def low_balance_banner(context):
    request = context["request"]
    return {"request": request, "account": _account(request)}
