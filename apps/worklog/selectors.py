"""Reads for the work log. Every function takes the tenant and never returns deleted entries.

Lists page with an opaque cursor: the timeline by (occurred_on, id) keyset, so a page costs the same at
the start and deep in the log; a search by position in the ranked results.
"""

import base64
import binascii
import json
from calendar import monthrange
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

from django.db.models import (
    Count,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce, TruncMonth, TruncWeek
from django.utils import timezone

from apps.core.errors import NotFound, ValidationFailed
from apps.worklog.models import Employer, Entry, Evidence, Project, Skill, Tag
from apps.worklog.search import search_filter, search_highlight
from apps.worklog.skills import skill_key, skill_normalise

PAGE_SIZE = 30
MAX_PAGE_SIZE = 200
CURSOR_MAX_LENGTH = 200
ID_MAX = 2**63 - 1  # the largest id a bigint column holds
SEARCH_OFFSET_MAX = 10_000  # ranked search pages stop here: refine the words to see further
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


# ------------------------------------------------------------------------- cursors


def _cursor_encode(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def _cursor_int(value, *, low: int, high: int) -> int:
    # JSON numbers only (not "12", not true), inside what the database can compare.
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(value)
    return value


def _cursor_decode(cursor: str) -> dict:
    """The position a cursor names. Anything we did not give out (not base64, not JSON, numbers out of
    range, impossible dates) is a `ValidationFailed` on `cursor`, never a database error."""
    bad = ValidationFailed(
        "That page cursor is not one we gave out; start again from the first page.", field="cursor"
    )
    if len(cursor) > CURSOR_MAX_LENGTH:
        raise bad
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        data = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise bad from exc
    if not isinstance(data, dict):
        raise bad
    try:
        if "o" in data:
            return {"offset": _cursor_int(data["o"], low=0, high=SEARCH_OFFSET_MAX)}
        if not isinstance(data["d"], str):
            raise TypeError(data["d"])
        return {"date": date.fromisoformat(data["d"]), "id": _cursor_int(data["i"], low=1, high=ID_MAX)}
    except (KeyError, TypeError, ValueError) as exc:
        raise bad from exc


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


def _filtered(*, tenant, filters: EntryFilters) -> QuerySet[Entry]:
    queryset = Entry.objects.for_tenant(tenant).filter(deleted_at__isnull=True)
    if filters.since:
        queryset = queryset.filter(occurred_on__gte=filters.since)
    if filters.until:
        queryset = queryset.filter(occurred_on__lte=filters.until)
    if filters.employer:
        queryset = queryset.filter(employer__name__iexact=filters.employer.strip())
    if filters.project:
        queryset = queryset.filter(project__name__iexact=filters.project.strip())
    if filters.skill:
        queryset = queryset.filter(skills__key=skill_normalise(filters.skill)[1])
    if filters.tag:
        queryset = queryset.filter(tags__name=filters.tag.strip().lstrip("#").lower())
    if filters.needs:
        queryset = entry_filter_needs(queryset, needs=filters.needs, today=timezone.localdate())
    return queryset


def entry_list(*, tenant, filters: EntryFilters | None = None) -> QuerySet[Entry]:
    """The tenant's live entries matching `filters`, newest first, with what a list shows preloaded."""
    queryset = _filtered(tenant=tenant, filters=filters or EntryFilters())
    return (
        queryset.select_related("employer", "project")
        .prefetch_related(
            Prefetch("skills", queryset=Skill.objects.order_by("name")),
            Prefetch("tags", queryset=Tag.objects.order_by("name")),
        )
        .annotate(evidence_count=_evidence_count())
        .order_by("-occurred_on", "-id")
    )


def entry_page(
    *,
    tenant,
    filters: EntryFilters,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
    with_evidence: bool = False,
) -> EntryPage:
    """One page of entries and the cursor of the next (None at the end).

    With free text the entries come ranked by relevance (highlighted); otherwise newest first.
    `with_evidence` loads each entry's evidence too, in one more query whatever the page size.
    """
    page = _entry_page(tenant=tenant, filters=filters, cursor=cursor, limit=limit)
    if with_evidence:
        prefetch_related_objects(
            page.items, Prefetch("evidence", queryset=Evidence.objects.order_by("created_at", "id"))
        )
    return page


def _entry_page(*, tenant, filters: EntryFilters, cursor: str | None, limit: int) -> EntryPage:
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    position = _cursor_decode(cursor) if cursor else None
    queryset = entry_list(tenant=tenant, filters=filters)
    if filters.q.strip():
        if position is not None and "offset" not in position:
            raise ValidationFailed(
                "That cursor belongs to a list without a search; start again.", field="cursor"
            )
        offset = position["offset"] if position else 0
        items = list(search_filter(queryset, filters.q)[offset : offset + limit + 1])
        more = len(items) > limit and offset + limit <= SEARCH_OFFSET_MAX
        next_cursor = _cursor_encode({"o": offset + limit}) if more else None
        items = items[:limit]
        search_highlight(items, filters.q)
        return EntryPage(items=items, next_cursor=next_cursor, ranked=True)
    previous_date = None
    if position is not None:
        if "date" not in position:
            raise ValidationFailed("That cursor belongs to a search; start again.", field="cursor")
        previous_date = position["date"]
        queryset = queryset.filter(
            Q(occurred_on__lt=previous_date) | Q(occurred_on=previous_date, id__lt=position["id"])
        )
    items = list(queryset[: limit + 1])
    next_cursor = None
    if len(items) > limit:
        items = items[:limit]
        next_cursor = _cursor_encode({"d": items[-1].occurred_on.isoformat(), "i": items[-1].pk})
    return EntryPage(items=items, next_cursor=next_cursor, previous_date=previous_date)


def entry_search_count(*, tenant, filters: EntryFilters) -> int:
    return search_filter(_filtered(tenant=tenant, filters=filters), filters.q).count()


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
    return list(entry_list(tenant=tenant)[:limit])


def entry_total(*, tenant) -> int:
    return Entry.objects.for_tenant(tenant).filter(deleted_at__isnull=True).count()


# ------------------------------------------------------------------------ timeline


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _month_end(day: date) -> date:
    return day.replace(day=monthrange(day.year, day.month)[1])


def timeline_counts(*, tenant, filters: EntryFilters, items: list[Entry]) -> dict[tuple[date, date], int]:
    """Entries per (month, week) over the months the page spans, in one aggregate query."""
    if not items:
        return {}
    dates = [entry.occurred_on for entry in items]
    rows = (
        _filtered(tenant=tenant, filters=filters)
        .filter(occurred_on__gte=_month_start(min(dates)), occurred_on__lte=_month_end(max(dates)))
        .annotate(month=TruncMonth("occurred_on"), week=TruncWeek("occurred_on"))
        .order_by()
        .values("month", "week")
        .annotate(n=Count("id", distinct=True))
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
    """Skills with `entry_count` and `last_used_on` (live entries only), most used first."""
    return (
        Skill.objects.for_tenant(tenant)
        .annotate(
            entry_count=Count("entries", filter=LIVE_ENTRIES, distinct=True),
            last_used_on=Max("entries__occurred_on", filter=LIVE_ENTRIES),
        )
        .order_by("-entry_count", "name")
    )


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


def reference_names(*, tenant) -> dict[str, list[str]]:
    """Every employer, project, skill and tag name, for type-ahead lists."""

    def names(model) -> list[str]:
        return list(model.objects.for_tenant(tenant).order_by("name").values_list("name", flat=True))

    return {
        "employer_names": names(Employer),
        "project_names": names(Project),
        "skill_names": names(Skill),
        "tag_names": names(Tag),
    }


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


# ------------------------------------------------------------------------- reports
#
# Reads for apps/reporting. Entries come as plain dicts (no model instances), streamed in chunks ordered by
# employer, project, date and id, so a report over ten thousand entries holds one chunk at a time.

REPORT_ROW_FIELDS = (
    "id", "occurred_on", "title", "body", "impact", "employer__name", "project__name", "metric_value",
    "metric_unit", "metric_before", "metric_after", "confidential", "outcome_pending", "follow_up_on",
)  # fmt: skip


def _report_queryset(
    *,
    tenant,
    since: date | None = None,
    until: date | None = None,
    employers=(),
    projects=(),
    skills=(),
    tags=(),
    confidential: bool | None = None,
    ids=None,
) -> QuerySet[Entry]:
    """Live entries of the tenant: both date ends applied; within each name list any name matches (names
    ignore case; skills by their normalised key, tags without '#'); `confidential` None means both."""
    from django.db.models import Exists
    from django.db.models.functions import Lower

    queryset = Entry.objects.for_tenant(tenant).filter(deleted_at__isnull=True)
    if since:
        queryset = queryset.filter(occurred_on__gte=since)
    if until:
        queryset = queryset.filter(occurred_on__lte=until)
    if ids is not None:
        queryset = queryset.filter(pk__in=list(ids))
    if confidential is not None:
        queryset = queryset.filter(confidential=confidential)
    if employers:
        lowered = {name.strip().lower() for name in employers}
        queryset = queryset.filter(
            employer__in=Employer.objects.for_tenant(tenant)
            .annotate(low=Lower("name"))
            .filter(low__in=lowered)
        )
    if projects:
        lowered = {name.strip().lower() for name in projects}
        queryset = queryset.filter(
            project__in=Project.objects.for_tenant(tenant).annotate(low=Lower("name")).filter(low__in=lowered)
        )
    if skills:
        keys = {skill_normalise(name)[1] for name in skills}
        links = Entry.skills.through.objects.filter(entry_id=OuterRef("pk"), skill__key__in=keys)
        queryset = queryset.filter(Exists(links))
    if tags:
        names = {name.strip().lstrip("#").lower() for name in tags}
        links = Entry.tags.through.objects.filter(entry_id=OuterRef("pk"), tag__name__in=names)
        queryset = queryset.filter(Exists(links))
    return queryset


def entry_report_count(**filters) -> int:
    """How many live entries match the report filters (same keywords as `entry_report_rows`)."""
    return _report_queryset(**filters).count()


def entry_report_rows(*, chunk_size: int = 1000, **filters):
    """The matching live entries as dicts (REPORT_ROW_FIELDS, plus `skills`, `tags` and `evidence_count`),
    ordered by employer, project, date and id, read `chunk_size` at a time."""
    from django.db.models import F

    queryset = (
        _report_queryset(**filters)
        .order_by(
            F("employer__name").asc(nulls_last=True),
            F("project__name").asc(nulls_last=True),
            "occurred_on",
            "id",
        )
        .values(*REPORT_ROW_FIELDS)
    )
    chunk: list[dict] = []
    for row in queryset.iterator(chunk_size=chunk_size):
        chunk.append(row)
        if len(chunk) >= chunk_size:
            yield from _report_rows_complete(chunk)
            chunk = []
    if chunk:
        yield from _report_rows_complete(chunk)


def _report_id_filter(column: str, ids: list[int]) -> tuple[str, list]:
    """`column` among `ids`: one array parameter on PostgreSQL, a list of placeholders elsewhere."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [ids]
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


def _report_names_by_entry(through, target: str, ids: list[int]) -> dict[int, list[str]]:
    """{entry id: [names]} of the skills or tags linked to `ids`, sorted by name, in one plain query."""
    from django.db import connection

    quote = connection.ops.quote_name
    link = through._meta
    related = link.get_field(target)
    where, params = _report_id_filter(f"l.{quote(link.get_field('entry').column)}", ids)
    sql = (
        f"SELECT l.{quote(link.get_field('entry').column)}, t.{quote('name')} "  # noqa: S608 - names from model meta
        f"FROM {quote(link.db_table)} l JOIN {quote(related.related_model._meta.db_table)} t "
        f"ON t.{quote('id')} = l.{quote(related.column)} WHERE {where} ORDER BY t.{quote('name')}"
    )
    names: dict[int, list[str]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for entry_id, name in cursor.fetchall():
            names.setdefault(entry_id, []).append(name)
    return names


def _report_rows_complete(rows: list[dict]) -> list[dict]:
    from django.db import connection

    ids = [row["id"] for row in rows]
    skills = _report_names_by_entry(Entry.skills.through, "skill", ids)
    tags = _report_names_by_entry(Entry.tags.through, "tag", ids)
    quote = connection.ops.quote_name
    where, params = _report_id_filter(quote("entry_id"), ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote('entry_id')}, COUNT(*) FROM {quote(Evidence._meta.db_table)} "  # noqa: S608 - names from model meta
            f"WHERE {where} GROUP BY {quote('entry_id')}",
            params,
        )
        evidence = dict(cursor.fetchall())
    for row in rows:
        row["employer"] = row.pop("employer__name") or ""
        row["project"] = row.pop("project__name") or ""
        row["skills"] = skills.get(row["id"], [])
        row["tags"] = tags.get(row["id"], [])
        row["evidence_count"] = evidence.get(row["id"], 0)
    return rows


def entry_report_facts(*, tenant, ids) -> dict[int, dict]:
    """The live entries of the tenant among `ids`, as report rows by id (unknown, deleted and other
    workspaces' ids are simply absent)."""
    wanted = {int(pk) for pk in ids}
    facts: dict[int, dict] = {}
    for start in range(0, len(wanted), 1000):
        batch = sorted(wanted)[start : start + 1000]
        for row in entry_report_rows(tenant=tenant, ids=batch):
            facts[row["id"]] = row
    return facts


def entry_report_live_ids(*, tenant, ids) -> set[int]:
    """Which of `ids` are live entries of the tenant (for a report's coverage of its selected entries)."""
    wanted = sorted({int(pk) for pk in ids})
    live: set[int] = set()
    for start in range(0, len(wanted), 2000):
        batch = wanted[start : start + 2000]
        live.update(
            Entry.objects.for_tenant(tenant)
            .filter(deleted_at__isnull=True, pk__in=batch)
            .values_list("id", flat=True)
        )
    return live
