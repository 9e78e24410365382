import re
import uuid

from django.conf import settings

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
