"""Reads for the dashboard's insight tiles: this and the previous week and month, the weekly streak, the
top skills of the last three months, follow-ups due and entries without an impact statement.

None of it reads the whole log: an aggregate over the two months the periods span (a range of the timeline
index); bounded probes — for each of the streak's weeks whether it has an entry (an index probe each), and
the totals counted up to `COUNTED_MAX` (an index scan of at most that many rows: "999+" past it); and the
leading skills from the skills' monthly counters (`SkillMonth`, kept by services/counters.py: a few rows
per skill, not the links of every recent entry). One statement on PostgreSQL, three queries elsewhere.
Always scoped by tenant.
"""

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Count, Exists, IntegerField, Q, QuerySet, Subquery, Sum

from apps.accounts.models import Tenant
from apps.worklog.models import Entry, SkillMonth

STREAK_WEEKS_MAX = 104
TOP_SKILLS_MONTHS = 3  # this month and the two before
TOP_SKILLS_SHOWN = 5
COUNTED_MAX = 999  # the tiles say "999+" past this


class CountUpTo(Subquery):
    """`(SELECT COUNT(*) FROM (<queryset> LIMIT bound + 1))`: how many rows, reading at most bound + 1.
    The queryset's order is kept: entries in (occurred_on, id) order are read from a partial index of live
    entries alone (index-only); pass `.order_by()` where another index fits better."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) counted)"
    output_field = IntegerField()

    def __init__(self, queryset: QuerySet, bound: int):
        super().__init__(queryset.values("pk")[: bound + 1])


@dataclass(frozen=True)
class PeriodCount:
    since: date
    until: date
    count: int


@dataclass(frozen=True)
class Insights:
    total: int  # counted up to COUNTED_MAX (then `total_more`), like the two below
    this_week: PeriodCount
    last_week: PeriodCount
    this_month: PeriodCount
    last_month: PeriodCount
    streak_weeks: int
    streak_since: date | None
    streak_has_this_week: bool
    streak_capped: bool
    top_skills: list[tuple[str, int]]
    top_skills_since: date
    follow_ups_due: int
    without_impact: int
    total_more: bool = False
    follow_ups_due_more: bool = False
    without_impact_more: bool = False


def week_start_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def month_start_of(day: date) -> date:
    return day.replace(day=1)


def month_end_of(day: date) -> date:
    return day.replace(day=monthrange(day.year, day.month)[1])


@dataclass(frozen=True)
class _Figures:
    periods: dict[str, int]  # entries in each period
    bounded: dict[str, int]  # total, follow_ups_due, without_impact: counted up to COUNTED_MAX + 1
    weeks: set[date]  # the week starts (of those probed) that have an entry
    top_skills: list[tuple[str, int]]


# PostgreSQL: every figure in one statement (as ORM queries, building and compiling them took longer than
# running them). The streak's weeks are a series of week starts, each kept when an index probe finds an
# entry in it; the workspace is compared as a bigint, the column's type, so every probe is an index range.
_FIGURES_SQL = """
SELECT
    (SELECT json_build_object(
        'this_week', COUNT(*) FILTER (WHERE e.occurred_on BETWEEN %(this_week_0)s AND %(this_week_1)s),
        'last_week', COUNT(*) FILTER (WHERE e.occurred_on BETWEEN %(last_week_0)s AND %(last_week_1)s),
        'this_month', COUNT(*) FILTER (WHERE e.occurred_on BETWEEN %(this_month_0)s AND %(this_month_1)s),
        'last_month', COUNT(*) FILTER (WHERE e.occurred_on BETWEEN %(last_month_0)s AND %(last_month_1)s))
     FROM worklog_entry e
     WHERE e.tenant_id = %(tenant)s::bigint AND e.deleted_at IS NULL
       AND e.occurred_on BETWEEN %(periods_from)s AND %(periods_to)s),
    (SELECT COUNT(*) FROM (
        SELECT 1 FROM worklog_entry e WHERE e.tenant_id = %(tenant)s::bigint AND e.deleted_at IS NULL
        ORDER BY e.occurred_on DESC, e.id DESC LIMIT %(bound)s) counted),
    (SELECT COUNT(*) FROM (
        SELECT 1 FROM worklog_entry e
        WHERE e.tenant_id = %(tenant)s::bigint AND e.deleted_at IS NULL AND e.outcome_pending
          AND e.follow_up_on <= %(today)s
        LIMIT %(bound)s) counted),
    (SELECT COUNT(*) FROM (
        SELECT 1 FROM worklog_entry e
        WHERE e.tenant_id = %(tenant)s::bigint AND e.deleted_at IS NULL AND e.impact = ''
        ORDER BY e.occurred_on DESC, e.id DESC LIMIT %(bound)s) counted),
    ARRAY(
        SELECT week::date
        FROM generate_series(%(weeks_from)s::date, %(weeks_to)s::date, interval '7 days') week
        WHERE EXISTS (
            SELECT 1 FROM worklog_entry probe
            WHERE probe.tenant_id = %(tenant)s::bigint AND probe.deleted_at IS NULL
              AND probe.occurred_on >= week::date AND probe.occurred_on < week::date + 7)),
    (SELECT COALESCE(json_agg(json_build_array(top.name, top.n) ORDER BY top.n DESC, top.name, top.id), '[]')
     FROM (
        SELECT s.id, s.name, SUM(m.entry_count) AS n
        FROM worklog_skillmonth m JOIN worklog_skill s ON s.id = m.skill_id
        WHERE m.tenant_id = %(tenant)s::bigint AND m.month >= %(skills_since)s
        GROUP BY s.id, s.name HAVING SUM(m.entry_count) > 0
        ORDER BY n DESC, s.name, s.id LIMIT %(shown)s) top)
