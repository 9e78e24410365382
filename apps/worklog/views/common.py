"""Helpers the work-log views share: lookups that 404 across tenants, errors onto forms, HTMX bits."""

import json

from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string

from apps.core.errors import ApplicationError, NotFound
from apps.core.tenancy import require_tenant
from apps.worklog import selectors

UNDO_SESSION_KEY = "worklog_undo_entry"


def entry_or_404(request: HttpRequest, pk: int, *, include_deleted: bool = False):
    try:
        return selectors.entry_get(tenant=require_tenant(request), pk=pk, include_deleted=include_deleted)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def show_error(form, exc: ApplicationError) -> None:
    """Put a service error on the field it names, or on the form as a whole."""
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def toast_html(request: HttpRequest, message: str, *, link_url: str = "", link_label: str = "") -> str:
    """A toast that htmx appends to the page's toast area (out of band)."""
    context = {"message": message, "link_url": link_url, "link_label": link_label}
    return render_to_string("worklog/partials/_toast_oob.html", context, request=request)


def trigger(response: HttpResponse, events: dict) -> HttpResponse:
    response["HX-Trigger"] = json.dumps(events)
    return response
