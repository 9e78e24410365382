"""Entry enhancement API, mounted at /api/worklog/ beside the work-log router (the paths of the contract).

`POST /entries/{id}/improve/` -> 202 {"job_id", "estimate_micros"} (402 when the reserve's policy cannot
cover the estimate; nothing is sent). The finished job's `result` (GET /api/jobs/{id}/) holds
`suggestion_ids`. `GET /suggestions/{id}/`, `POST /suggestions/{id}/accept/` (body {"fields": [names]},
default every unflagged field) and `POST /suggestions/{id}/reject/`. Another workspace's entry or
suggestion is a 404.
"""

import pydantic
from django.urls import reverse
from ninja import Router, Status
from ninja.errors import ValidationError as NinjaValidationError

from apps.assist import selectors, services
from apps.assist.schemas import AcceptIn, ImproveOut, SuggestionOut
from apps.core.apicontract import JsonBodyParser
from apps.core.tenancy import require_tenant
from apps.worklog.selectors import entry_get

router = Router(tags=["assist"])


def suggestion_out(suggestion) -> dict:
    return {
        "id": suggestion.pk,
        "entry_id": suggestion.entry_id,
        "fields": [
            {
                "name": item["name"],
                "original": item["original"],
                "proposed": item["proposed"],
                "flags": item["flags"],
            }
            for item in suggestion.fields
        ],
        "skills": list(suggestion.skills),
        "status": suggestion.status,
        "provider": suggestion.provider,
        "model": suggestion.model,
        "drafted_without_ai": suggestion.drafted_without_ai,
        "cost_micros": suggestion.cost_micros,
        "accepted_skills": list(suggestion.accepted_skills),
    }


@router.post("/entries/{id}/improve/", response={202: ImproveOut})
def entry_improve(request, id: int):
    """Start drafting a suggestion for the entry. The cost is estimated first and held per call."""
    tenant = require_tenant(request)
    entry = entry_get(tenant=tenant, pk=id)
    job, plan = services.improve_start(
        tenant=tenant,
        user=request.user,
        entries=[entry],
        next_url=reverse("worklog_entry_detail", args=[entry.pk]),
    )
    return Status(202, {"job_id": job.pk, "estimate_micros": plan.estimate_micros})


@router.get("/suggestions/{id}/", response=SuggestionOut)
def suggestion_detail(request, id: int):
    return suggestion_out(selectors.suggestion_get(tenant=require_tenant(request), pk=id))


def _accept_payload(request) -> AcceptIn:
    """The body is optional (no body: every unflagged field); when sent, it is read as strictly as any."""
    if not request.body.strip():
        return AcceptIn()
    data = JsonBodyParser().parse_body(request)
    try:
        return AcceptIn.model_validate(data)
    except pydantic.ValidationError as exc:
        errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors(include_url=False)]
        raise NinjaValidationError(errors) from exc


ACCEPT_BODY = {
    "requestBody": {
        "required": False,
        "content": {"application/json": {"schema": AcceptIn.model_json_schema()}},
    }
}


@router.post("/suggestions/{id}/accept/", response=SuggestionOut, openapi_extra=ACCEPT_BODY)
def suggestion_accept(request, id: int):
    """Apply the chosen fields to the entry (its previous text is kept as a version).

    Body {"fields": [names]} (default: every field without flags); optional "edits", "confirm_flagged"
    and "skills"."""
    suggestion = selectors.suggestion_get(tenant=require_tenant(request), pk=id)
    payload = _accept_payload(request)
    accepted = services.suggestion_accept(
        suggestion=suggestion,
        actor=request.user,
        fields=payload.fields,
        edits=payload.edits,
        confirm_flagged=payload.confirm_flagged,
        skills=payload.skills,
    )
    return suggestion_out(accepted)


@router.post("/suggestions/{id}/reject/", response=SuggestionOut)
def suggestion_reject(request, id: int):
    suggestion = selectors.suggestion_get(tenant=require_tenant(request), pk=id)
    return suggestion_out(services.suggestion_reject(suggestion=suggestion, actor=request.user))
