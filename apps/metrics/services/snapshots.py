"""Daily snapshots: each figure of one day, computed from the source tables with bounded, indexed reads.

Every query reads one day's range (or the 30 days up to it, for active people and quiet workspaces) of a
column with an index: `Event.created_at` and `(kind, created_at)`, `Entry.created_at`,
`UsageEvent.occurred_at`, `LedgerEntry.created_at`, `Tenant.created_at`. None reads a table from its start,
so a day costs the same however long the business has run, and a year of backfill costs 365 days.

Where the figures come from (METRICS_TIME_ZONE calendar days):

- sign-ups and invites redeemed: `user.signed_up` events (every sign-up redeems an invite, so they are
  equal unless sign-ups without one are added); invites issued: `invite.created` events.
- active people: distinct actors of any event (anything a person did: signing in — `user.signed_in`, which
  this app records on every login — logging, editing, accepting suggestions, paying). DAU counts the day,
  WAU the 7 days and MAU the 30 days that end with it. Reading without doing anything is not activity.
- entries logged: entries created that day (imports included; deleted ones too, so a day does not shrink
  when someone tidies up — until `purge_deleted_entries` removes them for good).
- entries improved: suggestions accepted in full or in part (`assist.suggestion_decided`).
- reports generated, AI jobs succeeded / failed: `job.succeeded` / `job.failed` events of the AI job kinds
  (a job that fails and then succeeds on a retry counts once in each).
- tokens in / out, AI calls, AI charge: usage lines of the LLM meters, by the usage's own time.
- AI cost to us: those tokens priced with ProviderCost (per workspace, model and day, rounded once each);
  a model with no row costs nothing and is flagged (`cost_configured`); `builtin` runs here and is free.
- top-ups, refunds: ledger entries of those kinds; refunds as a positive amount.
- balances at the end of the day: today's balances minus every ledger movement after the day, read in one
  statement (a consistent snapshot). Liability sums the positive ones; negative ones are owed to us.
- workspaces gone quiet: at least 30 days old and no entry created in the 30 days up to the day.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.accounts.models import Tenant
from apps.billing.models import LedgerEntry, Meter, ReserveAccount, UsageLine
from apps.core.dates import day_after, day_start
from apps.core.errors import ValidationFailed
from apps.core.models import Event
from apps.metrics.costs import cost_of, provider_costs
from apps.metrics.models import DailySnapshot, ModelDailySnapshot, WorkspaceDailySnapshot
from apps.worklog.models import Entry

SIGN_IN_KIND = "user.signed_in"
SIGN_UP_KIND = "user.signed_up"
INVITE_KIND = "invite.created"
DECIDED_KIND = "assist.suggestion_decided"
ACCEPTED_STATUSES = ("accepted", "partially_accepted")
JOB_SUCCEEDED, JOB_FAILED = "job.succeeded", "job.failed"
REPORT_JOB_KIND = "report.generate"
# Jobs that ask the model (apps.assist, apps.reporting). Import, export and previews are not AI work.
AI_JOB_KINDS = ("assist.improve", "report.generate", "report.section")
LLM_METERS = (Meter.LLM_PROMPT_TOKENS, Meter.LLM_COMPLETION_TOKENS, Meter.LLM_CALL)
QUIET_DAYS = 30
WEEK_DAYS = 7
MONTH_DAYS = 30

WORKSPACE_FIELDS = (
    "active_people",
    "entries_logged",
    "entries_improved",
    "reports_generated",
    "ai_jobs_succeeded",
    "ai_jobs_failed",
    "tokens_in",
    "tokens_out",
    "ai_charged_micros",
    "ai_cost_micros",
    "topup_revenue_micros",
    "refund_micros",
)


def metrics_zone() -> ZoneInfo:
    return ZoneInfo(settings.METRICS_TIME_ZONE)


def metrics_today() -> date:
    return timezone.localdate(timezone=metrics_zone())


def _bounds(day: date, zone) -> tuple[datetime, datetime]:
    start, end = day_start(day, zone), day_after(day, zone)
    if start is None or end is None:
        raise ValidationFailed(f"{day:%Y-%m-%d} is too close to the end of the calendar.", field="day")
    return start, end


@dataclass
class DayResult:
    """A computed day: the snapshot written, and what the ledger moved per workspace that day (for the
    backfill, which walks back from one day's closing balances to the day before's)."""

    snapshot: DailySnapshot
    ledger_delta: dict[int, int] = field(default_factory=dict)
    balances_end: dict[int, int] = field(default_factory=dict)


def _event_counts(start, end, totals: dict, workspaces: dict) -> None:
    """Sign-ups, invites, improvements, reports and AI jobs: one grouped read of the day's events."""
    kinds = [SIGN_UP_KIND, INVITE_KIND, DECIDED_KIND, JOB_SUCCEEDED, JOB_FAILED]
    rows = (
        Event.objects.filter(created_at__gte=start, created_at__lt=end, kind__in=kinds)
        .values("tenant_id")
        .annotate(
            signups=Count("id", filter=Q(kind=SIGN_UP_KIND)),
            invites_redeemed=Count("id", filter=Q(kind=SIGN_UP_KIND, data__invite_id__isnull=False)),
            invites_issued=Count("id", filter=Q(kind=INVITE_KIND)),
            entries_improved=Count("id", filter=Q(kind=DECIDED_KIND, data__status__in=ACCEPTED_STATUSES)),
            reports_generated=Count("id", filter=Q(kind=JOB_SUCCEEDED, data__job_kind=REPORT_JOB_KIND)),
            ai_jobs_succeeded=Count("id", filter=Q(kind=JOB_SUCCEEDED, data__job_kind__in=AI_JOB_KINDS)),
            ai_jobs_failed=Count("id", filter=Q(kind=JOB_FAILED, data__job_kind__in=AI_JOB_KINDS)),
        )
        .order_by()
    )
    per_workspace = ("entries_improved", "reports_generated", "ai_jobs_succeeded", "ai_jobs_failed")
    for row in rows:
        tenant_id = row.pop("tenant_id")
        for name, value in row.items():
            totals[name] += value
            if tenant_id is not None and name in per_workspace:
                workspaces[tenant_id][name] += value


