"""Entries waiting for their result: `outcome_pending` with a follow-up date that has come."""

from datetime import date

from django.db.models import QuerySet

from apps.worklog.models import Entry

FOLLOW_UPS_SHOWN = 8


def entry_follow_up_list(*, tenant, today: date) -> QuerySet[Entry]:
    """Live entries whose result is due by `today` (the person's own date), the longest waiting first."""
    if tenant is None:
        return Entry.objects.none()
    return (
        Entry.objects.filter(
            tenant=tenant, deleted_at__isnull=True, outcome_pending=True, follow_up_on__lte=today
        )
        .select_related("employer", "project")
        .order_by("follow_up_on", "occurred_on", "id")
    )
