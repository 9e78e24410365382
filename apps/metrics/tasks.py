"""django-q2 jobs of the metrics app (scheduled by bootstrap); each is safe to run twice."""

from apps.metrics import services
from apps.metrics.models import ReconcileRun


def snapshots_recent() -> int:
    """Every METRICS_SNAPSHOT_MINUTES: today so far and yesterday, replacing what was there."""
    return services.snapshot_recent()


def billing_reconcile(run_id: int | None = None) -> int:
    """Every METRICS_RECONCILE_MINUTES, or when staff ask: returns the number of differences found."""
    trigger = ReconcileRun.Trigger.STAFF if run_id is not None else ReconcileRun.Trigger.SCHEDULE
    return services.reconcile_run(run_id=run_id, trigger=trigger).problem_count
