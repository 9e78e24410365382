"""A report as Markdown and as HTML fragments (citations, hover cards, flagged claims).

Two audiences: the owner's pages show citations as links to the entries, with the entry's title and date
on hover; anything that leaves the workspace (exports, the share link) shows them as plain markers
("[E12]") and links to nothing.
"""

from collections.abc import Callable
from datetime import date

from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from apps.llm.claims import flag_spans
from apps.reporting import kinds
from apps.reporting.citations import REASON_NOT_IN_SOURCES
from apps.reporting.sources import date_words


def entry_url(entry_id: int) -> str:
    return reverse("worklog_entry_detail", args=[entry_id])


def enabled_sections(sections: list[dict]) -> list[dict]:
    return [section for section in sections if section.get("enabled", True)]


def period_words(since: date | None, until: date | None) -> str:
    if since and until:
        return f"{date_words(since)} to {date_words(until)}"
    if since:
        return f"since {date_words(since)}"
    if until:
        return f"up to {date_words(until)}"
    return "all dates"


def markers(citations: list[int], *, link: Callable[[int], str] | None = None) -> str:
    if link is None:
        return " ".join(f"[E{pk}]" for pk in citations)
    return " ".join(f"[E{pk}]({link(pk)})" for pk in citations)


def _md_escape(text: str) -> str:
    # Keep what the person wrote, but never let a line turn into a heading or a list by accident.
    return text.replace("\n", " ").lstrip("#>").strip()


def report_markdown(
    *,
    title: str,
    subtitle: str,
    sections: list[dict],
    link: Callable[[int], str] | None = None,
    appendix: list[tuple[str, list[str]]] | None = None,
    sources: dict[int, dict] | None = None,
) -> str:
    """The report as Markdown: a heading per enabled section, a bullet per line with its citations."""
    lines = [f"# {_md_escape(title)}", ""]
    if subtitle:
        lines += [f"_{subtitle}_", ""]
    for section in enabled_sections(sections):
        if not section.get("bullets"):
            continue
        lines += [f"## {_md_escape(section['title'])}", ""]
        for item in section["bullets"]:
            cite = markers(item.get("citations") or [], link=link)
            lines.append(f"- {_md_escape(item['text'])}{' ' + cite if cite else ''}")
        lines.append("")
    for heading, items in appendix or []:
        if items:
            lines += [f"## {heading}", "", *(f"- {_md_escape(item)}" for item in items), ""]
    if sources:
        lines += ["## Sources", ""]
        for pk in sorted(sources):
            row = sources[pk]
            lines.append(f"- [E{pk}] {_md_escape(row['title'])} ({row['occurred_on'].isoformat()})")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def subtitle_for(report) -> str:
    filters = report.filters or {}
    since = date.fromisoformat(filters["since"]) if filters.get("since") else None
    until = date.fromisoformat(filters["until"]) if filters.get("until") else None
    parts = [kinds.report_label(report.kind, report.variant), period_words(since, until)]
    if report.drafted_without_ai:
        parts.append("Drafted without AI")
    return " · ".join(parts)


# ------------------------------------------------------------------------ HTML


def bullet_html(item: dict, *, facts: dict[int, dict], links: bool = True, anchor: str = "b") -> SafeString:
    """The bullet's text with flagged claims highlighted, followed by its citations.

    With `links`, a citation is a link to the entry with a hover card (title and date); without, a plain
    marker. Ids not in `facts` are never links.
    """
    text = item["text"]
    claim_flags = [flag for flag in item.get("flags", []) if flag.get("reason") == REASON_NOT_IN_SOURCES]
    pieces: list[str] = []
    position = 0
    for start, end in flag_spans(text, claim_flags) if links else []:
        pieces.append(escape(text[position:start]))
        pieces.append(
            format_html('<mark class="ar-claim" title="Not in the cited entries">{}</mark>', text[start:end])
        )
        position = end
    pieces.append(escape(text[position:]))
    cites: list[str] = []
    for pk in item.get("citations", []):
        row = facts.get(pk)
        if links and row is not None:
            cites.append(
                format_html(
                    '<a class="ar-cite" href="{}" data-entry-id="{}" aria-describedby="cite-{}-{}">E{}'
                    '<span class="ar-cite-card" role="tooltip" id="cite-{}-{}">'
                    '<span class="ar-cite-title">{}</span><span class="ar-cite-date">{}</span></span></a>',
                    entry_url(pk),
                    pk,
                    anchor,
                    pk,
                    pk,
                    anchor,
                    pk,
                    row["title"],
                    date_words(row["occurred_on"]),
                )
            )
        else:
            cites.append(format_html('<span class="ar-cite ar-cite-plain">E{}</span>', pk))
    html = "".join(str(piece) for piece in pieces)
    if cites:
        html += ' <span class="ar-cites">' + "".join(cites) + "</span>"
    return mark_safe(html)  # noqa: S308 - every piece above is escaped or built with format_html
