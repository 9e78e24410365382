"""The one family of errors that services raise.

Every `ApplicationError` carries a message a person can act on and an HTTP status for the API.
Pages show the message as a form error or flash message; the API renders
`{"message": ..., "extra": {...}}` with the status.
"""

from typing import Any


class ApplicationError(Exception):
    status_code = 400

    def __init__(self, message: str, *, extra: dict[str, Any] | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}
        self.field = field


class ValidationFailed(ApplicationError):
    status_code = 400


class NotFound(ApplicationError):
    status_code = 404


class PermissionDenied(ApplicationError):
    status_code = 403


def require_staff(actor, message: str) -> None:
    """Refuse, with `message`, unless `actor` is a signed-in and active member of staff."""
    if actor is None or not (actor.is_authenticated and actor.is_staff and actor.is_active):
        raise PermissionDenied(message)


class Conflict(ApplicationError):
    status_code = 409
