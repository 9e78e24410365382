"""The timeline page at the ends of the calendar, in any time zone, and with cursors we never gave out."""

import re
from datetime import date

import pytest

from apps.worklog import services


@pytest.fixture
def logged(alice, tenant):
    return services.entry_create(
        tenant=tenant, author=alice, title="Shipped it", occurred_on=date(2025, 3, 1)
    )


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "Etc/GMT+12"])
@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("since=0001-01-01", True),
        ("until=9999-12-31", True),
        ("since=0001-01-01&until=9999-12-31", True),
        ("since=9999-12-31", False),
        ("until=0001-01-01", False),
    ],
)
def test_it_filters_the_timeline_at_the_ends_of_the_calendar(alice_client, alice, logged, zone, query, shown):
    alice.time_zone = zone
    alice.save(update_fields=["time_zone"])
    response = alice_client.get(f"/log/?{query}")
    assert response.status_code == 200
    assert ("Shipped it" in response.content.decode()) is shown


@pytest.mark.parametrize(
    "cursor",
    [
        "!!!!",
        "eyJvIjo5OTk5OTk5OTk5OTk5OTk5OTk5OTk5fQ",  # {"o": 10**23}
        "eyJkIjoiMjAyNS0wMi0wMSIsImkiOjk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OX0",  # {"d": ..., "i": 10**23}
        "eyJkIjoiMjAyNS0wMi0zMCIsImkiOjF9",  # February 30th
        "x" * 500,
    ],
)
@pytest.mark.parametrize("search", ["", "&q=shipped"])
def test_it_answers_a_foreign_cursor_with_the_first_page_and_a_message(alice_client, logged, cursor, search):
    response = alice_client.get(f"/log/?cursor={cursor}{search}")
    assert response.status_code == 400
    page = re.sub(r"<[^>]+>", "", response.content.decode())  # search results highlight the words
    assert "start again" in page
    assert "Shipped it" in page
