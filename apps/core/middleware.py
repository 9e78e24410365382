import re
import uuid
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme

from apps.core.input import InputRejected, check_request
from apps.core.logging import reset_request_id, set_request_id
from apps.core.responses import api_error_as_json, error_response, is_api

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Give every request an id (the caller's X-Request-ID if sane), for logs, events and the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = set_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            reset_request_id(token)
        response["X-Request-ID"] = request_id
        return response


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        return response


class RequestInputMiddleware:
    """Refuse, before any view, what cannot be read or stored; answer every /api/ error as JSON.

    See apps/core/input.py for the rules. Sits early (after the request id and security headers) so the
    session, authentication and CSRF middleware never meet a request they would fail on.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            check_request(request)
        except InputRejected as exc:
            extra = dict(exc.extra)
            if exc.field:
                extra["field"] = exc.field
            response = error_response(request, exc.message, status=exc.status_code, extra=extra)
        else:
            response = self.get_response(request)
        if is_api(request):
            response = api_error_as_json(request, response)
        return response


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Django's sign-in requirement, and one thing more for HTMX.

    A fragment request (a poll, a "load more") from a page whose session has ended would follow the redirect
    and swap the login page into the fragment. It swaps nothing instead (`HX-Reswap: none`), so what the
    person typed stays on the page, and shows a notice with a link to sign in and come back to this page;
    `HX-Trigger: signed-out` lets pollers stop.
    """

    def handle_no_permission(self, request, view_func):
        if request.headers.get("HX-Request") != "true":
            return super().handle_no_permission(request, view_func)
        page = request.headers.get("HX-Current-URL", "")
        if page and url_has_allowed_host_and_scheme(page, allowed_hosts={request.get_host()}):
            parts = urlsplit(page)
            back = urlunsplit(("", "", parts.path or "/", parts.query, ""))
        else:
            back = request.get_full_path()
        login_url = resolve_url(self.get_login_url(view_func))
        login = redirect_to_login(back, login_url, self.get_redirect_field_name(view_func))
        response = render(request, "core/partials/_signed_out.html", {"login_url": login["Location"]})
        response["HX-Reswap"] = "none"
        response["HX-Trigger"] = "signed-out"
        return response
