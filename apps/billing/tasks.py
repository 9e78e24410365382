"""django-q2 jobs: each takes ids and calls one service; each is safe to run twice."""

from django_q.tasks import async_task

from apps.billing import services


def auto_topup_charge(topup_id: int) -> str:
    return services.auto_topup_charge(topup_id=topup_id)


def holds_expire() -> int:
    return services.hold_expire_due()


def enqueue_auto_topup_charge(topup_id: int) -> None:
    """Called from transaction.on_commit, so the job never sees an uncommitted top-up."""
    async_task(
        "apps.billing.tasks.auto_topup_charge", topup_id, task_name=f"auto-topup-{topup_id}", group="billing"
    )