def _active_people(day: date, zone, end, totals: dict, workspaces: dict) -> None:
    """DAU, WAU, MAU and people per workspace: one read of who did something in the 30 days to `day`."""
    window_start = day_start(day - timedelta(days=MONTH_DAYS - 1), zone)
    day_from = day_start(day, zone)
    week_from = day_start(day - timedelta(days=WEEK_DAYS - 1), zone)
    rows = (
        Event.objects.filter(created_at__gte=window_start, created_at__lt=end, actor__isnull=False)
        .values_list("actor_id", "tenant_id")
        .annotate(last=Max("created_at"))
        .order_by()
    )
    daily, weekly, monthly = set(), set(), set()
    per_workspace: dict[int, set] = defaultdict(set)
    for actor_id, tenant_id, last in rows:
        monthly.add(actor_id)
        if last >= week_from:
            weekly.add(actor_id)
        if last >= day_from:
            daily.add(actor_id)
            if tenant_id is not None:
                per_workspace[tenant_id].add(actor_id)
    totals["dau"], totals["wau"], totals["mau"] = len(daily), len(weekly), len(monthly)
    for tenant_id, people in per_workspace.items():
        workspaces[tenant_id]["active_people"] = len(people)


def _entries(start, end, totals: dict, workspaces: dict) -> None:
    rows = (
        Entry.objects.filter(created_at__gte=start, created_at__lt=end)
        .values_list("tenant_id")
        .annotate(count=Count("id"))
        .order_by()
    )
    for tenant_id, count in rows:
        totals["entries_logged"] += count
        workspaces[tenant_id]["entries_logged"] += count


