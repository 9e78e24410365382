"""Reads for the dashboard's insight tiles: this and the previous week and month, the weekly streak, the
top skills of the last three months, follow-ups due and entries without an impact statement.

Everything here reads in three queries, and none reads the whole log: one aggregate over the two months the
periods span (a range of the timeline index); one row of bounded probes — for each of the streak's weeks
whether it has an entry (an index probe each), and the totals counted up to `COUNTED_MAX` (an index scan of
at most that many rows: "999+" past it); and the leading skills from the skills' monthly counters
(`SkillMonth`, kept by services/counters.py: a few rows per skill, not the links of every recent entry).
Always scoped by tenant.
"""

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import Count, DateField, Exists, IntegerField, Q, QuerySet, Subquery, Sum
from django.db.models.expressions import RawSQL

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


# On PostgreSQL the streak's weeks are probed inside one expression: a series of week starts, each kept when
# an index probe finds an entry in it. (As 105 ORM `Exists` columns, compiling the query took longer than
# running it: most of the dashboard's time.)
_WEEKS_SQL = """ARRAY(
    SELECT week::date FROM generate_series(%s::date, %s::date, interval '7 days') AS week
    WHERE EXISTS (
        SELECT 1 FROM "worklog_entry" probe
        WHERE probe."tenant_id" = %s AND probe."deleted_at" IS NULL
            AND probe."occurred_on" >= week::date AND probe."occurred_on" < week::date + 7
    )
)"""


def _week_probes(tenant, live: QuerySet, week_starts: list[date]) -> dict:
    """Columns telling which of `week_starts` have an entry: `weeks` (an array of those week starts) on
    PostgreSQL; elsewhere one EXISTS column per week, `week_<n>`."""
    if connection.vendor == "postgresql":
        params = [min(week_starts), max(week_starts), tenant.pk]
        return {"weeks": RawSQL(_WEEKS_SQL, params, ArrayField(DateField()))}  # noqa: S611 - fixed SQL
    return {
        f"week_{n}": Exists(live.filter(occurred_on__gte=start, occurred_on__lte=start + timedelta(days=6)))
        for n, start in enumerate(week_starts)
    }


def _top_skills(tenant, since: date) -> list[tuple[str, int]]:
    """The TOP_SKILLS_SHOWN skills with the most live entries dated from `since` (a month's first day) on,
    most first, ties by name: their monthly counters added up, in one query."""
    rows = (
        SkillMonth.objects.filter(tenant=tenant, month__gte=since)
        .values("skill_id", "skill__name")
        .annotate(n=Sum("entry_count"))
        .filter(n__gt=0)
        .order_by("-n", "skill__name", "skill_id")
        .values_list("skill__name", "n")
    )
    return list(rows[:TOP_SKILLS_SHOWN])


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
    live = Entry.objects.for_tenant(tenant).filter(deleted_at__isnull=True)
    spans = list(periods.values())
    counts = live.filter(
        occurred_on__gte=min(since for since, _ in spans), occurred_on__lte=max(until for _, until in spans)
    ).aggregate(**{name: Count("id", filter=Q(occurred_on__range=span)) for name, span in periods.items()})

    oldest_week = week_start - timedelta(weeks=STREAK_WEEKS_MAX)
    week_starts = [week_start - timedelta(weeks=n) for n in range(STREAK_WEEKS_MAX + 1)]
    probes = (
        Tenant.objects.filter(pk=tenant.pk)
        .values(
            total=CountUpTo(live, COUNTED_MAX),
            follow_ups_due=CountUpTo(
                live.filter(outcome_pending=True, follow_up_on__lte=today).order_by(), COUNTED_MAX
            ),
            without_impact=CountUpTo(live.filter(impact=""), COUNTED_MAX),
            **_week_probes(tenant, live, week_starts),
        )
        .first()
    ) or {}
    if "weeks" in probes:
        weeks = {_as_date(day) for day in probes["weeks"] or []}
    else:
        weeks = {start for n, start in enumerate(week_starts) if probes.get(f"week_{n}")}
    has_this_week = week_start in weeks
    cursor_week = week_start if has_this_week else last_week_start
    streak = 0
    while cursor_week in weeks:
        streak += 1
        cursor_week -= timedelta(weeks=1)

    skills_since = month_start
    for _ in range(TOP_SKILLS_MONTHS - 1):
        skills_since = month_start_of(skills_since - timedelta(days=1))
    top_skills = _top_skills(tenant, skills_since)

    def bounded(name: str) -> tuple[int, bool]:
        number = probes.get(name) or 0
        return min(number, COUNTED_MAX), number > COUNTED_MAX

    total, total_more = bounded("total")
    follow_ups_due, follow_ups_due_more = bounded("follow_ups_due")
    without_impact, without_impact_more = bounded("without_impact")
    return Insights(
        total=total,
        total_more=total_more,
        **{name: PeriodCount(*span, counts[name]) for name, span in periods.items()},
        streak_weeks=streak,
        streak_since=cursor_week + timedelta(weeks=1) if streak else None,
        streak_has_this_week=has_this_week,
        streak_capped=cursor_week < oldest_week,
        top_skills=top_skills,
        top_skills_since=skills_since,
        follow_ups_due=follow_ups_due,
        follow_ups_due_more=follow_ups_due_more,
        without_impact=without_impact,
        without_impact_more=without_impact_more,
    )
