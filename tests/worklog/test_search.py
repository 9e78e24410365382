"""Search: PostgreSQL full-text ranking and highlighting, and the plain fallback elsewhere."""

import pytest
from django.db import connection

from apps.worklog import selectors
from apps.worklog.search import _fallback_search, search_terms
from apps.worklog.selectors import EntryFilters

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="full-text search (tsvector, ts_rank, ts_headline) is PostgreSQL's",
)


def search(tenant, text):
    return selectors.entry_page(tenant=tenant, filters=EntryFilters(q=text))


@postgres_only
def test_it_ranks_a_title_match_above_an_impact_match_above_a_body_match(make_entry, tenant):
    make_entry("Weekly sync", body="We talked about the migration plan at length")
    make_entry("Retro notes", impact="Migration finished two weeks early")
    make_entry("Database migration to PostgreSQL 16")
    page = search(tenant, "migration")
    assert [entry.title for entry in page.items] == [
        "Database migration to PostgreSQL 16",
        "Retro notes",
        "Weekly sync",
    ]
    ranks = [entry.search_rank for entry in page.items]
    assert ranks == sorted(ranks, reverse=True) and ranks[0] > ranks[-1]


@postgres_only
def test_it_highlights_matches_with_stemming_and_prefixes(make_entry, tenant):
    make_entry(
        "Deployed the <b>new</b> search", body="Deploying took an afternoon; indexes were the hard part"
    )
    entry = search(tenant, "deploy ind").items[0]
    assert "<mark>Deployed</mark>" in entry.title_html
    assert "&lt;b&gt;new&lt;/b&gt;" in entry.title_html
    assert "<mark>Deploying</mark>" in entry.snippet_html and "<mark>indexes</mark>" in entry.snippet_html


@postgres_only
def test_it_uses_the_generated_search_column_and_its_gin_index(make_entry):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes "
            "WHERE tablename = 'worklog_entry' AND indexname = 'entry_search_live'"
        )
        definition = cursor.fetchone()[0].lower()
        # The workspace is the index's first key (btree_gin), so a search never reads other workspaces'.
        assert "using gin (tenant_id, search_document)" in definition
        assert "where (deleted_at is null)" in definition
        cursor.execute(
            "SELECT is_generated FROM information_schema.columns "
            "WHERE table_name = 'worklog_entry' AND column_name = 'search_document'"
        )
        assert cursor.fetchone()[0] == "ALWAYS"


def test_it_finds_every_word_in_any_field_and_ranks_title_hits_first(make_entry, tenant):
    make_entry("Weekly sync", body="Planned the Kafka migration")
    make_entry("Kafka migration", impact="Zero downtime")
    make_entry("Kafka upgrade")
    from apps.worklog.models import Entry

    found = list(_fallback_search(Entry.objects.filter(tenant=tenant), ["kafka", "migration"]))
    assert [entry.title for entry in found] == ["Kafka migration", "Weekly sync"]


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the fallback is what SQLite uses")
def test_it_searches_and_highlights_on_sqlite(make_entry, tenant):
    make_entry("Weekly sync", body="Planned the <Kafka> migration with the platform team")
    make_entry("Kafka migration")
    page = search(tenant, "kafka migr")
    assert [entry.title for entry in page.items] == ["Kafka migration", "Weekly sync"]
    assert str(page.items[0].title_html) == "<mark>Kafka</mark> <mark>migr</mark>ation"
    assert "&lt;<mark>Kafka</mark>&gt; <mark>migr</mark>ation" in page.items[1].snippet_html


def test_it_pages_search_results_with_a_cursor(make_entry, tenant):
    for number in range(5):
        make_entry(f"Incident {number}")
    first = selectors.entry_page(tenant=tenant, filters=EntryFilters(q="incident"), limit=3)
    second = selectors.entry_page(
        tenant=tenant, filters=EntryFilters(q="incident"), cursor=first.next_cursor, limit=3
    )
    titles = [entry.title for entry in first.items + second.items]
    assert sorted(titles) == [f"Incident {number}" for number in range(5)] and second.next_cursor is None


def test_it_ignores_punctuation_and_caps_the_number_of_words():
    assert search_terms("C++ & (rust) | !go") == ["c", "rust", "go"]
    assert len(search_terms(" ".join(f"w{n}" for n in range(20)))) == 8


@pytest.mark.parametrize("missing", [{"employer": "Initech"}, {"skill": "Cobol"}, {"tag": "nope"}])
def test_it_finds_nothing_when_a_filter_names_what_the_log_does_not_have(make_entry, tenant, missing):
    make_entry("Kafka migration", impact="Zero downtime")
    page = selectors.entry_page(tenant=tenant, filters=EntryFilters(q="kafka", **missing))
    assert page.items == [] and page.next_cursor is None
