"""Reports API at /api/reports/: create (202 with the job and the estimate), read, export, share, revoke.

Another workspace's report is a 404, like one that does not exist.
"""

from django.http import HttpResponse
from ninja import Router, Status

from apps.core.apicontract import ErrorOut
from apps.core.tenancy import require_tenant
from apps.reporting import selectors, services
from apps.reporting.schemas import ReportCreatedOut, ReportIn, ReportOut, ShareIn, ShareOut

router = Router(tags=["reports"])

EXPORT_RESPONSES = {
    "responses": {
        200: {
            "description": "The file: Markdown, PDF, Word (DOCX) or JSON Resume, as an attachment.",
            "content": {
                "text/markdown": {"schema": {"type": "string"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {
                    "schema": {"type": "string", "format": "binary"}
                },
                "application/json": {"schema": {"type": "object"}},
            },
        }
    }
}


def _report(request, report_id: int):
    return selectors.report_get(tenant=require_tenant(request), pk=report_id)


@router.post("/", response={202: ReportCreatedOut, 402: ErrorOut})
def report_create(request, payload: ReportIn):
    fields = payload.model_dump()
    if fields.get("sections") is not None:
        fields["sections"] = [dict(item) for item in fields["sections"]]
    report = services.report_create(tenant=require_tenant(request), user=request.user, **fields)
    return Status(202, {"id": report.pk, "job_id": report.job_id, "estimate_micros": report.estimate_micros})


@router.get("/{id}/", response=ReportOut)
def report_detail(request, id: int):
    return selectors.report_api(report=_report(request, id))


@router.get("/{id}/export/{format}/", response={402: ErrorOut}, openapi_extra=EXPORT_RESPONSES)
def report_export(request, id: int, format: str):
    exported = services.report_export(report=_report(request, id), fmt=format, user=request.user)
    response = HttpResponse(exported.content, content_type=exported.content_type)
    response["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@router.post("/{id}/share/", response=ShareOut)
def report_share(request, id: int, payload: ShareIn | None = None):
    expires = payload.expires_in_days if payload else None
    share = services.report_share_create(
        report=_report(request, id), user=request.user, expires_in_days=expires
    )
    return {"url": request.build_absolute_uri(services.share_url(share))}


@router.delete("/{id}/share/", response={204: None})
def report_share_revoke(request, id: int):
    services.report_share_revoke(report=_report(request, id), user=request.user)
    return Status(204, None)
