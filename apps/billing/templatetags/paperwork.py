"""Filters for receipts and statements: money in the document's own currency."""

from django import template

from apps.core.money import cents_to_micros, format_micros

register = template.Library()


@register.filter
def cents_in(amount_cents, currency: str = "usd") -> str:
    """2000|cents_in:"eur" -> "€20.00"."""
    if amount_cents is None or amount_cents == "":
        return ""
    return format_micros(cents_to_micros(int(amount_cents)), currency)


@register.filter
def signed_money(micros, currency: str = "usd") -> str:
    """Movements on a statement: "+$20.00", "$0.00", and a real minus sign (U+2212) before "$1.23"."""
    micros = int(micros or 0)
    text = format_micros(abs(micros), currency)
    if micros > 0:
        return f"+{text}"
    if micros < 0:
        return f"\u2212{text}"
    return text
