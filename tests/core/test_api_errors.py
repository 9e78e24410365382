"""The API's 4xx contract: whatever is wrong with a request, the answer is `{"message", "extra"}` with a
4xx, with DEBUG on or off, and nothing is written. Before this contract, these requests answered 500
(NUL on PostgreSQL, bodies over the limit with DEBUG on), 404/405 as HTML, or "Cannot parse request body"."""

import json

import pytest

from apps.accounts import services as account_services
from apps.worklog.models import Entry
from tests.worklog.conftest import bearer

ENTRIES = "/api/worklog/entries/"


@pytest.fixture
def alice_token(alice, tenant) -> str:
    return account_services.access_token_create(user=alice, tenant=tenant, name="cli")[1]


def assert_api_error(response, status):
    assert response.status_code == status, response.content[:400]
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert set(body) == {"message", "extra"} and isinstance(body["extra"], dict)
    assert body["message"] and "Traceback" not in body["message"]
    return body


BAD_BODIES = [
    # (body, content type, status, words the message must use)
    ('{"title": "a\\u0000b"}', "application/json", 400, "NUL character"),
    ('{"title": "ok", "skills": ["Go", "\\u0000"]}', "application/json", 400, "“skills[1]”"),
    ('{"title": "ok", "tags": {"\\u0000": 1}}', "application/json", 400, "NUL character"),
    ('{"title": "a\\ud800b"}', "application/json", 400, "unpaired surrogate"),
    ('{"title": "ok"', "application/json", 400, "not valid JSON"),
    ('{"title": NaN}', "application/json", 400, "not valid JSON"),
    (b'{"title": "caf\xe9"}', "application/json", 400, "not valid UTF-8"),
    ("[" * 50_000 + "]" * 50_000, "application/json", 400, "nested too deeply"),
    ('{"title": ' + "[" * 100 + "]" * 100 + "}", "application/json", 400, "nested more than"),
    ("[1, 2]", "application/json", 400, "not an array"),
    ("42", "application/json", 400, "not a number"),
    ('"title"', "application/json", 400, "not a string"),
    ("title=Shipped", "application/x-www-form-urlencoded", 415, "Content-Type: application/json"),
    ('{"title": "ok"}', "text/plain", 415, "Content-Type: application/json"),
    ("title=Shipped", "multipart/form-data", 400, "boundary"),
]


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "production"])
@pytest.mark.parametrize(("body", "content_type", "status", "says"), BAD_BODIES)
def test_it_answers_every_malformed_body_with_a_json_4xx(
    client, alice_token, settings, debug, body, content_type, status, says
):
    settings.DEBUG = debug
    response = client.post(ENTRIES, data=body, content_type=content_type, **bearer(alice_token))
    assert says in assert_api_error(response, status)["message"]
    assert not Entry.objects.exists()


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "production"])
def test_it_answers_a_body_over_the_size_limit_with_a_json_413(client, alice_token, settings, debug):
    settings.DEBUG = debug
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    payload = json.dumps({"title": "x", "body": "y" * 20_000})
    response = client.post(ENTRIES, data=payload, content_type="application/json", **bearer(alice_token))
    assert "too large" in assert_api_error(response, 413)["message"]


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "production"])
def test_it_answers_a_nul_in_the_query_string_with_a_json_400(client, alice_token, settings, debug):
    settings.DEBUG = debug
    for query in ("q=%00", "employer=%00", "cursor=%00"):
        body = assert_api_error(client.get(f"{ENTRIES}?{query}", **bearer(alice_token)), 400)
        assert body["extra"]["location"] == "query"


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "production"])
def test_it_answers_too_many_query_parameters_with_a_json_400(client, alice_token, settings, debug):
    settings.DEBUG = debug
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    query = "&".join(f"p{number}=1" for number in range(10))
    assert_api_error(client.get(f"{ENTRIES}?{query}", **bearer(alice_token)), 400)


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "production"])
def test_it_answers_unknown_api_paths_with_json_404(client, alice_token, settings, debug):
    settings.DEBUG = debug
    for path in ("/api/nope/", "/api/worklog/nope/", "/api/worklog/entries/1/nope/"):
        assert_api_error(client.get(path, **bearer(alice_token)), 404)


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "production"])
def test_it_answers_wrong_methods_with_json_405_and_the_allowed_ones(client, alice_token, settings, debug):
    settings.DEBUG = debug
    response = client.put(ENTRIES, data="{}", content_type="application/json", **bearer(alice_token))
    body = assert_api_error(response, 405)
    assert set(body["extra"]["allowed"]) == {"GET", "POST"}
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_it_names_the_field_of_a_schema_mismatch_in_the_message(client, alice_token):
    response = client.post(
        ENTRIES, data=json.dumps({"title": "x" * 201}), content_type="application/json", **bearer(alice_token)
    )
    body = assert_api_error(response, 422)
    assert body["message"].startswith("The request has invalid fields: title (")
    assert body["extra"]["errors"][0]["loc"] == ["body", "payload", "title"]


def test_it_turns_any_html_error_under_the_api_into_the_json_shape(rf):
    """The safety net for what happens outside an operation (Django's own 400/404/500 pages)."""
    from django.http import HttpResponseServerError

    from apps.core.responses import api_error_as_json

    request = rf.get("/api/worklog/entries/")
    request.request_id = "req-12345678"
    converted = api_error_as_json(request, HttpResponseServerError("<h1>Server Error</h1>"))
    body = assert_api_error(converted, 500)
    assert body["extra"] == {"request_id": "req-12345678"}
