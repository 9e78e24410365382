from datetime import date, timedelta

import pytest

from apps.core.errors import NotFound, ValidationFailed
from apps.worklog import selectors, services
from apps.worklog.selectors import EntryFilters


def titles(page):
    return [entry.title for entry in page.items]


def test_it_lists_newest_first_and_hides_deleted_and_other_workspaces(
    make_entry, alice, charlie, other_tenant, tenant
):
    make_entry("older", occurred_on=date(2025, 1, 1))
    newer = make_entry("newer", occurred_on=date(2025, 2, 1))
    gone = make_entry("gone", occurred_on=date(2025, 3, 1))
    services.entry_delete(entry=gone, actor=alice)
    make_entry("charlie's", owner=charlie, workspace=other_tenant)
    assert [entry.title for entry in selectors.entry_list(tenant=tenant)] == ["newer", "older"]
    assert selectors.entry_list(tenant=None).count() == 0
    with pytest.raises(NotFound):
        selectors.entry_get(tenant=other_tenant, pk=newer.pk)
    with pytest.raises(NotFound):
        selectors.entry_get(tenant=tenant, pk=gone.pk)
    assert selectors.entry_get(tenant=tenant, pk=gone.pk, include_deleted=True) == gone


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (EntryFilters(since=date(2025, 2, 1)), ["march", "feb"]),
        (EntryFilters(until=date(2025, 2, 1)), ["feb", "jan"]),
        (EntryFilters(employer="ACME"), ["march", "jan"]),
        (EntryFilters(project="atlas"), ["jan"]),
        (EntryFilters(skill="js"), ["feb"]),
        (EntryFilters(tag="#Launch"), ["march"]),
        (EntryFilters(employer="Acme", since=date(2025, 2, 1)), ["march"]),
        (EntryFilters(employer="Nobody"), []),
    ],
)
def test_it_filters(make_entry, tenant, filters, expected):
    make_entry("jan", occurred_on=date(2025, 1, 10), employer="Acme", project="Atlas")
    make_entry("feb", occurred_on=date(2025, 2, 1), employer="Globex", skills=["JavaScript"])
    make_entry("march", occurred_on=date(2025, 3, 5), employer="Acme", tags=["launch"])
    assert titles(selectors.entry_page(tenant=tenant, filters=filters)) == expected


def test_it_pages_with_a_cursor_without_gaps_or_repeats(make_entry, tenant):
    for number in range(7):
        make_entry(f"entry {number}", occurred_on=date(2025, 1, 1) + timedelta(days=number // 2))
    seen, cursor = [], None
    while True:
        page = selectors.entry_page(tenant=tenant, filters=EntryFilters(), cursor=cursor, limit=3)
        seen += titles(page)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(f"entry {number}" for number in range(7))
    assert len(seen) == len(set(seen))


def test_it_refuses_a_cursor_it_did_not_give(tenant):
    for cursor in ["not-base64!!", "e30", "eyJkIjoiMjAyNS0xMy0wMSIsImkiOjF9", "eyJvIjotMX0"]:
        with pytest.raises(ValidationFailed, match="start again") as caught:
            selectors.entry_page(tenant=tenant, filters=EntryFilters(), cursor=cursor)
        assert caught.value.field == "cursor"


def test_it_groups_the_timeline_by_month_and_week_with_counts(make_entry, tenant):
    # Sunday 2025-03-02 closes the week that began on Monday 2025-02-24.
    for day in [date(2025, 3, 4), date(2025, 3, 3), date(2025, 3, 2), date(2025, 2, 27), date(2025, 2, 24)]:
        make_entry(f"on {day}", occurred_on=day)
    page = selectors.entry_page(tenant=tenant, filters=EntryFilters())
    counts = selectors.timeline_counts(tenant=tenant, filters=EntryFilters(), items=page.items)
    rows = selectors.timeline_rows(page, counts)
    headings = [(row["kind"], row["date"], row["count"]) for row in rows if row["kind"] != "entry"]
    assert headings == [
        ("month", date(2025, 3, 1), 3),
        ("week", date(2025, 3, 3), 2),
        ("week", date(2025, 3, 1), 1),
        ("month", date(2025, 2, 1), 2),
        ("week", date(2025, 2, 24), 2),
    ]


def test_it_continues_a_group_on_the_next_page_without_repeating_its_heading(make_entry, tenant):
    for number in range(4):
        make_entry(f"same week {number}", occurred_on=date(2025, 3, 4))
    first = selectors.entry_page(tenant=tenant, filters=EntryFilters(), limit=2)
    second = selectors.entry_page(tenant=tenant, filters=EntryFilters(), cursor=first.next_cursor, limit=2)
    counts = selectors.timeline_counts(tenant=tenant, filters=EntryFilters(), items=second.items)
    assert [row["kind"] for row in selectors.timeline_rows(second, counts)] == ["entry", "entry"]


def test_it_counts_skill_use_and_last_use_from_live_entries(make_entry, alice, tenant):
    make_entry(occurred_on=date(2025, 1, 1), skills=["Go", "SQL"])
    make_entry(occurred_on=date(2025, 4, 1), skills=["Go"])
    deleted = make_entry(occurred_on=date(2025, 9, 1), skills=["Go", "SQL"])
    services.entry_delete(entry=deleted, actor=alice)
    skills = {
        skill.name: (skill.entry_count, skill.last_used_on) for skill in selectors.skill_list(tenant=tenant)
    }
    assert skills == {"Go": (2, date(2025, 4, 1)), "SQL": (1, date(2025, 1, 1))}


def test_it_offers_the_last_employer_and_project_as_defaults(make_entry, alice, bob, tenant):
    make_entry(employer="Acme", project="Atlas")
    make_entry(employer="Globex", project="Hub", owner=bob)
    assert selectors.entry_defaults(tenant=tenant, author=alice) == {"employer": "Acme", "project": "Atlas"}
    assert selectors.entry_defaults(tenant=tenant, author=bob) == {"employer": "Globex", "project": "Hub"}
