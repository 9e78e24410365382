from django import template
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from apps.worklog import selectors
from apps.worklog.markdown import render_markdown
from apps.worklog.uploads import allowed_types_label

register = template.Library()

RECENT_ENTRIES = 5


@register.filter(name="markdown")
def markdown_filter(text: str):
    """Entry Markdown as sanitised HTML."""
    return render_markdown(text)


@register.filter
def metric(value) -> str:
    """A stored metric without trailing zeros: 12.5000 -> 12.5, 3.0000 -> 3."""
    if value is None:
        return ""
    return format(value.normalize(), "f")


@register.inclusion_tag("worklog/partials/_recent_entries_card.html", takes_context=True)
def worklog_recent_entries(context):
    """The dashboard's card of the latest entries, with a way to log one."""
    request = context["request"]
    tenant = getattr(request, "tenant", None)
    entries = selectors.entry_recent(tenant=tenant, limit=RECENT_ENTRIES) if tenant else []
    return {"entries": entries, "request": request}


@register.simple_tag
def evidence_limits() -> str:
    """What files are accepted, in words: the types and the size limit."""
    return f"{allowed_types_label()}; up to {filesizeformat(settings.EVIDENCE_MAX_BYTES)} each."
