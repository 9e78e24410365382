"""Error answers in the shape the caller expects: `{"message", "extra"}` under /api/, a styled page elsewhere.

The API's own errors are rendered by its exception handlers (afterresume/api.py). What happens outside
an operation (an unknown /api/ path, a method the path does not take, a request Django refuses before
any view, a crash) is answered by Django or ninja as HTML or plain text; `api_error_as_json` turns
those into the API's shape, so every /api/ error a client can meet is JSON.
"""

import json

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render

API_PREFIX = "/api/"

_API_MESSAGES = {
    400: "The request could not be read.",
    401: "Sign in, or send a valid token, to use this endpoint.",
    403: "You are not allowed to do that.",
    404: "There is no API endpoint at this address.",
    413: "The request body is too large.",
    500: "Something went wrong on our side. It has been logged; please try again.",
}


def is_htmx(request) -> bool:
    """An HTMX request for a fragment. A history restore (Back after the page was evicted from htmx's
    cache) asks for the whole page, so it is not one."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def is_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


def api_error(message: str, *, status: int, extra: dict | None = None) -> JsonResponse:
    return JsonResponse({"message": message, "extra": extra or {}}, status=status)


def error_response(request, message: str, *, status: int, extra: dict | None = None) -> HttpResponse:
    """The error as the API's JSON for /api/, as the styled error page for everything else."""
    if is_api(request):
        return api_error(message, status=status, extra=extra)
    return render(request, "400.html", {"message": message, "status": status}, status=status)


@login_not_required
def bad_request(request, exception=None):
    """handler400: a request Django refused (unreadable form data, a suspicious header or body)."""
    return error_response(request, _API_MESSAGES[400], status=400)


def _is_json(response) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip().endswith("json")


def api_error_as_json(request, response):
    """An /api/ error that is not JSON yet, answered as `{"message", "extra"}` with the same status."""
    if response.status_code < 400 or _is_json(response):
        return response
    status = response.status_code
    extra: dict = {}
    if status == 405:
        allowed = [method.strip() for method in response.get("Allow", "").split(",") if method.strip()]
        message = f"{request.method} is not allowed here; use {' or '.join(allowed) or 'another method'}."
        extra["allowed"] = allowed
    else:
        message = _API_MESSAGES.get(status) or _API_MESSAGES[400 if status < 500 else 500]
    if status >= 500:
        extra["request_id"] = getattr(request, "request_id", "")
    converted = HttpResponse(
        json.dumps({"message": message, "extra": extra}), status=status, content_type="application/json"
    )
    for header in ("Allow", "Retry-After", "WWW-Authenticate"):
        if header in response:
            converted[header] = response[header]
    return converted
