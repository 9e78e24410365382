"""How the API knows who is calling: a personal access token, or the browser's session.

- A request with an `Authorization` header is a token request, whatever else it carries: the token is
  the only credential looked at (a missing, unknown or revoked token is a 401, never a fall back to the
  session cookie) and, as a token cannot be sent by a cross-site form, there is no CSRF check.
- A request without one is a session request: signed out is a 401; signed in, a write must pass the
  CSRF check (the `X-CSRFToken` header with the `csrftoken` cookie's value), or it is a 403.
"""

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from apps.accounts import services
from apps.core.errors import PermissionDenied

AUTHORIZATION = "Authorization"


def has_authorization_header(request: HttpRequest) -> bool:
    return AUTHORIZATION in request.headers


class BearerTokenAuth(HttpBearer):
    """`Authorization: Bearer <personal access token>`: acts as the token's user in the token's workspace."""

    def __call__(self, request: HttpRequest):
        scheme, _, token = request.headers.get(self.header, "").partition(" ")
        if scheme.lower() != self.openapi_scheme or not token.strip():
            return None
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str):
        access_token = services.access_token_authenticate(raw=token)
        if access_token is None:
            return None
        request.user = access_token.user
        request.tenant = access_token.tenant
        request.access_token = access_token
        return access_token.user


class CsrfCheckFailed(PermissionDenied):
    def __init__(self):
        super().__init__(
            "The CSRF check failed: send the X-CSRFToken header with the value of the csrftoken cookie, "
            "or use a personal access token (Authorization: Bearer …)."
        )


class SessionCookieAuth(SessionAuth):
    """The signed-in browser session, with Django's CSRF check on writes; never for token requests."""

    def __call__(self, request: HttpRequest):
        if has_authorization_header(request) or not request.user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request) is not None:
            raise CsrfCheckFailed()
        return request.user
