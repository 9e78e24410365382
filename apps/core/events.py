import json
import logging
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from apps.core.logging import current_request_id
from apps.core.models import Event

logger = logging.getLogger("afterresume.events")


def emit_event(kind: str, *, tenant=None, actor=None, **data: Any) -> Event:
    """Record that something happened: one Event row and one structured log line.

    Call it inside the service's transaction, so the event exists exactly when the change does.
    """
    json_data = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    if actor is not None and not actor.is_authenticated:
        actor = None
    event = Event.objects.create(
        kind=kind, tenant=tenant, actor=actor, data=json_data, request_id=current_request_id()
    )
    logger.info(
        kind,
        extra={
            "event": kind,
            "tenant": getattr(tenant, "slug", None),
            "actor": getattr(actor, "pk", None),
            "data": json_data,
        },
    )
    return event
