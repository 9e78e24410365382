"""Reads for the dashboard's insight tiles: this and the previous week and month, the weekly streak, the
top skills of the last 90 days, follow-ups due and entries without an impact statement.

Everything here reads in four queries, and none reads the whole log: one aggregate over the two months the
periods span (a range of the timeline index); one row of bounded probes — for each of the streak's weeks
whether it has an entry (an index probe each), and the totals counted up to `COUNTED_MAX` (an index scan of
at most that many rows: "999+" past it); one aggregate of the skills of the last 90 days' entries, and one
for the names of the leading skills. Always scoped by tenant.
"""

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import BooleanField, Count, DateField, Exists, IntegerField, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL

from apps.accounts.models import Tenant
from apps.worklog.models import Entry, Skill

STREAK_WEEKS_MAX = 104
TOP_SKILLS_DAYS = 90
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


def _links_of(entries: QuerySet) -> QuerySet:
    """The entry-skill links of `entries` (a `values("pk")` queryset). On PostgreSQL as
    `entry_id = ANY(ARRAY(<entries>))`: one probe of the link table's entry index per entry, where a join or
    `IN (SELECT ...)` is planned as a scan of every workspace's links (issue 10: 100 ms at 100k entries)."""
    links = Entry.skills.through.objects.all()
    if connection.vendor != "postgresql":
        return links.filter(entry_id__in=entries)
    sql, params = entries.query.sql_with_params()
    where = f'"worklog_entry_skills"."entry_id" = ANY(ARRAY({sql}))'
    condition = RawSQL(where, params, BooleanField())  # noqa: S611 - the ORM's own SQL and parameters
    return links.filter(condition)


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


def _top_skills(links: QuerySet) -> list[tuple[str, int]]:
    """The TOP_SKILLS_SHOWN skills with the most of `links`, most first, ties by name: counted per skill id
    alone (a hash aggregate, where grouping by name too sorted every link), then named."""
    counts = dict(
        links.order_by().values("skill_id").annotate(n=Count("entry_id")).values_list("skill_id", "n")
    )
    if not counts:
        return []
    cut = sorted(counts.values(), reverse=True)[:TOP_SKILLS_SHOWN][-1]
    named = Skill.objects.filter(pk__in=[pk for pk, n in counts.items() if n >= cut]).order_by("name", "pk")
    ranked = sorted(
        enumerate(named.values_list("pk", "name")), key=lambda item: (-counts[item[1][0]], item[0])
    )
    return [(name, counts[pk]) for _position, (pk, name) in ranked[:TOP_SKILLS_SHOWN]]


def _as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def dashboard_insights(*, tenant, today: date) -> Insights:
    """Counts for this and the previous week and month, the weekly streak, the top skills of the last 90
    days, follow-ups due and entries without an impact statement. `today` is the person's own date.

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

    skills_since = today - timedelta(days=TOP_SKILLS_DAYS - 1)
    recent = live.filter(occurred_on__gte=skills_since, occurred_on__lte=today).order_by().values("pk")
    top_skills = _top_skills(_links_of(recent))

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
