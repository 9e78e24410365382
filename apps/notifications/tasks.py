"""django-q2 tasks: they take ids (or nothing) and call one service. Each is safe to run twice."""

from apps.notifications import dispatch, services


def event_notify(event_id: int) -> int:
    """Queued after an event's transaction commits (receivers.py)."""
    return dispatch.event_notify(event_id=event_id)


def notification_email_send(notification_id: int) -> str:
    """Queued when a notification wanted by email commits."""
    return services.notification_email_send(notification_id=notification_id)


def capture_reminders_send() -> int:
    """Hourly schedule (registered by `manage.py bootstrap`)."""
    return services.capture_reminders_send()


def follow_ups_send() -> int:
    """Hourly schedule (registered by `manage.py bootstrap`)."""
    return services.follow_ups_send()
