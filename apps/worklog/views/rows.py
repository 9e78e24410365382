"""What the timeline's templates show for each row, worked out once per row in Python.

A timeline page used to spend half its time in the template: four `|date` filters, two `skills.all` and a
`{% url %}` per entry, and lookups of attributes a timeline entry does not have (`title_html`, `ranked`),
each of which makes the template engine call `dir()` on the entry. Here every row is a plain dict holding
every key the template reads, so each lookup is one dict access; date labels are computed once per day
(and language) for the process, and the entry URL is reversed once per page. The HTML is unchanged
(tests/worklog/test_timeline_render.py compares it with the output of the old template).

The entry's `<li>` itself is written here too (`entry_row_html`), not by an included template: thirty
includes of a thirty-node template were two thirds of a timeline page's time (issue 10). Every value goes
through `conditional_escape`, as the template's autoescaping did; the search's highlighted title and snippet
arrive as safe strings and pass through as they did there.
"""

from datetime import date
from functools import lru_cache

from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
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
    """Everything an entry's row shows (entry_row_html writes it)."""
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


def _chips(names: list[str], css: str, prefix: str = "") -> str:
    return "".join(f'<span class="{css}">{prefix}{conditional_escape(name)}</span>' for name in names)


def entry_row_html(item: dict, *, ranked: bool) -> SafeString:
    """One entry of the timeline or of search results, as its list item."""
    e = conditional_escape
    html = [
        f'<li class="ar-tl-entry" id="entry-{item["id"]}">\n'
        f'<a class="ar-tl-card" href="{e(item["url"])}">\n'
        f'<span class="ar-tl-date" aria-hidden="true"><span class="ar-tl-dow">{e(item["dow"])}</span>'
        f'<span class="ar-tl-day">{e(item["day"])}</span>'
    ]
    if ranked:
        html.append(f'<span class="ar-tl-dow">{e(item["month_year"])}</span>')
    html.append(
        "</span>\n"
        '<span class="ar-tl-body">\n'
        f'<span class="ar-tl-title">{e(item["title_html"] or item["title"])}</span>\n'
        '<span class="ar-tl-meta">\n'
        f'<time class="visually-hidden" datetime="{e(item["iso"])}">{e(item["date_label"])}</time>\n'
    )
    if item["employer"]:
        html.append(f'<span><i class="bi bi-building" aria-hidden="true"></i>{e(item["employer"])}</span>\n')
    if item["project"]:
        html.append(f'<span><i class="bi bi-kanban" aria-hidden="true"></i>{e(item["project"])}</span>\n')
    if item["evidence_count"]:
        html.append(
            f'<span title="Evidence"><i class="bi bi-paperclip" aria-hidden="true"></i>'
            f'{item["evidence_count"]}<span class="visually-hidden"> pieces of evidence</span></span>\n'
        )
    if item["confidential"]:
        html.append(
            '<span class="ar-badge ar-badge-warning"><i class="bi bi-lock" aria-hidden="true"></i>'
            "Confidential</span>\n"
        )
    if item["outcome_pending"]:
        html.append(
            '<span class="ar-badge ar-badge-info"><i class="bi bi-hourglass-split" aria-hidden="true">'
            f"</i>Result due {e(item['follow_up_label'])}</span>\n"
        )
    html.append("</span>\n")
    if item["snippet_html"]:
        html.append(f'<span class="ar-tl-text">{e(item["snippet_html"])}</span>\n')
    elif item["impact"]:
        html.append(
            '<span class="ar-tl-text"><i class="bi bi-graph-up-arrow" aria-hidden="true"></i> '
            f"{e(item['impact'])}</span>\n"
        )
    elif item["body"]:
        html.append(f'<span class="ar-tl-text">{e(item["body"])}</span>\n')
    if item["skills"] or item["tags"]:
        html.append(
            '<span class="ar-chips">\n'
            f"{_chips(item['skills'], 'ar-chip')}\n"
            f"{_chips(item['tags'], 'ar-chip ar-chip-tag', '#')}\n"
            "</span>\n"
        )
    html.append("</span>\n</a>\n</li>\n")
    return mark_safe("".join(html))  # noqa: S308 - every value above is escaped


def timeline_items(rows: list[dict]) -> list[dict]:
    """The timeline's rows (selectors.timeline_rows) with their labels and each entry's item and HTML."""
    urls, language = EntryUrls(), get_language()
    for row in rows:
        if row["kind"] == "entry":
            row["item"] = entry_item(row["entry"], urls=urls, language=language)
            row["html"] = entry_row_html(row["item"], ranked=False)
        else:
            fmt = "F Y" if row["kind"] == "month" else "M j"
            row["label"] = _heading_label(row["date"], fmt, language)
            row["plural"] = pluralize(row["count"], "y,ies")
    return rows


def ranked_items(entries: list[EntryRow]) -> list[dict]:
    """Search results as rows: one item per entry, best first."""
    urls, language = EntryUrls(), get_language()
    rows = []
    for entry in entries:
        item = entry_item(entry, urls=urls, language=language)
        rows.append({"kind": "entry", "item": item, "html": entry_row_html(item, ranked=True)})
    return rows
