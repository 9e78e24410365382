"""Work-log cards for the dashboard. The dashboard view lives in accounts, which must not import worklog,
so the cards load their own data through these tags."""

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from apps.worklog.followups import FOLLOW_UPS_SHOWN, entry_follow_up_list

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
