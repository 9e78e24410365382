"""Signal receivers: they parse what the signal carries and call one service (or queue one task)."""

import logging

from allauth.account.adapter import get_adapter
from django.core.exceptions import PermissionDenied
from django_q.tasks import async_task

from apps.notifications import services
from apps.notifications.dispatch import event_wanted

logger = logging.getLogger(__name__)

EVENT_TASK = "apps.notifications.tasks.event_notify"


def on_event_emitted(sender, event, **kwargs) -> None:
    """An event committed: queue its notifications when some handler is interested (never in the request)."""
    if event_wanted(event):
        async_task(EVENT_TASK, event.pk, task_name=f"notify-event-{event.pk}", group="notifications")


def on_user_logged_in(sender, request, user, **kwargs) -> None:
    """allauth signed someone in (password, passkey, code or sign-up): remember the device. A failure here is
    logged and never stops the sign-in."""
    try:
        try:
            ip_address = get_adapter(request).get_client_ip(request)
        except PermissionDenied:
            ip_address = ""
        services.sign_in_record(
            user=user, user_agent=request.META.get("HTTP_USER_AGENT", ""), ip_address=ip_address
        )
    except Exception:
        logger.exception("could not record the sign-in device of user %s", getattr(user, "pk", None))
