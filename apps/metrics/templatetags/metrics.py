"""Formatting for the staff dashboards."""

import json

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

from apps.billing.templatetags.billing import money_fine

register = template.Library()

MINUS = "\u2212"
TREND_CLASSES = {"good": "text-success", "bad": "text-danger", "new": "text-primary"}


@register.filter
def tile_value(value, money: bool = False) -> str:
    """A tile's figure: dollars for money, grouped digits otherwise; a dash when there is no snapshot."""
    if value is None:
        return "—"
    return money_fine(int(value)) if money else intcomma(int(value))


@register.filter
def change_text(tile) -> str:
    """Against the previous period: "+12%", "-5%" (a real minus sign), "no change", "new" or a dash."""
    if tile.trend == "none":
        return "—"
    if tile.trend == "new":
        return "new"
    percent = tile.change_percent
    if not percent:
        return "no change" if tile.value == tile.previous else "±0%"
    return f"{'+' if percent > 0 else MINUS}{abs(percent)}%"


@register.filter
def trend_class(tile) -> str:
    return TREND_CLASSES.get(tile.trend, "ar-subtle")


@register.filter
def trend_icon(tile) -> str:
    if tile.trend in ("none", "flat") or not tile.change_percent:
        return "bi-dash"
    return "bi-arrow-up-right" if tile.change_percent > 0 else "bi-arrow-down-right"


@register.filter
def seconds_ago(seconds) -> str:
    """42 -> "42 s", 125 -> "2 min", 7300 -> "2 h"."""
    if seconds is None:
        return "—"
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


@register.filter
def json_pretty(value) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
