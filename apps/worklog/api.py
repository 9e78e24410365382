"""Work-log API at /api/worklog/: entries (list, create, read, change, delete, undo) and reference data.

Authentication is the project default: a personal access token (`Authorization: Bearer ...`) or the
session. Another workspace's entry is a 404, like an entry that does not exist.
"""

from ninja import Query, Router, Status

from apps.core.errors import ValidationFailed
from apps.core.tenancy import require_tenant
from apps.worklog import selectors, services
from apps.worklog.schemas import (
    EmployerOut,
    EntryIn,
    EntryListQuery,
    EntryOut,
    EntryPageOut,
    EntryPatch,
    ProjectOut,
    SkillOut,
    TagOut,
    metric_decimal,
)

router = Router(tags=["worklog"])

LIST_PARAMETERS = set(EntryListQuery.model_fields)
METRIC_FIELDS = ("metric_value", "metric_before", "metric_after")


def _entry(request, entry_id: int):
    return selectors.entry_get(tenant=require_tenant(request), pk=entry_id)


@router.get("/entries/", response=EntryPageOut)
def entry_list(request, params: Query[EntryListQuery]):
    unknown = sorted(set(request.GET) - LIST_PARAMETERS)
    if unknown:
        raise ValidationFailed(
            f"Unknown filter {', '.join(unknown)}; use {', '.join(sorted(LIST_PARAMETERS))}.",
            extra={"unknown": unknown, "allowed": sorted(LIST_PARAMETERS)},
        )
    if params.since and params.until and params.since > params.until:
        raise ValidationFailed("`since` is after `until`; swap them.", field="since")
    filters = selectors.EntryFilters(
        q=params.q,
        since=params.since,
        until=params.until,
        employer=params.employer,
        project=params.project,
        skill=params.skill,
        tag=params.tag,
    )
    page = selectors.entry_page(
        tenant=require_tenant(request),
        filters=filters,
        cursor=params.cursor or None,
        limit=params.limit,
        with_evidence=True,
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


def _with_decimals(values: dict) -> dict:
    """Metric strings ("12.5") as Decimals for the service; a null stays null (clears the value)."""
    for name in METRIC_FIELDS:
        if name in values:
            values[name] = metric_decimal(values[name])
    return values


@router.post("/entries/", response={201: EntryOut})
def entry_create(request, payload: EntryIn):
    entry = services.entry_create(
        tenant=require_tenant(request), author=request.user, **_with_decimals(payload.model_dump())
    )
    return Status(201, selectors.entry_get(tenant=entry.tenant, pk=entry.pk))


@router.get("/entries/{id}/", response=EntryOut)
def entry_detail(request, id: int):
    return _entry(request, id)


@router.patch("/entries/{id}/", response=EntryOut)
def entry_update(request, id: int, payload: EntryPatch):
    entry = _entry(request, id)
    changes = _with_decimals(payload.model_dump(exclude_unset=True))
    for name in ("skills", "tags"):
        if name in changes and changes[name] is None:
            changes[name] = []
    for name in ("body", "impact", "metric_unit"):
        if name in changes and changes[name] is None:
            changes[name] = ""
    for name in ("confidential", "outcome_pending"):
        if name in changes and changes[name] is None:
            raise ValidationFailed(f"`{name}` is true or false, not null.", field=name)
    services.entry_update(entry=entry, actor=request.user, **changes)
    return selectors.entry_get(tenant=entry.tenant, pk=entry.pk)


@router.delete("/entries/{id}/", response={204: None})
def entry_delete(request, id: int):
    services.entry_delete(entry=_entry(request, id), actor=request.user)
    return Status(204, None)


@router.post("/entries/{id}/restore/", response=EntryOut)
def entry_restore(request, id: int):
    """Undo a delete (deleted entries are kept for 30 days)."""
    tenant = require_tenant(request)
    entry = selectors.entry_get(tenant=tenant, pk=id, include_deleted=True)
    services.entry_restore(entry=entry, actor=request.user)
    return selectors.entry_get(tenant=tenant, pk=entry.pk)


@router.get("/employers/", response=list[EmployerOut])
def employer_list(request):
    return selectors.employer_list(tenant=require_tenant(request))


@router.get("/projects/", response=list[ProjectOut])
def project_list(request):
    return selectors.project_list(tenant=require_tenant(request))


@router.get("/skills/", response=list[SkillOut])
def skill_list(request):
    return selectors.skill_list(tenant=require_tenant(request))


@router.get("/tags/", response=list[TagOut])
def tag_list(request):
    return selectors.tag_list(tenant=require_tenant(request))
