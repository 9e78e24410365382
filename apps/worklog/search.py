"""Free-text search over entries: PostgreSQL full-text search, and a plain fallback on SQLite.

On PostgreSQL, migration 0002 adds a generated `search_document` tsvector (title weighted A, impact B,
body C); migration 0005 indexes it with the workspace, `GIN (tenant_id, search_document)` (btree_gin), so a
search inside one workspace is one index scan. Each word typed is matched as a prefix, so results narrow
while typing ("depl" finds "deployed"); results are ranked with ts_rank and matches highlighted with
ts_headline. Elsewhere every word must appear in the title, impact or body (case-insensitive); a title hit
counts most, then impact, then body; highlighting is done here.

Paging (`search_window_page`) never reads the whole set of matches and never skips rows with OFFSET:

- the matches are taken in windows of `SEARCH_WINDOW`, newest first: the first window is the newest 500
  matches, the next one the 500 before the last entry of the first, and so on (a keyset on the timeline
  index, or the GIN index for a rare word: the planner picks by the words' frequency);
- inside a window the matches are ranked (ts_rank, computed for the window's rows only) and paged with a
  keyset on (rank, occurred_on, id), carried in the cursor with the window's start;
- headlines (ts_headline, the dearest part) are computed only for the rows of the page shown;
- there is no count of every match: a window that is not full gives the exact number; a full one says
  "more than 500".

So a search costs the same on the first page and deep in the results, for a rare word (few rows through the
GIN index) and for a word in every entry (500 rows along the timeline index).
"""

import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVectorField
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    DateField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.fields.tuple_lookups import Tuple, TupleLessThan
from django.db.models.functions import Concat
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from apps.worklog.cursors import Position, SearchPosition

SEARCH_CONFIG = "english"
SEARCH_WINDOW = 500  # matches ranked together; a full window says "more than" instead of counting
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


def _tsquery_text(terms: list[str]) -> str:
    # Terms are letters and digits only, so joining them into a tsquery cannot inject operators.
    return " & ".join(f"{term}:*" for term in terms)


def _tsquery(terms: list[str]) -> SearchQuery:
    return SearchQuery(_tsquery_text(terms), search_type="raw", config=SEARCH_CONFIG)


def _document() -> RawSQL:
    return RawSQL('"worklog_entry"."search_document"', [], output_field=SearchVectorField())


def _headlines(query: SearchQuery) -> dict:
    options = {"config": SEARCH_CONFIG, "start_sel": _START, "stop_sel": _STOP}
    return {
        "title_headline": SearchHeadline("title", query, highlight_all=True, **options),
        "snippet_headline": SearchHeadline(
            Concat("impact", Value(" \n"), "body", output_field=TextField()),
            query,
            max_words=32,
            min_words=12,
            max_fragments=2,
            fragment_delimiter=" … ",
            **options,
        ),
    }


def _postgres_search(queryset: QuerySet, terms: list[str]) -> QuerySet:
    query = _tsquery(terms)
    return (
        queryset.alias(search_document=_document())
        .filter(search_document=query)
        .annotate(search_rank=SearchRank(F("search_document"), query), **_headlines(query))
        .order_by("-search_rank", "-occurred_on", "-id")
    )


def _fallback_matches(terms: list[str]) -> Q:
    matches = Q()
    for term in terms:
        matches &= Q(title__icontains=term) | Q(impact__icontains=term) | Q(body__icontains=term)
    return matches


def _fallback_score(terms: list[str]) -> ExpressionWrapper:
    score = Value(0)
    for term in terms:
        score = (
            score
            + Case(When(title__icontains=term, then=Value(4)), default=Value(0))
            + Case(When(impact__icontains=term, then=Value(2)), default=Value(0))
            + Case(When(body__icontains=term, then=Value(1)), default=Value(0))
        )
    return ExpressionWrapper(score, output_field=IntegerField())


def _fallback_search(queryset: QuerySet, terms: list[str]) -> QuerySet:
    return (
        queryset.filter(_fallback_matches(terms))
        .annotate(search_rank=_fallback_score(terms))
        .order_by("-search_rank", "-occurred_on", "-id")
    )


# ------------------------------------------------------------------------------- paging in windows


@dataclass
class SearchWindowPage:
    ids: list[int]  # the page, best first
    ranks: dict[int, float]
    next: SearchPosition | None
    window_count: int  # matches in this window (at most SEARCH_WINDOW)
    window_full: bool  # the window is full: there may be older matches after it
    older: bool  # this window comes after the first (older matches)


def search_match(queryset: QuerySet, terms: list[str]) -> QuerySet:
    """`queryset` narrowed to the entries matching every term (no ranking, no ordering)."""
    if uses_full_text_search():
        return queryset.alias(search_document=_document()).filter(search_document=_tsquery(terms))
    return queryset.filter(_fallback_matches(terms))


def _window_rows(base: QuerySet, terms: list[str], *, tenant_id: int) -> list[tuple[int, object, float]]:
    """(id, occurred_on, rank) of the newest SEARCH_WINDOW + 1 matches among `base` (filtered, live,
    inside the window), newest first; ranks are computed for those rows only."""
    if not uses_full_text_search():
        newest = base.filter(_fallback_matches(terms)).order_by("-occurred_on", "-id")
        rows = newest.annotate(search_rank=_fallback_score(terms))
        return list(rows.values_list("id", "occurred_on", "search_rank")[: SEARCH_WINDOW + 1])
    return _postgres_window_rows(base, terms, tenant_id=tenant_id)


