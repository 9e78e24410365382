"""Writes for metrics. Import from here: `from apps.metrics import services`."""

from apps.metrics.services.operations import (
    RECONCILE_SCHEDULE,
    SNAPSHOT_SCHEDULE,
    metrics_defaults_install,
    reconcile_request,
    reconcile_run,
    sign_in_record,
    stripe_event_replay,
)
from apps.metrics.services.snapshots import (
    metrics_today,
    metrics_zone,
    snapshot_backfill,
    snapshot_compute,
    snapshot_recent,
)

__all__ = [
    "RECONCILE_SCHEDULE",
    "SNAPSHOT_SCHEDULE",
    "metrics_defaults_install",
    "metrics_today",
    "metrics_zone",
    "reconcile_request",
    "reconcile_run",
    "sign_in_record",
    "snapshot_backfill",
    "snapshot_compute",
    "snapshot_recent",
    "stripe_event_replay",
]
