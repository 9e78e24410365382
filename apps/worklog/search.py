"""Free-text search over entries: PostgreSQL full-text search, and a plain fallback on SQLite.

On PostgreSQL, migration 0002 adds a generated `search_document` tsvector (title weighted A, impact B,
body C) with a GIN index. Each word typed is matched as a prefix, so results narrow while typing
("depl" finds "deployed"); results are ranked with ts_rank and matches highlighted with ts_headline.
Elsewhere every word must appear in the title, impact or body (case-insensitive); a title hit counts
most, then impact, then body; highlighting is done here.
"""

import re

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVectorField
from django.db import connection
from django.db.models import Case, ExpressionWrapper, F, IntegerField, Q, QuerySet, TextField, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Concat
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

SEARCH_CONFIG = "english"
MAX_TERMS = 8
SNIPPET_RADIUS = 90
# ts_headline marks matches with these; they cannot occur in text a person types, and are swapped for
# <mark> only after the rest of the text has been escaped.
_START, _STOP = "\x02", "\x03"
_TERM = re.compile(r"[^\W_]+", re.UNICODE)


def search_terms(text: str) -> list[str]:
    """The words of a search, lower-cased, without duplicates, at most MAX_TERMS."""
    terms: list[str] = []
    for word in _TERM.findall(text or ""):
        word = word.lower()
        if word not in terms:
            terms.append(word)
    return terms[:MAX_TERMS]


def uses_full_text_search() -> bool:
    return connection.vendor == "postgresql"


def search_filter(queryset: QuerySet, text: str) -> QuerySet:
    """Entries matching `text`, annotated with `search_rank` and ordered best first."""
    terms = search_terms(text)
    if not terms:
        return queryset.none()
    if uses_full_text_search():
        return _postgres_search(queryset, terms)
    return _fallback_search(queryset, terms)


def _postgres_search(queryset: QuerySet, terms: list[str]) -> QuerySet:
    # Terms are letters and digits only, so joining them into a tsquery cannot inject operators.
    query = SearchQuery(" & ".join(f"{term}:*" for term in terms), search_type="raw", config=SEARCH_CONFIG)
    document = RawSQL('"worklog_entry"."search_document"', [], output_field=SearchVectorField())
    headline_options = {"config": SEARCH_CONFIG, "start_sel": _START, "stop_sel": _STOP}
    return (
        queryset.alias(search_document=document)
        .filter(search_document=query)
        .annotate(
            search_rank=SearchRank(F("search_document"), query),
            title_headline=SearchHeadline("title", query, highlight_all=True, **headline_options),
            snippet_headline=SearchHeadline(
                Concat("impact", Value(" \n"), "body", output_field=TextField()),
                query,
                max_words=32,
                min_words=12,
                max_fragments=2,
                fragment_delimiter=" … ",
                **headline_options,
            ),
        )
        .order_by("-search_rank", "-occurred_on", "-id")
    )


def _fallback_search(queryset: QuerySet, terms: list[str]) -> QuerySet:
    matches = Q()
    score = Value(0)
    for term in terms:
        matches &= Q(title__icontains=term) | Q(impact__icontains=term) | Q(body__icontains=term)
        score = (
            score
            + Case(When(title__icontains=term, then=Value(4)), default=Value(0))
            + Case(When(impact__icontains=term, then=Value(2)), default=Value(0))
            + Case(When(body__icontains=term, then=Value(1)), default=Value(0))
        )
    return (
        queryset.filter(matches)
        .annotate(search_rank=ExpressionWrapper(score, output_field=IntegerField()))
        .order_by("-search_rank", "-occurred_on", "-id")
    )


def _headline_html(headline: str) -> SafeString:
    html = escape(headline).replace(_START, "<mark>").replace(_STOP, "</mark>")
    return mark_safe(html)  # noqa: S308 - escaped above; only our own <mark> tags are added


def _highlight(text: str, terms: list[str]) -> str:
    pattern = re.compile(
        "|".join(re.escape(term) for term in sorted(terms, key=len, reverse=True)), re.IGNORECASE
    )
    return pattern.sub(lambda match: f"{_START}{match.group(0)}{_STOP}", text)


def _snippet(text: str, terms: list[str]) -> str:
    text = " ".join(text.split())
    lowered = text.lower()
    positions = [index for term in terms if (index := lowered.find(term)) >= 0]
    if not positions:
        return ""
    start = max(0, min(positions) - SNIPPET_RADIUS)
    end = min(len(text), min(positions) + SNIPPET_RADIUS * 2)
    prefix = "… " if start else ""
    suffix = " …" if end < len(text) else ""
    return prefix + text[start:end] + suffix


def search_highlight(entries: list, text: str) -> None:
    """Give each entry `title_html` and `snippet_html`: escaped text with the matches in <mark>."""
    terms = search_terms(text)
    for entry in entries:
        title = getattr(entry, "title_headline", None)
        snippet = getattr(entry, "snippet_headline", None)
        if title is None:
            title = _highlight(entry.title, terms)
            snippet = _highlight(_snippet(f"{entry.impact} {entry.body}", terms), terms)
        entry.title_html = _headline_html(title)
        entry.snippet_html = _headline_html(snippet if snippet and _START in snippet else "")
