"""Notifications API, mounted at /api/notifications/, for the signed-in person (session or token).

`GET /api/notifications/` -> {"items": [{"id", "kind", "title", "created_at", "read"}], "unread"}: newest
first, `limit` at most 100, `unread=true` for unread ones only. `POST /api/notifications/{id}/read/` marks one
read (someone else's is a 404); `POST /api/notifications/read-all/` marks them all.
"""

from ninja import Query, Router, Schema
from pydantic import Field

from apps.core.tenancy import require_tenant
from apps.notifications import selectors, services
from apps.notifications.models import Notification
from apps.notifications.schemas import NotificationListOut, NotificationOut, ReadAllOut

router = Router(tags=["notifications"])


class ListFilters(Schema):
    unread: bool = False
    limit: int = Field(20, ge=1, le=100)


def notification_out(notification: Notification) -> dict:
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "title": notification.title,
        "created_at": notification.created_at,
        "read": notification.read_at is not None,
    }


@router.get("/", response=NotificationListOut)
def notifications_list(request, filters: Query[ListFilters]):
    tenant = require_tenant(request)
    items = selectors.notification_list(user=request.user, tenant=tenant, unread_only=filters.unread)
    return {
        "items": [notification_out(item) for item in items[: filters.limit]],
        "unread": selectors.notification_unread_count(user=request.user, tenant=tenant),
    }


@router.post("/read-all/", response=ReadAllOut)
def notifications_read_all(request):
    tenant = require_tenant(request)
    marked = services.notification_mark_all_read(user=request.user, tenant=tenant)
    return {"marked": marked, "unread": selectors.notification_unread_count(user=request.user, tenant=tenant)}


@router.post("/{id}/read/", response=NotificationOut)
def notification_read(request, id: int):
    notification = selectors.notification_get(user=request.user, tenant=require_tenant(request), pk=id)
    return notification_out(services.notification_mark_read(notification=notification))
