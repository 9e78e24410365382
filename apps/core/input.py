"""What the database can keep, checked once at the door for every request.

PostgreSQL text cannot hold a NUL character, and text with an unpaired UTF-16 surrogate (JSON's
"\\ud800") cannot even be encoded to UTF-8 to send it there. Rather than each field, form and endpoint
learning this (and a forgotten one answering 500), the request is checked before any view runs:

- `RequestInputMiddleware` (apps/core/middleware.py) checks the path, the query string and form fields,
  and turns an unreadable request (a multipart body without a boundary, too many fields, a body over
  `DATA_UPLOAD_MAX_MEMORY_SIZE`) into a 400 or 413;
- the API's `JsonBodyParser` (apps/core/apicontract.py) checks every key and string of a JSON body, and its
  nesting depth.

Both raise `InputRejected`, an `ApplicationError`, so the API answers `{"message", "extra"}` and pages
show the styled error page with the same message.
"""

import re
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import UnreadablePostError
from django.http.multipartparser import MultiPartParserError

from apps.core.errors import ApplicationError

# NUL, and the surrogate code points that only exist as halves of a UTF-16 pair.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_LABELS = {"query": "query parameter", "form": "form field", "body": "field"}
# JSON bodies of this API are flat objects with short lists; anything deeper is not a request we expect.
MAX_JSON_DEPTH = 32


class InputRejected(ApplicationError):
    """The request itself cannot be read or kept (before any field is looked at)."""

    status_code = 400

    def __init__(self, message: str, *, status: int = 400, field: str | None = None, location: str = ""):
        extra = {"location": location} if location else {}
        super().__init__(message, extra=extra, field=field)
        self.status_code = status


def describe(character: str) -> str:
    if character == "\x00":
        return "a NUL character (\\x00)"
    return f"an unpaired surrogate (\\u{ord(character):04x})"


def unstorable(text: str) -> str | None:
    """The first character of `text` the database cannot keep, or None."""
    match = UNSTORABLE.search(text)
    return match.group() if match else None


def check_text(text: str, *, field: str, location: str) -> None:
    bad = unstorable(text)
    if bad is not None:
        label = _LABELS.get(location, location)
        where = f"The {label} “{_printable(field)}”" if field else f"The {label}"
        raise InputRejected(
            f"{where} contains {describe(bad)}, which cannot be stored. Remove it and try again.",
            field=_printable(field) or None,
            location=location,
        )


def check_pairs(pairs: Iterable[tuple[str, list]], *, location: str) -> None:
    """Every name and every text value of a query string or form (`QueryDict.lists()`)."""
    for name, values in pairs:
        check_text(name, field="", location=f"{location} parameter name")
        for value in values:
            text = value if isinstance(value, str) else getattr(value, "name", "") or ""
            check_text(text, field=name, location=location)


def check_json_document(document) -> None:
    """Every key and string of a parsed JSON document, walked without recursion; depth is bounded."""
    stack: list[tuple[object, str, int]] = [(document, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise InputRejected(
                f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep; send a flatter document.",
                location="body",
            )
        if isinstance(value, str):
            check_text(value, field=path, location="body")
        elif isinstance(value, dict):
            for key, item in value.items():
                check_text(key, field=path, location="body")
                stack.append((item, f"{path}.{key}" if path else key, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{index}]", depth + 1) for index, item in enumerate(value))


_ID = re.compile(r"[0-9]{1,18}")


def parse_id(value: str | None) -> int | None:
    """A row id from a query string or form: ASCII digits that fit a 64-bit key, else None.

    `str.isdigit()` is not enough: it accepts "²" and other digits `int()` refuses, and any length.
    """
    return int(value) if value and _ID.fullmatch(value) else None


def _printable(name: str) -> str:
    """A field name fit for a message: the unstorable characters shown as escapes."""
    return UNSTORABLE.sub(lambda match: match.group().encode("unicode_escape").decode(), name)[:100]


# ------------------------------------------------------------------------------------------- requests

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def check_request(request) -> None:
    """Raise `InputRejected` for a request no view should see: unreadable, too large, or unstorable text.

    Reads the query string and, for a form POST, the form (as CSRF protection would anyway), so that the
    errors Django raises while parsing them surface here as a clear 400/413 instead of inside a view.
    """
    check_text(request.path_info, field="", location="address")
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared and not re.fullmatch(r"\s*[0-9]{1,18}\s*", declared):
        raise InputRejected("The Content-Length header is not a number.", location="headers")
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if declared and limit is not None and int(declared) > limit and request.content_type != FORM_TYPES[1]:
        raise body_too_large(limit)
    try:
        check_pairs(request.GET.lists(), location="query")
    except TooManyFieldsSent as exc:
        raise InputRejected(
            f"The query string has more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,} parameters.",
            location="query",
        ) from exc
    if request.method != "POST" or request.content_type not in FORM_TYPES:
        return
    try:
        form, files = request.POST, request.FILES
    except RequestDataTooBig as exc:
        raise body_too_large(limit) from exc
    except (TooManyFieldsSent, TooManyFilesSent) as exc:
        raise InputRejected(
            "The form has too many fields or files; send fewer at a time.", location="form"
        ) from exc
    except MultiPartParserError as exc:
        raise InputRejected(
            f"The form data could not be read ({exc}); send it as multipart/form-data with a boundary.",
            location="form",
        ) from exc
    except (BadRequest, SuspiciousOperation, UnreadablePostError) as exc:
        raise InputRejected(f"The form data could not be read ({exc}).", location="form") from exc
    check_pairs(form.lists(), location="form")
    check_pairs(files.lists(), location="form")


def body_too_large(limit: int | None) -> InputRejected:
    size = f" (the limit is {limit / (1024 * 1024):.1f} MB)" if limit else ""
    return InputRejected(
        f"The request body is too large{size}; send less at once.", status=413, location="body"
    )
