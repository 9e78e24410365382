"""Input the database cannot store, or a request that cannot be read, is refused at the door (pages).

On PostgreSQL a NUL in a query string or form field reaches the database and answers 500 without
RequestInputMiddleware; on SQLite it is silently stored. Either way these tests expect a 400.
"""

import pytest

from apps.core.input import MAX_JSON_DEPTH, InputRejected, check_json_document, unstorable
from apps.worklog.models import Entry


def assert_styled_400(response, *, status=400, says=""):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "AfterResume" in page and f"Error {status}" in page
    assert says in page


@pytest.mark.parametrize(
    "path",
    [
        "/log/?q=%00",
        "/log/?q=release%00notes",
        "/log/?employer=%00",
        "/log/?tag=a&tag=%00",
        "/log/?%00=x",
        "/log/skills/?q=%00",
        "/?next=%00",
        "/profile/?x=%00",
    ],
)
def test_it_refuses_a_nul_in_any_query_string_with_the_styled_page(alice_client, path):
    assert_styled_400(alice_client.get(path), says="NUL character")


def test_it_names_the_parameter_that_holds_the_nul(alice_client):
    assert_styled_400(alice_client.get("/log/?employer=ac%00me"), says="query parameter “employer”")


def test_it_refuses_a_nul_in_a_form_field_and_saves_nothing(alice_client):
    response = alice_client.post("/log/new/", {"title": "Shipped\x00it", "occurred_on": "2025-03-01"})
    assert_styled_400(response, says="form field “title”")
    assert not Entry.objects.exists()


@pytest.mark.parametrize("debug", [True, False])
def test_it_answers_multipart_without_a_boundary_with_a_400_page(alice_client, settings, debug):
    settings.DEBUG = debug
    response = alice_client.post("/log/new/", data="title=x", content_type="multipart/form-data")
    assert_styled_400(response, says="boundary")


@pytest.mark.parametrize("debug", [True, False])
def test_it_answers_a_form_over_the_size_limit_with_a_413_page(alice_client, settings, debug):
    settings.DEBUG = debug
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = alice_client.post(
        "/log/new/", data="title=" + "x" * 2000, content_type="application/x-www-form-urlencoded"
    )
    assert_styled_400(response, status=413, says="too large")


@pytest.mark.parametrize("debug", [True, False])
def test_it_answers_too_many_form_fields_with_a_400_page(alice_client, settings, debug):
    settings.DEBUG = debug
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    body = "&".join(f"field{number}=1" for number in range(20))
    response = alice_client.post("/log/new/", data=body, content_type="application/x-www-form-urlencoded")
    assert_styled_400(response, says="too many fields")


def test_it_answers_too_many_query_parameters_with_a_400_page(alice_client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    query = "&".join(f"p{number}=1" for number in range(20))
    assert_styled_400(alice_client.get(f"/log/?{query}"), says="more than 10 parameters")


def test_it_answers_a_content_length_that_is_not_a_number_with_a_400(alice_client):
    response = alice_client.post(
        "/log/new/", data="title=x", content_type="application/x-www-form-urlencoded", CONTENT_LENGTH="ten"
    )
    assert_styled_400(response, says="Content-Length")


def test_it_leaves_ordinary_forms_and_queries_alone(alice_client):
    assert alice_client.get("/log/?q=release notes&employer=Acme").status_code == 200
    response = alice_client.post("/log/new/", {"title": "Shipped it ✓", "occurred_on": "2025-03-01"})
    assert response.status_code == 302
    assert Entry.objects.get().title == "Shipped it ✓"


# ----------------------------------------------------------------------------- the rules themselves


@pytest.mark.parametrize(
    ("text", "found"), [("ok", None), ("a\x00b", "\x00"), ("\ud800", "\ud800"), ("😀", None)]
)
def test_it_finds_what_postgresql_text_cannot_hold(text, found):
    assert unstorable(text) == found


def test_it_walks_json_keys_values_and_lists_and_names_the_place():
    check_json_document({"title": "ok", "skills": ["Go", "SQL"], "nested": {"fine": [1, True, None]}})
    with pytest.raises(InputRejected) as bad_value:
        check_json_document({"skills": ["Go", "S\x00L"]})
    assert bad_value.value.field == "skills[1]"
    with pytest.raises(InputRejected) as bad_key:
        check_json_document({"extra": {"\udc00": 1}})
    assert "unpaired surrogate (\\udc00)" in bad_key.value.message


def test_it_bounds_json_depth_without_recursing():
    deep: list = []
    document = {"a": deep}
    for _ in range(10_000):  # far deeper than Python's recursion limit
        deep.append([])
        deep = deep[0]
    with pytest.raises(InputRejected) as too_deep:
        check_json_document(document)
    assert f"more than {MAX_JSON_DEPTH} levels" in too_deep.value.message
