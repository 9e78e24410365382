"""The one NinjaAPI, mounted at /api/. Each app adds its router here.

Errors are `{"message", "extra"}` with a 4xx, whatever the cause (apps/core/apicontract.py documents
them in the schema; apps/core/responses.py covers what happens outside an operation).
"""

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import Http404, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.http.request import RawPostDataException
from ninja import NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from apps.accounts.auth import BearerTokenAuth, SessionCookieAuth, has_authorization_header
from apps.core.apicontract import JsonBodyParser, document_error_responses
from apps.core.errors import ApplicationError
from apps.core.input import body_too_large


class AfterResumeAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return document_error_responses(schema)


api = AfterResumeAPI(
    title="AfterResume API",
    version="1",
    auth=[BearerTokenAuth(), SessionCookieAuth()],
    parser=JsonBodyParser(),
    urls_namespace="api",
    docs_url="/docs",
)


def _error(request, message: str, status: int, extra: dict | None = None):
    return api.create_response(request, {"message": message, "extra": extra or {}}, status=status)


@api.exception_handler(ApplicationError)
def on_application_error(request, exc: ApplicationError):
    extra = dict(exc.extra)
    if exc.field:
        extra.setdefault("field", exc.field)
    return _error(request, exc.message, exc.status_code, extra)


@api.exception_handler(Http404)
def on_not_found(request, exc: Http404):
    return _error(request, str(exc) or "Not found.", 404)


def _where(error: dict) -> str:
    # ("body", "payload", "title") -> "title"; ("query", "limit") -> "limit"
    parts = [str(part) for part in error.get("loc", ())[1:] if part != "payload"]
    return ".".join(parts) or str(error.get("loc", ("request",))[0])


@api.exception_handler(NinjaValidationError)
def on_validation_error(request, exc: NinjaValidationError):
    first = exc.errors[0] if exc.errors else {}
    detail = f": {_where(first)} ({first.get('msg', 'invalid')})" if first else ""
    more = f" and {len(exc.errors) - 1} more" if len(exc.errors) > 1 else ""
    return _error(request, f"The request has invalid fields{detail}{more}.", 422, {"errors": exc.errors})


@api.exception_handler(AuthenticationError)
def on_authentication_error(request, exc):
    if has_authorization_header(request):
        message = (
            "That token is not valid: check it was copied whole, that it is not revoked, and that its owner "
            "is still in the workspace. Send it as Authorization: Bearer <token>."
        )
    else:
        message = "Sign in, or send a valid token, to use this endpoint."
    response = _error(request, message, 401)
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    # ninja wraps what the body parser raises ("Cannot parse request body"); say what the parser said.
    if isinstance(exc.__cause__, ApplicationError):
        return on_application_error(request, exc.__cause__)
    return _error(request, str(exc), exc.status_code)


# Django refuses some requests while the body is read; in the API they are 4xx like any bad input.
@api.exception_handler(RequestDataTooBig)
def on_body_too_large(request, exc):
    return on_application_error(request, body_too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE))


@api.exception_handler(RawPostDataException)
def on_body_already_read(request, exc):
    return _error(request, "Send the body as JSON with Content-Type: application/json.", 415)


@api.exception_handler(TooManyFieldsSent)
@api.exception_handler(TooManyFilesSent)
@api.exception_handler(MultiPartParserError)
@api.exception_handler(BadRequest)
@api.exception_handler(SuspiciousOperation)
@api.exception_handler(UnreadablePostError)
def on_unreadable_request(request, exc):
    return _error(request, f"The request could not be read ({exc}).", 400)


class HealthOut(Schema):
    status: str


class ReadyOut(Schema):
    status: str
    checks: dict[str, str]


class TenantOut(Schema):
    slug: str
    name: str


class MeOut(Schema):
    email: str
    is_staff: bool
    tenant: TenantOut | None


@api.get("/healthz/", auth=None, response=HealthOut, tags=["system"])
def healthz(request):
    return {"status": "ok"}


@api.get("/readyz/", auth=None, response={200: ReadyOut, 503: ReadyOut}, tags=["system"])
def readyz(request):
    # The same checks as the staff system page (apps/metrics/health.py): the database and the job broker.
    from apps.metrics.health import readiness

    checks = readiness()
    ready = all(value == "ok" for value in checks.values())
    return Status(200 if ready else 503, {"status": "ok" if ready else "unavailable", "checks": checks})


@api.get("/me/", response=MeOut, tags=["accounts"])
def me(request):
    tenant = request.tenant
    return {
        "email": request.user.email,
        "is_staff": request.user.is_staff,
        "tenant": {"slug": tenant.slug, "name": tenant.name} if tenant else None,
    }


def _add_app_routers() -> None:
    from apps.assist.api import router as assist_router
    from apps.billing.api import router as billing_router
    from apps.billing.staff_api import profile_router as billing_profile_router
    from apps.billing.staff_api import staff_router as billing_staff_router
    from apps.billing.staff_api import status_router
    from apps.core.api import router as jobs_router
    from apps.metrics.api import router as metrics_costs_router
    from apps.notifications.api import router as notifications_router
    from apps.reporting.api import router as reports_router
    from apps.worklog.api import router as worklog_router

    api.add_router("/worklog/", worklog_router)
    api.add_router("/worklog/", assist_router)  # entry enhancement: entries/{id}/improve/, suggestions/
    api.add_router("/billing/", billing_router)
    api.add_router("/jobs/", jobs_router)
    api.add_router("/reports/", reports_router)
    api.add_router("/notifications/", notifications_router)
    # Operators' staff API (404 for everyone else), the workspace's billing profile, the status bar.
    api.add_router("/billing/", billing_staff_router)
    api.add_router("/billing/", metrics_costs_router)  # admin/usage/costs/: needs metrics' model costs
    api.add_router("/billing/", billing_profile_router)
    api.add_router("/status/", status_router)


_add_app_routers()
