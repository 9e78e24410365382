"""What the timeline's templates show for each row, worked out once per row in Python.

A timeline page used to spend half its time in the template: four `|date` filters, two `skills.all` and a
`{% url %}` per entry, and lookups of attributes a timeline entry does not have (`title_html`, `ranked`),
each of which makes the template engine call `dir()` on the entry. Here every row is a plain dict holding
every key the template reads, so each lookup is one dict access; date labels are computed once per day
(and language) for the process, and the entry URL is reversed once per page. The HTML is unchanged
(tests/worklog/test_timeline_render.py compares it with the output of the old template).
"""

from datetime import date
from functools import lru_cache

from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.text import Truncator
from django.utils.translation import get_language

from apps.worklog.selectors import EntryRow

TEXT_SHOWN = 220  # characters of the impact or details shown under the title
_SENTINEL = 987654321987


@lru_cache(maxsize=16384)
def _day_labels(day: date, language: str | None) -> dict[str, str]:
    return {
        "dow": date_filter(day, "D"),
        "day": date_filter(day, "j"),
        "month_year": date_filter(day, "M Y"),
        "iso": date_filter(day, "Y-m-d"),
        "date_label": date_filter(day),
    }


@lru_cache(maxsize=4096)
def _heading_label(day: date, fmt: str, language: str | None) -> str:
    return date_filter(day, fmt)


class EntryUrls:
    """The detail URL of any entry from one `reverse` (the URL with a placeholder id, split around it)."""

    def __init__(self) -> None:
        self.prefix, self.suffix = reverse("worklog_entry_detail", args=[_SENTINEL]).split(str(_SENTINEL))

    def __call__(self, pk: int) -> str:
        return f"{self.prefix}{pk}{self.suffix}"


def entry_item(entry: EntryRow, *, urls: EntryUrls, language: str | None) -> dict:
    """Everything `worklog/partials/_entry_row.html` shows for one entry."""
    snippet = getattr(entry, "snippet_html", "") or ""
    impact = Truncator(entry.impact).chars(TEXT_SHOWN) if entry.impact and not snippet else ""
    body = Truncator(entry.body).chars(TEXT_SHOWN) if entry.body and not snippet and not impact else ""
    return {
        "id": entry.pk,
        "url": urls(entry.pk),
        **_day_labels(entry.occurred_on, language),
        "title": entry.title,
        "title_html": getattr(entry, "title_html", "") or "",
        "employer": entry.employer_name,
        "project": entry.project_name,
        "evidence_count": entry.evidence_count,
        "confidential": entry.confidential,
        "outcome_pending": entry.outcome_pending,
        "follow_up_label": date_filter(entry.follow_up_on) if entry.outcome_pending else "",
        "snippet_html": snippet,
        "impact": impact,
        "body": body,
        "skills": entry.skill_names,
        "tags": entry.tag_names,
    }


def timeline_items(rows: list[dict]) -> list[dict]:
    """The timeline's rows (selectors.timeline_rows) with their labels and each entry's item."""
    urls, language = EntryUrls(), get_language()
    for row in rows:
        if row["kind"] == "entry":
            row["item"] = entry_item(row["entry"], urls=urls, language=language)
        else:
            fmt = "F Y" if row["kind"] == "month" else "M j"
            row["label"] = _heading_label(row["date"], fmt, language)
            row["plural"] = pluralize(row["count"], "y,ies")
    return rows


def ranked_items(entries: list[EntryRow]) -> list[dict]:
    """Search results as rows: one item per entry, best first."""
    urls, language = EntryUrls(), get_language()
    return [{"kind": "entry", "item": entry_item(entry, urls=urls, language=language)} for entry in entries]
