"""Authentication for the staff API: a staff member's session or personal access token.

Anyone else who is signed in (or sends a valid token) gets a 404, as for staff pages: the operations
are not advertised. Without any credentials the answer is the API's usual 401, like every operation.
The CSRF check on session writes runs only once the caller is known to be staff.
"""

from django.http import Http404, HttpRequest

from apps.accounts.auth import BearerTokenAuth, SessionCookieAuth, has_authorization_header

NOT_FOUND = "Not found."


def _is_staff(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_staff and user.is_active)


class StaffBearerAuth(BearerTokenAuth):
    """`Authorization: Bearer <token>` of a staff member; another person's valid token is a 404."""

    def authenticate(self, request: HttpRequest, token: str):
        user = super().authenticate(request, token)
        if user is not None and not _is_staff(user):
            raise Http404(NOT_FOUND)
        return user


class StaffSessionAuth(SessionCookieAuth):
    """A staff member's signed-in session (with the CSRF check on writes); anyone else signed in: 404."""

    def __call__(self, request: HttpRequest):
        if has_authorization_header(request) or not request.user.is_authenticated:
            return None
        if not _is_staff(request.user):
            raise Http404(NOT_FOUND)
        return super().__call__(request)


STAFF_AUTH = [StaffBearerAuth(), StaffSessionAuth()]
