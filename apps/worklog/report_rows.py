"""Reads of entries for apps/reporting (re-exported by apps.worklog.selectors).

Entries come as plain dicts (no model instances), streamed in chunks ordered by employer, project, date and
id, so a report over ten thousand entries holds one chunk at a time. Always scoped by tenant; live entries
only.
"""

from datetime import date

from django.db.models import OuterRef, QuerySet

from apps.worklog.models import Employer, Entry, Evidence, Project
from apps.worklog.skills import skill_normalise

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
