from django import template
from django.conf import settings

from apps.notifications import selectors
from apps.notifications.kinds import KINDS

register = template.Library()


def unread_count(request) -> int:
    """One query per request, shared by the bell and the notifications page."""
    if not hasattr(request, "_notifications_unread"):
        request._notifications_unread = selectors.notification_unread_count(
            user=request.user, tenant=getattr(request, "tenant", None)
        )
    return request._notifications_unread


@register.inclusion_tag("notifications/partials/_bell.html", takes_context=True)
def notification_bell(context):
    request = context["request"]
    return {
        "request": request,
        "unread": unread_count(request),
        "poll_ms": max(1, settings.NOTIFICATIONS_POLL_SECONDS) * 1000,
    }


@register.filter
def bell_count(value) -> str:
    """3 -> "3", 120 -> "99+"."""
    value = int(value or 0)
    return "99+" if value > 99 else str(value)


@register.filter
def kind_icon(kind: str) -> str:
    info = KINDS.get(kind)
    return info.icon if info else "bell"


@register.filter
def kind_tone(kind: str) -> str:
    info = KINDS.get(kind)
    return info.tone if info else "primary"


@register.filter
def first_paragraph(text: str) -> str:
    return (text or "").strip().split("\n\n", 1)[0]