# How the newest matches are found on PostgreSQL without reading every match or every entry, whatever the
# words' frequency (the planner cannot tell: it estimates every prefix search at 0.5% of the rows):
# 1. the newest PROBE_ROWS entries are read along the timeline index and tested; a frequent word fills the
#    window here (a word in every entry: 501 rows read);
# 2. otherwise the share of matches among them tells how rare the words are: below RARE_SHARE the rest
#    of the window comes from the GIN index (tenant_id, search_document), which holds few rows for rare
#    words; above it the timeline walk goes on, which finds the rest within (501 - found) / share rows.
# Either way a page reads at most about sqrt(SEARCH_WINDOW x entries) rows: ~7,000 at 100,000 entries.
PROBE_ROWS = 1000
RARE_SHARE = 0.05


def _ranked_sql(inner: QuerySet, terms: list[str], *, hits_only: bool) -> tuple[str, list]:
    """SQL ranking the rows of `inner` (id, occurred_on, doc; ordered and limited): ts_rank for matching
    rows only (NULL for the others when `hits_only` is False), newest first."""
    sql, params = inner.query.sql_with_params()
    query = "to_tsquery(%s::regconfig, %s)"
    rank = f"ts_rank(w.doc, {query})"
    if hits_only:
        select, select_params = rank, [SEARCH_CONFIG, _tsquery_text(terms)]
    else:
        select = f"CASE WHEN w.doc @@ {query} THEN {rank} END"
        select_params = [SEARCH_CONFIG, _tsquery_text(terms)] * 2
    return (
        f"SELECT w.id, w.occurred_on, {select} FROM ({sql}) w "  # noqa: S608 - the ORM's own SQL
        "ORDER BY w.occurred_on DESC, w.id DESC",
        [*select_params, *params],
    )


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _postgres_window_rows(base: QuerySet, terms: list[str], *, tenant_id: int) -> list[tuple]:
    newest = base.annotate(doc=_document()).order_by("-occurred_on", "-id")
    try:
        probe = _ranked_sql(
            newest.values_list("id", "occurred_on", "doc")[:PROBE_ROWS], terms, hits_only=False
        )
    except EmptyResultSet:  # a filter that can match nothing (an employer the log does not have): no SQL
        return []
    probed = _fetch(*probe)
    hits = [row for row in probed if row[2] is not None]
    if len(hits) > SEARCH_WINDOW or len(probed) < PROBE_ROWS:
        return hits[: SEARCH_WINDOW + 1]
    last_id, last_day, _rank = probed[-1]
    older = base.filter(TupleLessThan(Tuple(F("occurred_on"), F("id")), (last_day, last_id)))
    wanted = SEARCH_WINDOW + 1 - len(hits)
    if len(hits) <= PROBE_ROWS * RARE_SHARE:
        # The GIN index, with the workspace as its first key (compared as a bigint by `for_tenant`, as
        # btree_gin needs), finds the few older matches; ordering by an expression keeps the planner from
        # walking the timeline instead.
        rest = (
            older.alias(search_document=_document())
            .filter(search_document=_tsquery(terms))
            .annotate(doc=_document(), newest=RawSQL('"worklog_entry"."occurred_on" + 0', [], DateField()))
            .order_by("-newest", "-id")
        )
    else:
        # Frequent enough: walk on along the timeline index (the function form of @@ is not indexed).
        match = RawSQL(
            'ts_match_vq("worklog_entry"."search_document", to_tsquery(%s::regconfig, %s))',
            [SEARCH_CONFIG, _tsquery_text(terms)],
            BooleanField(),
        )
        rest = older.filter(match).annotate(doc=_document()).order_by("-occurred_on", "-id")
    return hits + _fetch(
        *_ranked_sql(rest.values_list("id", "occurred_on", "doc")[:wanted], terms, hits_only=True)
    )


def search_window_page(
    base: QuerySet, terms: list[str], *, tenant_id: int, position: SearchPosition | None, limit: int
) -> SearchWindowPage:
    """One page of ranked matches (see the module's notes): the window `position` names, ranked, after the
    match it last showed. `base` is the workspace's live entries narrowed by the other filters."""
    window = position.window if position else None
    if window is not None:
        base = base.filter(TupleLessThan(Tuple(F("occurred_on"), F("id")), (window.day, window.id)))
    rows = _window_rows(base, terms, tenant_id=tenant_id)
    full = len(rows) > SEARCH_WINDOW
    rows = rows[:SEARCH_WINDOW]
    ranked = sorted(((rank, day, pk) for pk, day, rank in rows), reverse=True)
    if position is not None and position.after is not None:
        ranked = [row for row in ranked if row < position.after]
    page = ranked[:limit]
    if len(ranked) > limit:
        following = SearchPosition(window=window, after=page[-1])
    elif full:
        oldest_id, oldest_day, _rank = rows[-1]
        following = SearchPosition(window=Position(day=oldest_day, id=oldest_id), after=None)
    else:
        following = None
    return SearchWindowPage(
        ids=[pk for _rank, _day, pk in page],
        ranks={pk: rank for rank, _day, pk in page},
        next=following,
        window_count=len(rows),
        window_full=full,
        older=window is not None,
    )


def search_headlines(queryset: QuerySet, text: str) -> QuerySet:
    """`queryset` (the rows of one page) with the PostgreSQL headlines `search_highlight` turns into HTML."""
    terms = search_terms(text)
    if not terms or not uses_full_text_search():
        return queryset
    return queryset.annotate(**_headlines(_tsquery(terms)))


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
