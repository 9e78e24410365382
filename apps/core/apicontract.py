"""The API's side of the 4xx contract: how JSON bodies are read, and how errors are documented.

Every error the API gives is `{"message": "...", "extra": {...}}` with a 4xx status. `JsonBodyParser`
reads request bodies strictly (JSON objects only, UTF-8, bounded depth, nothing the database cannot
store) and `document_error_responses` writes the errors each operation can give into the OpenAPI
schema, from the same rules the code follows, so the schema and the behaviour agree.
"""

import json
import re
from datetime import date
from typing import Annotated

from ninja import Field, Schema
from ninja.parser import Parser
from pydantic import BeforeValidator

from apps.core.input import InputRejected, check_json_document

JSON_TYPES = ("application/json",)


# An operation that can refuse for money declares `402: ErrorOut` in its `response`; the common 4xx are
# added to every operation by `document_error_responses` below.
class ErrorOut(Schema):
    """Every error the API gives: a message for a person, and details for programs."""

    message: str = Field(description="What went wrong and what to do, for a person.")
    extra: dict = Field(description="Details for programs: `field`, `location`, `errors`, limits, amounts.")


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date_only(value):
    # Pydantic's lax dates also take numbers as Unix timestamps ("0.0" is 1970-01-01); the schema says
    # YYYY-MM-DD, so that is all an input date accepts.
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return value
    raise ValueError("Use a date as YYYY-MM-DD.")


# Every date an API request carries (bodies and query strings).
IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]


def _is_json_type(content_type: str) -> bool:
    if content_type in JSON_TYPES:
        return True
    return content_type.startswith("application/") and content_type.endswith("+json")


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


class JsonBodyParser(Parser):
    """A JSON object in UTF-8, with every key and string storable (see apps/core/input.py)."""

    def parse_body(self, request):
        if not _is_json_type(request.content_type or ""):
            sent = request.content_type or "no Content-Type"
            raise InputRejected(
                f"Send the body as JSON with Content-Type: application/json (this request sent {sent}).",
                status=415,
                location="headers",
            )
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputRejected(
                f"The body is not valid UTF-8 (byte {exc.start} cannot be read).", location="body"
            ) from exc
        try:
            document = json.loads(text, parse_constant=_refuse_constant)
        except RecursionError as exc:
            raise InputRejected("The JSON body is nested too deeply to read.", location="body") from exc
        except json.JSONDecodeError as exc:
            raise InputRejected(
                f"The body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).",
                location="body",
            ) from exc
        except ValueError as exc:
            raise InputRejected(f"The body is not valid JSON: {exc}.", location="body") from exc
        if not isinstance(document, dict):
            kind = _json_kind(document)
            raise InputRejected(f"Send the body as a JSON object ({{...}}), not {kind}.", location="body")
        check_json_document(document)
        return document


def _json_kind(value) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


# ------------------------------------------------------------------------------------- documentation

ERROR_SCHEMA_NAME = ErrorOut.__name__
ERROR_DESCRIPTIONS = {
    400: "Bad input: a value the service refuses, or a request that cannot be read or stored "
    "(a NUL character, malformed JSON or form data, a bad cursor). `extra.field` names the field.",
    401: "No valid credentials: sign in, or send `Authorization: Bearer <token>` with an active token.",
    402: "The reserve cannot pay for this work; `extra` has `needed_micros` and `available_micros`.",
    403: "Not allowed: a session write without the CSRF header, or an action your role cannot take.",
    404: "Not found, in your workspace (another workspace's object is a 404 too), or you have no workspace.",
    409: "Conflicts with the current state (a duplicate, an object that changed, a repeated key).",
    413: "The request body is larger than the server accepts.",
    415: "The body is not JSON: send `Content-Type: application/json`.",
    422: "A field or parameter does not match this schema; `extra.errors` lists each with its location.",
}
UNSAFE_METHODS = {"post", "put", "patch", "delete"}
HTTP_METHODS = UNSAFE_METHODS | {"get", "head", "options", "trace"}


def operation_error_statuses(method: str, operation: dict) -> set[int]:
    """The 4xx statuses an operation can answer with, by the rules of this API."""
    statuses = {400}  # RequestInputMiddleware refuses unstorable query strings on every path
    if operation.get("security"):
        statuses |= {401, 403, 404}
    if operation.get("parameters") or "requestBody" in operation:
        statuses.add(422)
    if "requestBody" in operation:
        statuses |= {413, 415}
    if method in UNSAFE_METHODS and operation.get("security"):
        statuses.add(409)
    if any(parameter.get("in") == "path" for parameter in operation.get("parameters", [])):
        statuses.add(404)
    return statuses


def document_error_responses(schema: dict) -> dict:
    """Add the shared error schema and every operation's 4xx responses (those it does not declare)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault(ERROR_SCHEMA_NAME, ErrorOut.model_json_schema())
    reference = {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}
    for path_item in schema.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            declared = {str(status) for status in responses}
            for status in sorted(operation_error_statuses(method, operation)):
                if str(status) in declared:
                    continue
                responses[status] = {
                    "description": ERROR_DESCRIPTIONS[status],
                    "content": {"application/json": {"schema": reference}},
                }
    return schema
