"""Reads for the dashboard's insight tiles: this and the previous week and month, the weekly streak, the
top skills of the last 90 days, follow-ups due and entries without an impact statement.

Everything here reads in a fixed number of queries, whatever the size of the log: one aggregate for the
counts, one for the weeks of the streak, one for the top skills. Always scoped by tenant.
"""

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncWeek

from apps.worklog.models import Entry, Skill

STREAK_WEEKS_MAX = 104
TOP_SKILLS_DAYS = 90
TOP_SKILLS_SHOWN = 5


@dataclass(frozen=True)
class PeriodCount:
    since: date
    until: date
    count: int


@dataclass(frozen=True)
class Insights:
    total: int
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


def week_start_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def month_start_of(day: date) -> date:
    return day.replace(day=1)


def month_end_of(day: date) -> date:
    return day.replace(day=monthrange(day.year, day.month)[1])


def as_date(value) -> date:
    """TruncWeek gives a date on PostgreSQL and may give a datetime elsewhere."""
    return value.date() if hasattr(value, "date") and callable(value.date) else value


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
    counts = live.aggregate(
        total=Count("id"),
        follow_ups_due=Count("id", filter=Q(outcome_pending=True, follow_up_on__lte=today)),
        without_impact=Count("id", filter=Q(impact="")),
        **{name: Count("id", filter=Q(occurred_on__range=span)) for name, span in periods.items()},
    )

    oldest_week = week_start - timedelta(weeks=STREAK_WEEKS_MAX)
    weeks = {
        as_date(row["week"])
        for row in live.filter(occurred_on__gte=oldest_week, occurred_on__lte=periods["this_week"][1])
        .annotate(week=TruncWeek("occurred_on"))
        .order_by()
        .values("week")
        .distinct()
    }
    has_this_week = week_start in weeks
    cursor_week = week_start if has_this_week else last_week_start
    streak = 0
    while cursor_week in weeks:
        streak += 1
        cursor_week -= timedelta(weeks=1)

    skills_since = today - timedelta(days=TOP_SKILLS_DAYS - 1)
    recent = Q(
        entries__deleted_at__isnull=True,
        entries__occurred_on__gte=skills_since,
        entries__occurred_on__lte=today,
    )
    top_skills = list(
        Skill.objects.for_tenant(tenant)
        .annotate(n=Count("entries", filter=recent, distinct=True))
        .filter(n__gt=0)
        .order_by("-n", "name")
        .values_list("name", "n")[:TOP_SKILLS_SHOWN]
    )
    return Insights(
        total=counts["total"],
        **{name: PeriodCount(*span, counts[name]) for name, span in periods.items()},
        streak_weeks=streak,
        streak_since=cursor_week + timedelta(weeks=1) if streak else None,
        streak_has_this_week=has_this_week,
        streak_capped=cursor_week < oldest_week,
        top_skills=top_skills,
        top_skills_since=skills_since,
        follow_ups_due=counts["follow_ups_due"],
        without_impact=counts["without_impact"],
    )
