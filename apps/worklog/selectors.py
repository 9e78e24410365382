"""Reads for the work log. Every function takes the tenant and never returns deleted entries.

No page reads the whole workspace: lists page with an opaque cursor (apps/worklog/cursors.py), the timeline
by a keyset on (occurred_on, id) that is a range of the `entry_timeline_live` index — the condition is
the row comparison `(occurred_on, id) < (d, i)`, so a page costs the same at the start and deep in the log —
and a search by windows of ranked matches (apps/worklog/search.py). Totals are counted up to a bound
(`entry_total`: "more than 1,000", as the dashboard's "999+"), and skills carry their own counters.
"""

from calendar import monthrange
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    prefetch_related_objects,
)
from django.db.models.fields.tuple_lookups import Tuple, TupleLessThan
from django.db.models.functions import Coalesce, TruncMonth, TruncWeek
from django.utils import timezone

from apps.accounts.models import Tenant
from apps.core.errors import NotFound
from apps.worklog.cursors import Position, search_cursor, search_position, timeline_cursor, timeline_position
from apps.worklog.models import Employer, Entry, Evidence, Project, Skill, Tag
from apps.worklog.report_rows import (  # noqa: F401 - the reads for apps/reporting, named here as before
    REPORT_ROW_FIELDS,
    entry_report_count,
    entry_report_facts,
    entry_report_live_ids,
    entry_report_rows,
)
from apps.worklog.search import (
    search_headlines,
    search_highlight,
    search_terms,
    search_window_page,
)
from apps.worklog.skills import skill_key, skill_normalise

PAGE_SIZE = 30
MAX_PAGE_SIZE = 200
TOTAL_COUNTED_MAX = 1_000  # the timeline says "more than 1,000 entries" past this
LIVE_ENTRIES = Q(entries__deleted_at__isnull=True)


@dataclass(frozen=True)
class EntryFilters:
    q: str = ""
    since: date | None = None
    until: date | None = None
    employer: str = ""
    project: str = ""
    skill: str = ""
    tag: str = ""
    needs: str = ""  # "impact" or "result": see entry_filter_needs (dashboard links)

    def active(self) -> dict:
        """The filters in use, as query-string values."""
        return {name: value.isoformat() if isinstance(value, date) else value
                for name, value in asdict(self).items() if value}  # fmt: skip

    @property
    def narrowed(self) -> bool:
        """True when something other than free text narrows the list."""
        return any(value for name, value in self.active().items() if name != "q")


@dataclass
class EntryPage:
    items: list[Entry]
    next_cursor: str | None
    ranked: bool = False
    previous_date: date | None = None
    counts: dict = field(default_factory=dict)
    # A search: how many matches the first window holds, and whether there are more than that; whether this
    # page starts a window of older matches (after the first).
    match_count: int | None = None
    match_more: bool = False
    older_matches: bool = False
    # The timeline: its entries before the cursor (filtered, names already looked up), for timeline_counts.
    filtered: QuerySet | None = None


@dataclass(frozen=True)
class Bounded:
    """A count taken up to a bound: `count` is exact when `more` is False, else "more than `count`"."""

    count: int
    more: bool

    def __bool__(self) -> bool:
        return bool(self.count)


def count_upto(queryset: QuerySet, bound: int) -> Bounded:
    """How many rows `queryset` has, reading at most `bound + 1` of them (one bounded index scan). The
    queryset's own order is kept: for live entries it is the key order of the partial index of live
    entries, so PostgreSQL counts with an index-only scan instead of fetching each row to test it."""
    counted = queryset.values("pk")[: bound + 1].count()
    return Bounded(count=min(counted, bound), more=counted > bound)


# ------------------------------------------------------------------------- entries


