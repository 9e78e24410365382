"""Staff operations behind /staff/system/: replay a failed Stripe event, reconcile the reserves, set up the
schedules. Each goes through the service that owns the data (billing's webhook path, billing's reconcile
check, core's job controls); what staff did is written to the event log."""

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from apps.accounts.selectors import tenant_for_user
from apps.billing import selectors as billing_selectors
from apps.billing import services as billing_services
from apps.billing.models import StripeEvent
from apps.core.errors import ApplicationError, Conflict, NotFound, require_staff
from apps.core.events import emit_event
from apps.metrics.models import ProviderCost, ReconcileRun
from apps.metrics.services.snapshots import SIGN_IN_KIND

logger = logging.getLogger("afterresume.metrics")

SNAPSHOT_SCHEDULE = "metrics: daily snapshots"
RECONCILE_SCHEDULE = "billing: reconcile"
# What models cost us per 1M tokens, in micros, installed once (staff edit them in the admin afterwards).
DEFAULT_PROVIDER_COSTS = {
    "gpt-4o-mini": (150_000, 600_000, "OpenAI list price per 1M tokens, input and output."),
    "builtin": (0, 0, "The offline builtin provider runs on this server."),
}
# A staff request that no worker picked up for this long is shown as not finished, and may be asked again.
RECONCILE_PENDING_MINUTES = 10


def metrics_defaults_install() -> list[str]:
    """The two schedules (installed or brought up to date, never doubled) and default model costs."""
    from django.conf import settings

    done = []
    schedules = (
        (SNAPSHOT_SCHEDULE, "snapshots_recent", settings.METRICS_SNAPSHOT_MINUTES, "daily snapshots"),
        (RECONCILE_SCHEDULE, "billing_reconcile", settings.METRICS_RECONCILE_MINUTES, "reconciliation"),
    )
    for name, task, minutes, what in schedules:
        func = f"apps.metrics.tasks.{task}"
        _schedule, created = Schedule.objects.update_or_create(
            name=name,
            defaults={"func": func, "schedule_type": Schedule.MINUTES, "minutes": minutes, "repeats": -1},
        )
        done.append(
            f"scheduled {what} every {minutes} minutes."
            if created
            else f"{what} {'is' if what == 'reconciliation' else 'are'} scheduled every {minutes} minutes."
        )
    added = []
    for model, (prompt, completion, note) in DEFAULT_PROVIDER_COSTS.items():
        _cost, created = ProviderCost.objects.get_or_create(
            model=model,
            defaults={
                "input_micros_per_million": prompt,
                "output_micros_per_million": completion,
                "note": note,
            },
        )
        if created:
            added.append(model)
    done.append(
        f"added model costs for {', '.join(added)}." if added else "model costs are set; left as they are."
    )
    return done


def sign_in_record(*, user) -> None:
    """A sign-in is activity: it counts towards active people even when the person only reads."""
    emit_event(SIGN_IN_KIND, tenant=tenant_for_user(user), actor=user)


# ------------------------------------------------------------------------------------------- webhooks


def stripe_event_replay(*, event_pk: int, actor) -> str:
    """Apply a failed Stripe event again from its stored payload, through the webhook's own idempotent path.

    The FAILED row is claimed again there (under its row lock), so a replay racing Stripe's own retry, or
    a second click, credits once. Returns the outcome: processed, ignored, rejected or duplicate.
    """
    require_staff(actor, "Only staff can do this.")
    row = StripeEvent.objects.filter(pk=event_pk).first()
    if row is None:
        raise NotFound("No such Stripe event.")
    if row.status != StripeEvent.Status.FAILED:
        raise Conflict(
            f"Event {row.event_id} is {row.get_status_display().lower()}: there is nothing to replay.",
            extra={"status": row.status},
        )
    if not row.payload.get("id") or not row.payload.get("type"):
        raise ApplicationError(f"Event {row.event_id} has no stored payload to replay.")
    try:
        outcome = billing_services.webhook_event_process(event=row.payload)
    except Exception as exc:
        logger.exception("replaying stripe event %s failed", row.event_id)
        row.refresh_from_db()
        raise ApplicationError(
            f"Replaying {row.event_id} failed again: {row.error or type(exc).__name__}. It stays failed.",
            extra={"event_id": row.event_id},
        ) from exc
    emit_event(
        "billing.webhook.replayed", tenant=row.tenant, actor=actor, event_id=row.event_id, outcome=outcome
    )
    return outcome


# ------------------------------------------------------------------------------------- reconciliation


def _problems_json(problems) -> list[dict]:
    return [
        {"account_id": problem.account_id, "tenant": problem.tenant_slug, "problem": problem.problem}
        for problem in problems
    ]


def reconcile_run(*, run_id: int | None = None, trigger: str = ReconcileRun.Trigger.SCHEDULE) -> ReconcileRun:
    """Run `billing_reconcile`'s check and store its result: the last run is what /staff/system/ shows."""
    if run_id is not None:
        run = ReconcileRun.objects.filter(pk=run_id, finished_at__isnull=True).first()
        if run is None:
            return ReconcileRun.objects.get(pk=run_id)  # already done: a task delivered twice
    else:
        run = ReconcileRun.objects.create(trigger=trigger, started_at=timezone.now())
    try:
        accounts, problems = billing_selectors.reconcile_problems()
    except Exception as exc:
        logger.exception("reconcile run %s broke", run.pk)
        run.error = f"{type(exc).__name__}: {exc}"[:2000]
    else:
        run.accounts_checked, run.problem_count = accounts, len(problems)
        run.problems = _problems_json(problems[:200])
        if problems:
            logger.error("reconcile: %s differences in %s accounts", len(problems), accounts)
            emit_event("billing.reconcile.differences", differences=len(problems), accounts=accounts)
    run.finished_at = timezone.now()
    run.save()
    return run


def reconcile_request(*, actor) -> ReconcileRun:
    """Staff asked for a reconciliation now: a waiting run, checked by the worker (it reads every entry).

    One request waits at a time, enforced by the database (`reconcile_one_staff_request_waiting`), so two
    clicks at once queue one check. A request no worker picked up within RECONCILE_PENDING_MINUTES is
    closed with that error first, so a stopped worker does not block the button for ever.
    """
    require_staff(actor, "Only staff can do this.")
    now = timezone.now()
    waiting = ReconcileRun.objects.filter(trigger=ReconcileRun.Trigger.STAFF, finished_at__isnull=True)
    try:
        with transaction.atomic():
            waiting.filter(started_at__lt=now - timedelta(minutes=RECONCILE_PENDING_MINUTES)).update(
                finished_at=now, error="No worker picked this request up in time; it was asked again."
            )
            run = ReconcileRun.objects.create(
                trigger=ReconcileRun.Trigger.STAFF, requested_by=actor, started_at=now
            )
            emit_event("billing.reconcile.requested", actor=actor, run_id=run.pk)
            transaction.on_commit(
                lambda: async_task(
                    "apps.metrics.tasks.billing_reconcile", run.pk, task_name=f"reconcile-{run.pk}"
                )
            )
    except IntegrityError:
        pending = waiting.values_list("pk", flat=True).first()
        raise Conflict(
            "A reconciliation is already waiting for the worker; its result shows here when it is done.",
            extra={"run_id": pending},
        ) from None
    return run
