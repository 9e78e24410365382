"""Notification URLs for the tenancy harness (tests/tenancy.py): an outsider gets 404 on each."""


def _notification_kwargs(owner):
    from apps.notifications.models import Notification

    notification = Notification.objects.create(
        tenant=owner.memberships.get().tenant,
        user=owner,
        kind="job_failed",
        key="tenancy:1",
        title="Alice's private notification",
    )
    return {"pk": notification.pk}


OUTSIDER_GETS_404 = {
    "notifications_open": (_notification_kwargs, ["get"]),
    "notifications_read": (_notification_kwargs, ["post"]),
}

NOT_OBJECT_URLS = {"notifications_unsubscribe": "a signed token naming a person and a kind, not an object"}
