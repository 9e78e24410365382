"""A notification as an email: text and HTML bodies, one-click unsubscribe (RFC 8058) and the signed token.

The token names the person and the kind, signed with SECRET_KEY (Django's signing, with its own salt), so the
unsubscribe link works signed out and cannot be pointed at someone else. Security alerts have no unsubscribe:
they are always sent.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from apps.notifications.kinds import kind_info, kind_label
from apps.notifications.models import Notification

UNSUBSCRIBE_SALT = "apps.notifications.unsubscribe"


@dataclass(frozen=True)
class UnsubscribeClaim:
    user_id: int
    kind: str


def unsubscribe_token(*, user_id: int, kind: str) -> str:
    return signing.dumps({"u": user_id, "k": kind}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_token_read(token: str) -> UnsubscribeClaim | None:
    """The claim a token makes, or None when it was not signed by us (tampered, truncated, made up)."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("k"), str):
        return None
    return UnsubscribeClaim(user_id=data["u"], kind=data["k"])


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path if path.startswith("/") else path


def unsubscribe_url(*, user_id: int, kind: str) -> str:
    return absolute(
        reverse("notifications_unsubscribe", kwargs={"token": unsubscribe_token(user_id=user_id, kind=kind)})
    )


def email_build(notification: Notification) -> EmailMultiAlternatives:
    """The message for a notification, addressed to its person."""
    user = notification.user
    info = kind_info(notification.kind)
    unsubscribe = None if info.locked else unsubscribe_url(user_id=user.pk, kind=notification.kind)
    context = {
        "notification": notification,
        "greeting_name": user.get_short_name() if user.name else "",
        "paragraphs": [part.strip() for part in notification.body.split("\n\n") if part.strip()],
        "action_url": absolute(notification.url) if notification.url else "",
        "action_label": notification.action_label or "Open AfterResume",
        "kind_label": kind_label(notification.kind),
        "locked": info.locked,
        "unsubscribe_url": unsubscribe,
        "preferences_url": absolute(reverse("notifications_preferences")),
        "site_url": settings.SITE_URL.rstrip("/"),
        "tone": info.tone,
    }
    headers = {"Auto-Submitted": "auto-generated", "X-AfterResume-Notification": notification.kind}
    if unsubscribe:
        headers["List-Unsubscribe"] = f"<{unsubscribe}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message = EmailMultiAlternatives(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{notification.title}",
        body=render_to_string("notifications/email/notification.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        headers=headers,
    )
    message.attach_alternative(
        render_to_string("notifications/email/notification.html", context), "text/html"
    )
    return message