def _usage(start, end, totals: dict, workspaces: dict) -> list[ModelDailySnapshot]:
    """Tokens, calls and what the AI meters charged, per workspace and model; then our cost of them."""
    rows = (
        UsageLine.objects.filter(
            event__occurred_at__gte=start, event__occurred_at__lt=end, meter__in=LLM_METERS
        )
        .values_list("tenant_id", "event__model", "meter")
        .annotate(quantity=Sum("quantity"), charged=Sum("cost_micros"))
        .order_by()
    )
    grouped: dict[tuple[int, str], dict] = defaultdict(lambda: defaultdict(int))
    for tenant_id, model, meter, quantity, charged in rows:
        figures = grouped[(tenant_id, model)]
        units = int(quantity or 0)
        if meter == Meter.LLM_PROMPT_TOKENS:
            figures["tokens_in"] += units
        elif meter == Meter.LLM_COMPLETION_TOKENS:
            figures["tokens_out"] += units
        else:
            figures["ai_calls"] += units
        figures["ai_charged_micros"] += int(charged or 0)
    costs = provider_costs()
    models: dict[str, ModelDailySnapshot] = {}
    for (tenant_id, model), figures in grouped.items():
        figures["ai_cost_micros"], known = cost_of(
            model=model, tokens_in=figures["tokens_in"], tokens_out=figures["tokens_out"], costs=costs
        )
        row = models.get(model)
        if row is None:
            row = models[model] = ModelDailySnapshot(model=model, cost_configured=known)
        for name in ("ai_calls", "tokens_in", "tokens_out", "ai_charged_micros", "ai_cost_micros"):
            setattr(row, name, getattr(row, name) + figures[name])
            totals[name] += figures[name]
            if name != "ai_calls":
                workspaces[tenant_id][name] += figures[name]
    return list(models.values())


def _ledger(start, end, totals: dict, workspaces: dict) -> dict[int, int]:
    """Top-ups and refunds of the day, and the net movement per workspace (for a backfill's walk back)."""
    rows = (
        LedgerEntry.objects.filter(created_at__gte=start, created_at__lt=end)
        .values_list("tenant_id", "kind")
        .annotate(
            total=Sum("amount_micros"), count=Count("id"), outgoing=Count("id", filter=Q(amount_micros__lt=0))
        )
        .order_by()
    )
    delta: dict[int, int] = defaultdict(int)
    for tenant_id, kind, total, count, outgoing in rows:
        delta[tenant_id] += total
        if kind == LedgerEntry.Kind.TOPUP:
            totals["topups"] += count
            totals["topup_revenue_micros"] += total
            workspaces[tenant_id]["topup_revenue_micros"] += total
        elif kind == LedgerEntry.Kind.REFUND:
            # A refund takes money out of the reserve; one the bank sent back puts it in again (net).
            totals["refunds"] += outgoing
            totals["refund_micros"] += -total
            workspaces[tenant_id]["refund_micros"] += -total
    return dict(delta)


def balances_at(end: datetime) -> dict[int, int]:
    """Every workspace's balance at `end`: today's balance minus the ledger movements since, read in one
    statement (UNION ALL) so both parts come from the same snapshot of the database."""
    current = ReserveAccount.objects.values_list("tenant_id", "balance_micros").order_by()
    later = (
        LedgerEntry.objects.filter(created_at__gte=end)
        .values_list("tenant_id")
        .annotate(moved=Coalesce(Sum("amount_micros"), Value(0)) * Value(-1))
        .order_by()
    )
    balances: dict[int, int] = defaultdict(int)
    for tenant_id, amount in current.union(later, all=True):
        balances[tenant_id] += int(amount)
    return dict(balances)


def _reserve(balances: dict[int, int], totals: dict) -> None:
    totals["liability_micros"] = sum(amount for amount in balances.values() if amount > 0)
    totals["negative_balance_micros"] = -sum(amount for amount in balances.values() if amount < 0)
    totals["accounts_negative"] = sum(1 for amount in balances.values() if amount < 0)


