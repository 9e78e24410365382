import json
import logging
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.dispatch import Signal

from apps.core.logging import current_request_id
from apps.core.models import Event

logger = logging.getLogger("afterresume.events")

# Sent once the transaction that recorded an event has committed (at once when there is none), so other
# apps can react to what happened without the service knowing them (apps.notifications turns events into
# notifications). Sent robustly: a failing receiver is logged, never raised into the service.
# Arguments: event.
event_emitted = Signal()


def _announce(event: Event) -> None:
    for receiver, response in event_emitted.send_robust(sender=Event, event=event):
        if isinstance(response, Exception):
            logger.error("event %s (%s): receiver %r failed: %r", event.pk, event.kind, receiver, response)


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
    if event_emitted.has_listeners(Event):
        transaction.on_commit(lambda: _announce(event))
    return event
