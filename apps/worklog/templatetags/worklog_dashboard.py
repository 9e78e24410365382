"""Work-log cards for the dashboard. The dashboard view lives in accounts, which must not import worklog,
so the cards load their own data through these tags."""

from datetime import date
from urllib.parse import urlencode

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from apps.worklog.followups import FOLLOW_UPS_SHOWN, entry_follow_up_list
from apps.worklog.insights import dashboard_insights

register = template.Library()

# The entry page where the result is added: the edit form, or the entry itself where there is no form.
ENTRY_URL_NAMES = ("worklog_entry_edit", "worklog_entry_detail")


def _entry_url(pk: int) -> str:
    for name in ENTRY_URL_NAMES:
        try:
            return reverse(name, kwargs={"pk": pk})
        except NoReverseMatch:
            continue
    return ""


@register.inclusion_tag("worklog/partials/_follow_ups.html", takes_context=True)
def follow_ups(context):
    """Entries whose result is due today or earlier, in the person's time zone (set by TenantMiddleware)."""
    request = context.get("request")
    tenant = getattr(request, "tenant", None)
    today = timezone.localdate()
    entries = list(entry_follow_up_list(tenant=tenant, today=today)[: FOLLOW_UPS_SHOWN + 1])
    more = len(entries) > FOLLOW_UPS_SHOWN
    entries = entries[:FOLLOW_UPS_SHOWN]
    rows = [
        {"entry": entry, "url": _entry_url(entry.pk), "overdue_days": (today - entry.follow_up_on).days}
        for entry in entries
    ]
    return {"rows": rows, "more": more, "today": today}


def _timeline_url(**filters) -> str:
    query = urlencode({name: value.isoformat() if isinstance(value, date) else value
                       for name, value in filters.items() if value})  # fmt: skip
    return reverse("worklog_timeline") + (f"?{query}" if query else "")


def _change(current: int, previous: int) -> dict:
    difference = current - previous
    return {
        "difference": difference,
        "magnitude": abs(difference),
        "direction": "up" if difference > 0 else "down" if difference < 0 else "same",
    }


@register.simple_tag(takes_context=True)
def worklog_insights(context) -> dict:
    """The dashboard's insight tiles, each with the link to the timeline filtered to what it counts."""
    request = context.get("request")
    tenant = getattr(request, "tenant", None)
    if tenant is None:
        return {"total": 0}
    today = timezone.localdate()
    insights = dashboard_insights(tenant=tenant, today=today)
    periods = []
    for key, label, icon, previous_label in (
        ("this_week", "This week", "bi-calendar-week", "last week"),
        ("this_month", "This month", "bi-calendar3", "last month"),
    ):
        current, before = getattr(insights, key), getattr(insights, key.replace("this_", "last_"))
        periods.append(
            {
                "key": key.replace("_", "-"),
                "label": label,
                "icon": icon,
                "count": current.count,
                "url": _timeline_url(since=current.since, until=current.until),
                "previous": before.count,
                "previous_label": previous_label,
                "change": _change(current.count, before.count),
            }
        )
    return {
        "total": insights.total,
        "periods": periods,
        "streak": {
            "weeks": insights.streak_weeks,
            "capped": insights.streak_capped,
            "has_this_week": insights.streak_has_this_week,
            "url": _timeline_url(since=insights.streak_since) if insights.streak_since else "",
        },
        "follow_ups_due": {
            "count": insights.follow_ups_due,
            "more": insights.follow_ups_due_more,
            "url": _timeline_url(needs="result"),
        },
        "without_impact": {
            "count": insights.without_impact,
            "more": insights.without_impact_more,
            "url": _timeline_url(needs="impact"),
        },
        "top_skills": [
            {"name": name, "count": count, "url": _timeline_url(skill=name, since=insights.top_skills_since)}
            for name, count in insights.top_skills
        ],
        "top_skills_since": insights.top_skills_since,
    }