def _evidence_count() -> Coalesce:
    counts = (
        Evidence.objects.filter(entry=OuterRef("pk"))
        .order_by()
        .values("entry")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


def _live(tenant) -> QuerySet[Entry]:
    return Entry.objects.for_tenant(tenant).filter(deleted_at__isnull=True)


def _named_ids(*, tenant, filters: EntryFilters) -> dict[str, int | None] | None:
    """The ids of the employer, project, skill and tag the filters name, in one query (None: no such name,
    so nothing can match). Looking them up first gives the planner real values to estimate with, so a
    filtered page walks the timeline index instead of reading every entry of a skill."""
    lookups = {}
    if filters.employer:
        lookups["employer"] = Employer.objects.filter(name__iexact=filters.employer.strip())
    if filters.project:
        lookups["project"] = Project.objects.filter(name__iexact=filters.project.strip())
    if filters.skill:
        lookups["skill"] = Skill.objects.filter(key=skill_normalise(filters.skill)[1])
    if filters.tag:
        lookups["tag"] = Tag.objects.filter(name=filters.tag.strip().lstrip("#").lower())
    if not lookups:
        return {}
    found = (
        Tenant.objects.filter(pk=tenant.pk)
        .values(
            **{
                name: Subquery(queryset.filter(tenant=OuterRef("pk")).order_by("pk").values("pk")[:1])
                for name, queryset in lookups.items()
            }
        )
        .first()
    )
    if not found or any(value is None for value in found.values()):
        return None
    return found


def _filtered(*, tenant, filters: EntryFilters) -> QuerySet[Entry]:
    """Live entries of the tenant matching the filters other than free text. Names become ids first (one
    query) and links are tested with EXISTS on the link table's (entry, skill) index, so a filtered list
    walks the timeline index without joins or duplicates."""
    queryset = _live(tenant)
    if filters.since:
        queryset = queryset.filter(occurred_on__gte=filters.since)
    if filters.until:
        queryset = queryset.filter(occurred_on__lte=filters.until)
    if tenant is not None and (ids := _named_ids(tenant=tenant, filters=filters)) is None:
        return queryset.none()
    elif tenant is not None:
        if "employer" in ids:
            queryset = queryset.filter(employer_id=ids["employer"])
        if "project" in ids:
            queryset = queryset.filter(project_id=ids["project"])
        if "skill" in ids:
            links = Entry.skills.through.objects.filter(entry_id=OuterRef("pk"), skill_id=ids["skill"])
            queryset = queryset.filter(Exists(links))
        if "tag" in ids:
            links = Entry.tags.through.objects.filter(entry_id=OuterRef("pk"), tag_id=ids["tag"])
            queryset = queryset.filter(Exists(links))
    if filters.needs:
        queryset = entry_filter_needs(queryset, needs=filters.needs, today=timezone.localdate())
    return queryset


def _with_list_data(queryset: QuerySet[Entry]) -> QuerySet[Entry]:
    """What a list shows with each entry: employer, project, skills and tags by name, evidence count."""
    return (
        queryset.select_related("employer", "project")
        .prefetch_related(
            Prefetch("skills", queryset=Skill.objects.order_by("name")),
            Prefetch("tags", queryset=Tag.objects.order_by("name")),
        )
        .annotate(evidence_count=_evidence_count())
    )


@dataclass
class EntryRow:
    """What a list shows of one entry, read as values (no model instances, no related managers): the
    timeline's rows. A search adds `title_headline`, `snippet_headline`, `search_rank` and the HTML."""

    pk: int
    occurred_on: date
    title: str
    body: str
    impact: str
    confidential: bool
    outcome_pending: bool
    follow_up_on: date | None
    employer_name: str
    project_name: str
    evidence_count: int
    skill_names: list[str] = field(default_factory=list)
    tag_names: list[str] = field(default_factory=list)


_ROW_FIELDS = (
    "pk",
    "occurred_on",
    "title",
    "body",
    "impact",
    "confidential",
    "outcome_pending",
    "follow_up_on",
)
_HEADLINES = ("title_headline", "snippet_headline")


def _entry_rows(queryset: QuerySet[Entry]) -> list[EntryRow]:
    """The entries of `queryset` (sliced to a page) as EntryRows: one query for the entries with their
    employer, project and evidence count, one for the skill and tag names of the page (UNION ALL)."""
    headlines = [name for name in _HEADLINES if name in queryset.query.annotations]
    values = queryset.annotate(
        employer_name=Coalesce(F("employer__name"), Value("")),
        project_name=Coalesce(F("project__name"), Value("")),
        evidence_count=_evidence_count(),
    ).values(*_ROW_FIELDS, "employer_name", "project_name", "evidence_count", *headlines)
    rows = []
    for value in values:
        extra = {name: value.pop(name) for name in headlines}
        row = EntryRow(**value)
        row.__dict__.update(extra)
        rows.append(row)
    if rows:
        by_id = {row.pk: row for row in rows}
        skills, tags = (
            through.objects.filter(entry_id__in=by_id)
            .order_by()
            .annotate(kind=Value(kind))
            .values_list("kind", "entry_id", f"{related}__name")
            for kind, (through, related) in enumerate(
                ((Entry.skills.through, "skill"), (Entry.tags.through, "tag"))
            )
        )
        for kind, entry_id, name in skills.union(tags, all=True).order_by("kind", "skill__name"):
            row = by_id[entry_id]
            (row.tag_names if kind else row.skill_names).append(name)
    return rows


def entry_list(*, tenant, filters: EntryFilters | None = None) -> QuerySet[Entry]:
    """The tenant's live entries matching `filters`, newest first, with what a list shows preloaded."""
    queryset = _filtered(tenant=tenant, filters=filters or EntryFilters())
    return _with_list_data(queryset).order_by("-occurred_on", "-id")


def before(position: Position) -> TupleLessThan:
    """Entries strictly before `position` in (occurred_on, id) order: `(occurred_on, id) < (d, i)`, which
    PostgreSQL reads as a range of the (tenant, -occurred_on, -id) index (EXPLAIN: Index Cond)."""
    return TupleLessThan(Tuple(F("occurred_on"), F("id")), (position.day, position.id))


def entry_page(
    *,
    tenant,
    filters: EntryFilters,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
    with_evidence: bool = False,
    as_rows: bool = False,
) -> EntryPage:
    """One page of entries and the cursor of the next (None at the end).

    With free text the entries come ranked by relevance (highlighted); otherwise newest first.
    `with_evidence` loads each entry's evidence too, in one more query whatever the page size.
    `as_rows`: the items are EntryRows (what a list shows), not Entry instances.
    """
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    if with_evidence and as_rows:
        raise ValueError("Evidence is loaded on Entry instances, not on rows.")
    if filters.q.strip():
        page = _search_page(tenant=tenant, filters=filters, cursor=cursor, limit=limit, as_rows=as_rows)
    else:
        page = _timeline_page(tenant=tenant, filters=filters, cursor=cursor, limit=limit, as_rows=as_rows)
    if with_evidence:
        prefetch_related_objects(
            page.items, Prefetch("evidence", queryset=Evidence.objects.order_by("created_at", "id"))
        )
    return page


def _timeline_page(
    *, tenant, filters: EntryFilters, cursor: str | None, limit: int, as_rows: bool
) -> EntryPage:
    position = timeline_position(cursor)
    queryset = filtered = _filtered(tenant=tenant, filters=filters)
    if position is not None:
        queryset = queryset.filter(before(position))
    queryset = queryset.order_by("-occurred_on", "-id")
    items = _entry_rows(queryset[: limit + 1]) if as_rows else list(_with_list_data(queryset)[: limit + 1])
    next_cursor = None
    if len(items) > limit:
        items = items[:limit]
        next_cursor = timeline_cursor(Position(day=items[-1].occurred_on, id=items[-1].pk))
    return EntryPage(
        items=items,
        next_cursor=next_cursor,
        previous_date=position.day if position else None,
        filtered=filtered,
    )


def _search_page(
    *, tenant, filters: EntryFilters, cursor: str | None, limit: int, as_rows: bool
) -> EntryPage:
    position = search_position(cursor)
    terms = search_terms(filters.q)
    if not terms or tenant is None:
        return EntryPage(items=[], next_cursor=None, ranked=True, match_count=0)
    base = _filtered(tenant=tenant, filters=filters)
    window = search_window_page(base, terms, tenant_id=tenant.pk, position=position, limit=limit)
    found = {}
    if window.ids:
        page_entries = _live(tenant).filter(pk__in=window.ids)
        if as_rows:
            rows = _entry_rows(search_headlines(page_entries, filters.q))
        else:
            rows = search_headlines(_with_list_data(page_entries), filters.q)
        found = {entry.pk: entry for entry in rows}
    items = [found[pk] for pk in window.ids if pk in found]
    for entry in items:
        entry.search_rank = window.ranks[entry.pk]
    search_highlight(items, filters.q)
    return EntryPage(
        items=items,
        next_cursor=search_cursor(window.next) if window.next else None,
        ranked=True,
        match_count=window.window_count,
        match_more=window.window_full,
        older_matches=window.older and position is not None and position.after is None,
    )


def entry_get(*, tenant, pk: int, include_deleted: bool = False) -> Entry:
    queryset = Entry.objects.for_tenant(tenant).select_related("employer", "project", "author")
    if not include_deleted:
        queryset = queryset.filter(deleted_at__isnull=True)
    entry = queryset.prefetch_related("skills", "tags", "evidence").filter(pk=pk).first()
    if entry is None:
        raise NotFound("We couldn't find that entry. It may have been deleted.")
    return entry


def entry_defaults(*, tenant, author) -> dict:
    """What a new entry starts with: today's date is the caller's; employer and project are the last used."""
    last = (
        Entry.objects.for_tenant(tenant)
        .filter(author=author, deleted_at__isnull=True)
        .order_by("-created_at", "-id")
        .values("employer__name", "project__name")
        .first()
    )
    return {
        "employer": (last or {}).get("employer__name") or "",
        "project": (last or {}).get("project__name") or "",
    }


def entry_recent(*, tenant, limit: int = 5) -> list[Entry]:
    """The latest live entries with their employer and project (what the dashboard's card shows)."""
    return list(_live(tenant).select_related("employer", "project").order_by("-occurred_on", "-id")[:limit])


def entry_total(*, tenant, bound: int = TOTAL_COUNTED_MAX) -> Bounded:
    """The tenant's live entries, counted up to `bound` (an index-only scan of at most bound + 1 rows)."""
    return count_upto(_live(tenant), bound)


# ------------------------------------------------------------------------ timeline


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _month_end(day: date) -> date:
    return day.replace(day=monthrange(day.year, day.month)[1])


def timeline_counts(
    *, tenant, filters: EntryFilters, items: list, filtered: QuerySet | None = None
) -> dict[tuple[date, date], int]:
    """Entries per (month, week) over the months the page spans, in one aggregate query (a range of the
    timeline index: its cost is the entries of those months, not of the log). `filtered`: the page's
    EntryPage.filtered, which saves looking the filters' names up again."""
    if not items:
        return {}
    dates = [entry.occurred_on for entry in items]
    base = filtered if filtered is not None else _filtered(tenant=tenant, filters=filters)
    rows = (
        base.filter(occurred_on__gte=_month_start(min(dates)), occurred_on__lte=_month_end(max(dates)))
        .annotate(month=TruncMonth("occurred_on"), week=TruncWeek("occurred_on"))
        .order_by()
        .values("month", "week")
        .annotate(n=Count("id"))
    )
    return {(_as_date(row["month"]), _as_date(row["week"])): row["n"] for row in rows}


def _as_date(value) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else value


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def timeline_rows(page: EntryPage, counts: dict[tuple[date, date], int]) -> list[dict]:
    """The page as a flat list of month headings, week headings and entries, ready to append."""
    month_totals: dict[date, int] = {}
    for (month, _week), number in counts.items():
        month_totals[month] = month_totals.get(month, 0) + number
    rows: list[dict] = []
    previous = page.previous_date
    for entry in page.items:
        month, week = _month_start(entry.occurred_on), _week_start(entry.occurred_on)
        if previous is None or _month_start(previous) != month:
            rows.append({"kind": "month", "date": month, "count": month_totals.get(month, 0)})
            previous = None
        if previous is None or _week_start(previous) != week:
            shown_from = max(week, month)
            rows.append({"kind": "week", "date": shown_from, "count": counts.get((month, week), 0)})
        rows.append({"kind": "entry", "entry": entry})
        previous = entry.occurred_on
    return rows


# ------------------------------------------------------------------ reference data


def skill_list(*, tenant) -> QuerySet[Skill]:
    """Skills with `entry_count` and `last_used_on` (live entries only; counters kept by the services, see
    apps/worklog/services/counters.py), most used first. Reads the skills only, never the entries."""
    return Skill.objects.for_tenant(tenant).order_by("-entry_count", "name")


def skill_get(*, tenant, pk: int) -> Skill:
    skill = skill_list(tenant=tenant).filter(pk=pk).first()
    if skill is None:
        raise NotFound("We couldn't find that skill. It may have been merged into another.")
    return skill


def skill_names_matching(*, tenant, prefix: str, limit: int = 8) -> list[str]:
    key = skill_key(prefix)
    if not key:
        return []
    queryset = Skill.objects.for_tenant(tenant).filter(key__startswith=key).order_by("name")
    return list(queryset.values_list("name", flat=True)[:limit])


def employer_list(*, tenant) -> QuerySet[Employer]:
    return (
        Employer.objects.for_tenant(tenant)
        .annotate(entry_count=Count("entries", filter=LIVE_ENTRIES, distinct=True))
        .order_by("name")
    )


def project_list(*, tenant) -> QuerySet[Project]:
    return (
        Project.objects.for_tenant(tenant)
        .select_related("employer")
        .annotate(entry_count=Count("entries", filter=LIVE_ENTRIES, distinct=True))
        .order_by("name")
    )


def tag_list(*, tenant) -> QuerySet[Tag]:
    return (
        Tag.objects.for_tenant(tenant)
        .annotate(entry_count=Count("entries", filter=LIVE_ENTRIES, distinct=True))
        .order_by("name")
    )


def tag_names_matching(*, tenant, prefix: str, limit: int = 8) -> list[str]:
    prefix = prefix.strip().lstrip("#").lower()
    if not prefix:
        return []
    queryset = Tag.objects.for_tenant(tenant).filter(name__startswith=prefix).order_by("name")
    return list(queryset.values_list("name", flat=True)[:limit])


# ------------------------------------------------------------------------ evidence


def evidence_get(*, tenant, pk: int) -> Evidence:
    """A piece of evidence on a live entry of the tenant."""
    evidence = (
        Evidence.objects.for_tenant(tenant)
        .select_related("entry")
        .filter(pk=pk, entry__deleted_at__isnull=True)
        .first()
    )
    if evidence is None:
        raise NotFound("We couldn't find that evidence.")
    return evidence


_NAME_LISTS = (
    ("employer_names", Employer),
    ("project_names", Project),
    ("skill_names", Skill),
    ("tag_names", Tag),
)


def reference_names(*, tenant) -> dict[str, list[str]]:
    """Every employer, project, skill and tag name, for type-ahead lists, in one query (UNION ALL)."""
    queries = [
        model.objects.for_tenant(tenant).order_by().annotate(kind=Value(n)).values_list("kind", "name")
        for n, (_key, model) in enumerate(_NAME_LISTS)
    ]
    names: dict[str, list[str]] = {key: [] for key, _model in _NAME_LISTS}
    keys = [key for key, _model in _NAME_LISTS]
    for kind, name in queries[0].union(*queries[1:], all=True).order_by("kind", "name"):
        names[keys[kind]].append(name)
    return names


# ------------------------------------------------------------------ needs filter
# What an entry still lacks, for the timeline's `needs` filter (the dashboard's tiles link to it; the tiles
# themselves are read by apps/worklog/insights.py).

NEEDS_CHOICES = {"impact": "No impact statement", "result": "Result due"}


def entry_filter_needs(queryset: QuerySet[Entry], *, needs: str, today: date) -> QuerySet[Entry]:
    """The timeline's `needs` filter: entries still missing something.

    `impact`: no impact statement. `result`: the result is pending and its follow-up date has come.
    """
    if needs == "impact":
        return queryset.filter(impact="")
    if needs == "result":
        return queryset.filter(outcome_pending=True, follow_up_on__lte=today)
    return queryset
