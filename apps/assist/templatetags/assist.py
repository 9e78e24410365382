"""Template tags that put AI help on the entry page: the assist panel and the entry's text history.

The entry page (worklog's view) knows nothing of assist; its template asks for these with
`{% load assist %}{% assist_entry_panel entry %}{% entry_versions entry %}`.
"""

from django import template

from apps.assist.review import diff_html, metric_text
from apps.worklog.versions import FIELD_LABELS, entry_text, entry_version_list, text_changed, value_text

register = template.Library()

SOURCE_PHRASES = {"edit": "Replaced by an edit", "restore": "Replaced by a restore"}


@register.inclusion_tag("assist/partials/_entry_assist.html", takes_context=True)
def assist_entry_panel(context, entry):
    from apps.assist.views import panel_context

    request = context["request"]
    return {**panel_context(request, entry), "request": request, "csrf_token": context.get("csrf_token")}


def _as_texts(values: dict) -> dict[str, str]:
    return {name: value_text(value) for name, value in values.items()}


def version_changes(old: dict, new: dict) -> list[dict]:
    """Field-by-field differences between two text snapshots, metrics as one measurable result."""
    old_text, new_text = _as_texts(old), _as_texts(new)
    changed = text_changed(old, new)
    rows = []
    for name in ("title", "body", "impact"):
        if name in changed:
            before, after = diff_html(old_text[name], new_text[name], [])
            rows.append({"label": FIELD_LABELS[name], "then": before, "now": after})
    if any(name.startswith("metric_") for name in changed):
        before, after = diff_html(metric_text(old_text), metric_text(new_text), [])
        rows.append({"label": "Measurable result", "then": before, "now": after})
    return rows


@register.inclusion_tag("assist/partials/_versions.html", takes_context=True)
def entry_versions(context, entry):
    current = entry_text(entry)
    versions = []
    for version in entry_version_list(tenant=entry.tenant, entry=entry)[:50]:
        if version.source == "suggestion":
            phrase = f"Replaced by accepted suggestion #{version.suggestion_id}"
        else:
            phrase = SOURCE_PHRASES.get(version.source, "Replaced")
        versions.append(
            {
                "version": version,
                "phrase": phrase,
                "changes": version_changes(entry_text(version), current),
            }
        )
    return {
        "entry": entry,
        "versions": versions,
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
    }
