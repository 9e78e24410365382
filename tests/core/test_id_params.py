"""Ids in query strings, forms and headers: only ASCII digits that fit a key are ids; anything else is
ignored or a 400, never a 500. `str.isdigit()` takes "²" and 5,000-digit numbers, which `int()` or the
database refuse."""

from datetime import date

import pytest

from apps.core.input import parse_id
from apps.worklog import services

SUPERSCRIPT_TWO = "\u00b2"
HUGE = "9" * 5000


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("42", 42),
        ("007", 7),
        ("9" * 18, int("9" * 18)),
        ("9" * 19, None),
        (HUGE, None),
        (SUPERSCRIPT_TWO, None),
        ("\u0663", None),  # ARABIC-INDIC DIGIT THREE
        ("-1", None),
        ("1.0", None),
        (" 1", None),
        ("", None),
        (None, None),
    ],
)
def test_it_parses_only_ascii_ids_that_fit_a_key(raw, parsed):
    assert parse_id(raw) == parsed


@pytest.fixture
def entry(alice, tenant):
    return services.entry_create(
        tenant=tenant, author=alice, title="Shipped it", occurred_on=date(2025, 3, 1)
    )


@pytest.fixture
def quiet_client(alice_client):
    alice_client.raise_request_exception = False
    return alice_client


@pytest.mark.parametrize("bad", [SUPERSCRIPT_TWO, HUGE])
def test_it_ignores_a_job_that_is_not_an_id_on_the_improve_panel(quiet_client, entry, bad):
    response = quiet_client.get(f"/improve/entries/{entry.pk}/panel/", {"job": bad})
    assert response.status_code == 200


@pytest.mark.parametrize("query", [{"job": SUPERSCRIPT_TWO}, {"job": HUGE}, {"skip": SUPERSCRIPT_TWO}])
def test_it_ignores_ids_that_are_not_ids_in_the_review_queue(quiet_client, query):
    assert quiet_client.get("/improve/review/", query).status_code == 200


def test_it_treats_a_selection_of_non_ids_as_nothing_chosen(quiet_client, entry):
    response = quiet_client.post("/improve/", {"entry": [SUPERSCRIPT_TWO, HUGE]})
    assert 400 <= response.status_code < 500
    assert "choose" in response.content.decode().lower()


def test_it_estimates_nothing_for_a_selection_of_non_ids(quiet_client, entry):
    response = quiet_client.post("/improve/estimate/", {"entry": [SUPERSCRIPT_TWO, HUGE]})
    assert response.status_code == 200
    assert "Tick the entries to improve." in response.content.decode()


@pytest.mark.parametrize("length", [SUPERSCRIPT_TWO, "9" * 19, "12abc"])
def test_it_answers_a_content_length_that_is_not_a_number_with_400(quiet_client, length):
    response = quiet_client.post(
        "/log/new/", data="title=x", content_type="application/x-www-form-urlencoded", CONTENT_LENGTH=length
    )
    assert response.status_code == 400