"""


def _figures_in_one_statement(tenant, *, periods, week_starts, today, skills_since) -> _Figures:
    spans = list(periods.values())
    params = {
        "tenant": tenant.pk,
        "periods_from": min(since for since, _ in spans),
        "periods_to": max(until for _, until in spans),
        "bound": COUNTED_MAX + 1,
        "today": today,
        "weeks_from": min(week_starts),
        "weeks_to": max(week_starts),
        "skills_since": skills_since,
        "shown": TOP_SKILLS_SHOWN,
    }
    for name, (since, until) in periods.items():
        params[f"{name}_0"], params[f"{name}_1"] = since, until
    with connection.cursor() as cursor:
        cursor.execute(_FIGURES_SQL, params)
        period_counts, total, follow_ups_due, without_impact, weeks, top_skills = cursor.fetchone()
    return _Figures(
        periods=period_counts,
        bounded={"total": total, "follow_ups_due": follow_ups_due, "without_impact": without_impact},
        weeks={_as_date(day) for day in weeks},
        top_skills=[(name, int(n)) for name, n in top_skills],
    )


def _figures_in_queries(tenant, *, periods, week_starts, today, skills_since) -> _Figures:
    """The same figures through the ORM, in three queries: elsewhere than on PostgreSQL."""
    live = Entry.objects.for_tenant(tenant).filter(deleted_at__isnull=True)
    spans = list(periods.values())
    counts = live.filter(
        occurred_on__gte=min(since for since, _ in spans), occurred_on__lte=max(until for _, until in spans)
    ).aggregate(**{name: Count("id", filter=Q(occurred_on__range=span)) for name, span in periods.items()})
    weeks = {
        f"week_{n}": Exists(live.filter(occurred_on__gte=start, occurred_on__lte=start + timedelta(days=6)))
        for n, start in enumerate(week_starts)
    }
    probes = (
        Tenant.objects.filter(pk=tenant.pk)
        .values(
            total=CountUpTo(live, COUNTED_MAX),
            follow_ups_due=CountUpTo(
                live.filter(outcome_pending=True, follow_up_on__lte=today).order_by(), COUNTED_MAX
            ),
            without_impact=CountUpTo(live.filter(impact=""), COUNTED_MAX),
            **weeks,
        )
        .first()
    ) or {}
    top_skills = (
        SkillMonth.objects.filter(tenant=tenant, month__gte=skills_since)
        .values("skill_id", "skill__name")
        .annotate(n=Sum("entry_count"))
        .filter(n__gt=0)
        .order_by("-n", "skill__name", "skill_id")
        .values_list("skill__name", "n")
    )
    return _Figures(
        periods=counts,
        bounded={name: probes.get(name) or 0 for name in ("total", "follow_ups_due", "without_impact")},
        weeks={start for n, start in enumerate(week_starts) if probes.get(f"week_{n}")},
        top_skills=list(top_skills[:TOP_SKILLS_SHOWN]),
    )


def _as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def dashboard_insights(*, tenant, today: date) -> Insights:
    """Counts for this and the previous week and month, the weekly streak, the top skills of this month and
    the two before, follow-ups due and entries without an impact statement. `today` is the person's own date.

    The streak counts calendar weeks (Monday to Sunday) in a row with at least one entry, ending with this
    week, or with last week while this week has none yet (it can still be kept). It looks back at most
    `STREAK_WEEKS_MAX` weeks, so its cost does not grow with the log.
    """
    week_start = week_start_of(today)
    last_week_start = week_start - timedelta(weeks=1)
    month_start = month_start_of(today)
    last_month_start = month_start_of(month_start - timedelta(days=1))
    periods = {
        "this_week": (week_start, week_start + timedelta(days=6)),
        "last_week": (last_week_start, week_start - timedelta(days=1)),
        "this_month": (month_start, month_end_of(today)),
        "last_month": (last_month_start, month_start - timedelta(days=1)),
    }
    oldest_week = week_start - timedelta(weeks=STREAK_WEEKS_MAX)
    week_starts = [week_start - timedelta(weeks=n) for n in range(STREAK_WEEKS_MAX + 1)]
    skills_since = month_start
    for _ in range(TOP_SKILLS_MONTHS - 1):
        skills_since = month_start_of(skills_since - timedelta(days=1))
    read = _figures_in_one_statement if connection.vendor == "postgresql" else _figures_in_queries
    figures = read(tenant, periods=periods, week_starts=week_starts, today=today, skills_since=skills_since)

    weeks = figures.weeks
    has_this_week = week_start in weeks
    cursor_week = week_start if has_this_week else last_week_start
    streak = 0
    while cursor_week in weeks:
        streak += 1
        cursor_week -= timedelta(weeks=1)

    def bounded(name: str) -> tuple[int, bool]:
        number = figures.bounded[name]
        return min(number, COUNTED_MAX), number > COUNTED_MAX

    total, total_more = bounded("total")
    follow_ups_due, follow_ups_due_more = bounded("follow_ups_due")
    without_impact, without_impact_more = bounded("without_impact")
    return Insights(
        total=total,
        total_more=total_more,
        **{name: PeriodCount(*span, figures.periods[name]) for name, span in periods.items()},
        streak_weeks=streak,
        streak_since=cursor_week + timedelta(weeks=1) if streak else None,
        streak_has_this_week=has_this_week,
        streak_capped=cursor_week < oldest_week,
        top_skills=figures.top_skills,
        top_skills_since=skills_since,
        follow_ups_due=follow_ups_due,
        follow_ups_due_more=follow_ups_due_more,
        without_impact=without_impact,
        without_impact_more=without_impact_more,
    )
