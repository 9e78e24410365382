"""Reads for the staff dashboards. Staff see every workspace, so nothing here is scoped by tenant; the
views that call these are all behind `staff_required` (404 for everyone else).

Each read is a fixed number of queries whatever the date range: the dashboard reads the range's daily
snapshots in one query (and its previous period with it), the tables in one grouped query each.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, F, Min, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from apps.accounts.models import Tenant
from apps.billing import staff_selectors as billing_staff
from apps.core.dates import day_start
from apps.core.jobs import _stale_after as job_stale_after
from apps.core.models import Event, Job
from apps.metrics.charts import (
    CHARTS,
    ChartData,
    Period,
    TileValue,
    chart_data,
    periods,
    rows_per_period,
    tile_values,
)
from apps.metrics.models import DailySnapshot, ModelDailySnapshot, ReconcileRun, WorkspaceDailySnapshot
from apps.metrics.services.snapshots import QUIET_DAYS, metrics_today, metrics_zone

TOP_WORKSPACES = 10
QUIET_LIST = 10
JOB_LIST = 25
FAILED_JOB_DAYS = 7
EVENT_PAGE = 50


@dataclass(frozen=True)
class Dashboard:
    since: date
    until: date
    granularity: str
    current: Period
    previous: Period
    charts: list[ChartData]
    tiles: list[TileValue]
    missing_days: int
    computed_at: datetime | None
    workspaces: list[dict]
    models: list[dict]
    quiet: list[Tenant]

    @property
    def unpriced_models(self) -> list[str]:
        return [row["model"] or "(no model)" for row in self.models if row["unpriced_days"]]

    def charts_json(self) -> list[dict]:
        return [data.as_json() for data in self.charts]


def _sums(*names: str) -> dict:
    return {name: Sum(name) for name in names}


def dashboard_get(*, since: date, until: date, granularity: str) -> Dashboard:
    length = (until - since).days + 1
    previous = Period(since - timedelta(days=length), since - timedelta(days=1))
    current = Period(since, until)
    rows = DailySnapshot.objects.filter(day__gte=previous.start, day__lte=until).order_by("day")
    by_day = {row.day: row for row in rows}
    spans = periods(since, until, granularity)
    grouped = rows_per_period(by_day, spans)
    in_range = [row for day, row in by_day.items() if day >= since]
    workspaces = list(
        WorkspaceDailySnapshot.objects.filter(day__gte=since, day__lte=until)
        .values("tenant_id", "tenant__name", "tenant__slug")
        .annotate(
            **_sums(
                "entries_logged",
                "entries_improved",
                "reports_generated",
                "tokens_in",
                "tokens_out",
                "ai_charged_micros",
                "ai_cost_micros",
                "topup_revenue_micros",
            ),
            active_days=Count("id", filter=Q(active_people__gt=0)),
        )
        .annotate(ai_margin_micros=F("ai_charged_micros") - F("ai_cost_micros"))
        .order_by("-ai_charged_micros", "-entries_logged", "tenant__slug")[:TOP_WORKSPACES]
    )
    models = list(
        ModelDailySnapshot.objects.filter(day__gte=since, day__lte=until)
        .values("model")
        .annotate(
            **_sums("ai_calls", "tokens_in", "tokens_out", "ai_charged_micros", "ai_cost_micros"),
            unpriced_days=Count("id", filter=Q(cost_configured=False)),
        )
        .annotate(ai_margin_micros=F("ai_charged_micros") - F("ai_cost_micros"))
        .order_by("-ai_charged_micros", "model")
    )
    return Dashboard(
        since=since,
        until=until,
        granularity=granularity,
        current=current,
        previous=previous,
        charts=[chart_data(chart, grouped, spans) for chart in CHARTS],
        tiles=tile_values(by_day, current, previous),
        missing_days=length - len(in_range),
        computed_at=max((row.computed_at for row in in_range), default=None),
        workspaces=workspaces,
        models=models,
        quiet=quiet_workspaces(),
    )


def quiet_workspaces(*, limit: int = QUIET_LIST) -> list[Tenant]:
    """Workspaces at least 30 days old with no entry in the last 30 days (by the daily snapshots), the
    most recently active first: the ones still worth a nudge. `last_logged` is None when never."""
    cutoff = metrics_today() - timedelta(days=QUIET_DAYS - 1)
    created_before = day_start(cutoff, metrics_zone())
    last_logged = (
        WorkspaceDailySnapshot.objects.filter(tenant_id=OuterRef("pk"), entries_logged__gt=0)
        .order_by("-day")
        .values("day")[:1]
    )
    return list(
        Tenant.objects.filter(created_at__lt=created_before)
        .annotate(last_logged=Subquery(last_logged))
        .filter(Q(last_logged__lt=cutoff) | Q(last_logged__isnull=True))
        .order_by(F("last_logged").desc(nulls_last=True), "slug")[:limit]
    )


# -------------------------------------------------------------------------------------------- system


@dataclass(frozen=True)
class JobsOverview:
    queued: int
    running: int
    stuck: int
    failed_recently: int
    oldest_queued_at: datetime | None
    running_jobs: list[Job]
    failed_jobs: list[Job]
    stale_before: datetime
    failed_days: int = FAILED_JOB_DAYS


def jobs_overview(*, now: datetime | None = None) -> JobsOverview:
    """Running jobs (the stuck ones, past the queue's lease, first), and failed ones of the last week."""
    now = now or timezone.now()
    stale_before = now - job_stale_after()
    week_ago = now - timedelta(days=FAILED_JOB_DAYS)
    Status = Job.Status
    counts = Job.objects.filter(
        Q(status__in=[Status.QUEUED, Status.RUNNING]) | Q(status=Status.FAILED, created_at__gte=week_ago)
    ).aggregate(
        queued=Count("id", filter=Q(status=Status.QUEUED)),
        running=Count("id", filter=Q(status=Status.RUNNING)),
        stuck=Count("id", filter=Q(status=Status.RUNNING, started_at__lt=stale_before)),
        failed=Count("id", filter=Q(status=Status.FAILED)),
        oldest_queued=Min("created_at", filter=Q(status=Status.QUEUED)),
    )
    running = list(
        Job.objects.filter(status=Status.RUNNING)
        .select_related("tenant", "created_by")
        .order_by("started_at", "id")[:JOB_LIST]
    )
    failed = list(
        Job.objects.filter(status=Status.FAILED, created_at__gte=week_ago)
        .select_related("tenant", "created_by")
        .order_by("-created_at", "-id")[:JOB_LIST]
    )
    return JobsOverview(
        queued=counts["queued"],
        running=counts["running"],
        stuck=counts["stuck"],
        failed_recently=counts["failed"],
        oldest_queued_at=counts["oldest_queued"],
        running_jobs=running,
        failed_jobs=failed,
        stale_before=stale_before,
    )


def job_for_staff(*, pk: int) -> Job | None:
    """Any workspace's job (staff operate them all)."""
    return Job.objects.select_related("tenant", "created_by").filter(pk=pk).first()


def webhooks_failed(*, limit: int = JOB_LIST) -> list:
    return billing_staff.stripe_events_failed(limit=limit)


def reconcile_latest() -> tuple[ReconcileRun | None, ReconcileRun | None]:
    """(the newest run, finished or not; the newest finished run)."""
    runs = list(ReconcileRun.objects.select_related("requested_by").order_by("-started_at", "-id")[:5])
    newest = runs[0] if runs else None
    finished = next((run for run in runs if run.is_finished), None)
    if finished is None and newest is not None:
        finished = ReconcileRun.objects.filter(finished_at__isnull=False).order_by("-started_at").first()
    return newest, finished


# ----------------------------------------------------------------------------------------- event log


@dataclass(frozen=True)
class EventFilters:
    kind: str = ""
    tenant: Tenant | None = None
    actor: object | None = None
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    job: Job | None = None


@dataclass(frozen=True)
class EventPage:
    events: list[Event]
    next_cursor: tuple[datetime, int] | None


def event_page(
    *, filters: EventFilters, before: tuple[datetime, int] | None = None, limit: int = EVENT_PAGE
) -> EventPage:
    """Events newest first, `limit` at a time after the (created_at, id) `before`: keyset paging, so a
    page costs the same however deep it is, and nothing counts the whole log."""
    events = Event.objects.select_related("tenant", "actor")
    if filters.kind:
        kind = filters.kind.strip()
        events = events.filter(kind__startswith=kind) if kind.endswith(".") else events.filter(kind=kind)
    if filters.tenant is not None:
        events = events.filter(tenant=filters.tenant)
    if filters.actor is not None:
        events = events.filter(actor=filters.actor)
    if filters.since is not None:
        events = events.filter(created_at__gte=filters.since)
    if filters.until is not None:
        events = events.filter(created_at__lt=filters.until)
    if filters.job is not None:
        events = job_events_queryset(job=filters.job, events=events)
    if before is not None:
        moment, pk = before
        events = events.filter(Q(created_at__lt=moment) | Q(created_at=moment, id__lt=pk))
    rows = list(events.order_by("-created_at", "-id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return EventPage(events=rows, next_cursor=(rows[-1].created_at, rows[-1].pk) if more else None)


def job_events_queryset(*, job: Job, events=None):
    """The events that name this job: in its workspace, from its creation on (the indexed part), with
    `data.job` equal to its id."""
    events = events if events is not None else Event.objects.select_related("actor")
    events = events.filter(created_at__gte=job.created_at - timedelta(seconds=1), data__job=job.pk)
    return events.filter(tenant_id=job.tenant_id) if job.tenant_id else events.filter(tenant__isnull=True)


def job_events(*, job: Job, limit: int = EVENT_PAGE) -> list[Event]:
    return list(job_events_queryset(job=job).order_by("created_at", "id")[:limit])


def event_get(*, pk: int) -> Event | None:
    return Event.objects.select_related("tenant", "actor").filter(pk=pk).first()