def _workspaces(day: date, zone, end, totals: dict) -> None:
    """How many workspaces existed at the day's end, and how many of those 30 days old logged nothing."""
    window_start = day_start(day - timedelta(days=QUIET_DAYS - 1), zone)
    created = Tenant.objects.filter(created_at__lt=end).values_list("id", "created_at").order_by()
    logging = set(
        Entry.objects.filter(created_at__gte=window_start, created_at__lt=end)
        .values_list("tenant_id", flat=True)
        .distinct()
        .order_by()
    )
    total = quiet = 0
    for tenant_id, created_at in created:
        total += 1
        if created_at < window_start and tenant_id not in logging:
            quiet += 1
    totals["workspaces_total"], totals["workspaces_quiet"] = total, quiet


def snapshot_compute(*, day: date, balances_end: dict[int, int] | None = None) -> DayResult:
    """Compute `day` and replace its snapshot rows. Safe to run again at any time: the result is the same
    for a day that is over, and the latest figures for one that is not.

    `balances_end` (the workspaces' balances at the end of `day`) lets a backfill walk back day by day
    instead of reading every later movement again; without it they are read from the ledger.
    """
    zone = metrics_zone()
    start, end = _bounds(day, zone)
    totals: dict[str, int] = defaultdict(int)
    workspaces: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    _event_counts(start, end, totals, workspaces)
    _active_people(day, zone, end, totals, workspaces)
    _entries(start, end, totals, workspaces)
    models = _usage(start, end, totals, workspaces)
    delta = _ledger(start, end, totals, workspaces)
    if balances_end is None:
        balances_end = balances_at(end)
    _reserve(balances_end, totals)
    _workspaces(day, zone, end, totals)

    figures = {name: totals[name] for name in _snapshot_fields()}
    with transaction.atomic():
        # The day's row is locked first: two computations of one day (the schedule and a backfill) queue up.
        snapshot, _created = DailySnapshot.objects.update_or_create(
            day=day, defaults={**figures, "computed_at": timezone.now()}
        )
        WorkspaceDailySnapshot.objects.filter(day=day).delete()
        WorkspaceDailySnapshot.objects.bulk_create(
            WorkspaceDailySnapshot(day=day, tenant_id=tenant_id, **{k: v for k, v in row.items()})
            for tenant_id, row in sorted(workspaces.items())
            if any(row.values())
        )
        ModelDailySnapshot.objects.filter(day=day).delete()
        for row in models:
            row.day = day
        ModelDailySnapshot.objects.bulk_create(sorted(models, key=lambda row: row.model))
    return DayResult(snapshot=snapshot, ledger_delta=delta, balances_end=balances_end)


def _snapshot_fields() -> list[str]:
    skip = {"id", "day", "computed_at"}
    return [f.name for f in DailySnapshot._meta.concrete_fields if f.name not in skip]


def snapshot_backfill(*, since: date, until: date | None = None, progress=None) -> int:
    """Compute every day from `since` to `until` (today by default), newest first; returns the count.

    Idempotent: running it again replaces the same days with the same figures. Each day is its own
    transaction, so an interrupted backfill keeps the days it finished. Walking back from the newest day,
    a day's closing balances are the next day's minus what the next day moved, so no day reads the ledger
    after it again — except the last two, whose later movements are still arriving.
    """
    today = metrics_today()
    until = until or today
    if since > until:
        raise ValidationFailed("The first day is after the last.", field="since")
    if until > today:
        raise ValidationFailed("The last day cannot be in the future.", field="until")
    count = 0
    day = until
    balances: dict[int, int] | None = None
    while day >= since:
        chained = balances if day < today - timedelta(days=1) else None
        result = snapshot_compute(day=day, balances_end=chained)
        balances = {
            tenant_id: amount - result.ledger_delta.get(tenant_id, 0)
            for tenant_id, amount in result.balances_end.items()
        }
        count += 1
        if progress is not None:
            progress(day)
        day -= timedelta(days=1)
    return count


def snapshot_recent() -> int:
    """What the schedule runs: today so far, and yesterday (final once the day is over)."""
    today = metrics_today()
    return snapshot_backfill(since=today - timedelta(days=1), until=today)
