"""The one NinjaAPI, mounted at /api/. Each app adds its router here."""

from django.db import connection
from django.http import Http404
from ninja import NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import django_auth

from apps.accounts.auth import BearerTokenAuth
from apps.core.errors import ApplicationError
from apps.core.queue import queue_ping

api = NinjaAPI(
    title="AfterResume API",
    version="1",
    auth=[BearerTokenAuth(), django_auth],
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


@api.exception_handler(NinjaValidationError)
def on_validation_error(request, exc: NinjaValidationError):
    return _error(request, "The request has invalid fields.", 422, {"errors": exc.errors})


@api.exception_handler(AuthenticationError)
def on_authentication_error(request, exc):
    return _error(request, "Sign in, or send a valid token, to use this endpoint.", 401)


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    return _error(request, str(exc), exc.status_code)


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
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        checks["queue"] = "ok" if queue_ping() else "error: no answer"
    except Exception as exc:
        checks["queue"] = f"error: {type(exc).__name__}"
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
    from apps.billing.api import router as billing_router
    from apps.worklog.api import router as worklog_router

    api.add_router("/worklog/", worklog_router)
    api.add_router("/billing/", billing_router)


_add_app_routers()
