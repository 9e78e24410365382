from datetime import date, timedelta

import pytest

from apps.worklog import services
from tests.worklog.conftest import htmx


def test_it_shows_an_honest_empty_state(alice_client):
    response = alice_client.get("/log/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Your log is empty" in page and "Log your first entry" in page


def test_it_shows_entries_grouped_by_month_and_week_with_counts(alice_client, make_entry):
    make_entry(
        "Fixed the flaky test", occurred_on=date(2025, 3, 4), employer="Acme", skills=["Python"], tags=["ci"]
    )
    make_entry("Planned the quarter", occurred_on=date(2025, 2, 27))
    page = alice_client.get("/log/").content.decode()
    assert "March 2025" in page and "February 2025" in page
    assert "Week of Mar 3" in page and "Week of Feb 24" in page
    assert "Fixed the flaky test" in page and "Acme" in page and "#ci" in page
    assert page.index("Fixed the flaky test") < page.index("Planned the quarter")


def test_it_keeps_filters_in_the_query_string_and_in_the_form(alice_client, make_entry):
    make_entry("Acme work", employer="Acme", occurred_on=date(2025, 3, 4))
    make_entry("Globex work", employer="Globex", occurred_on=date(2025, 3, 5))
    page = alice_client.get("/log/?employer=acme&since=2025-01-01").content.decode()
    assert "Acme work" in page and "Globex work" not in page
    assert 'name="employer" value="acme"' in page and 'name="since" value="2025-01-01"' in page
    assert "Clear filters" in page


def test_it_answers_htmx_with_the_results_or_the_next_page_only(alice_client, make_entry):
    for day in range(35):
        make_entry(f"entry {day:02d}", occurred_on=date(2025, 1, 1) + timedelta(days=day))
    results = alice_client.get("/log/?q=", **htmx())
    body = results.content.decode()
    assert body.lstrip().startswith('<div id="timeline-results"') and "<html" not in body
    assert 'hx-trigger="revealed"' in body and "entry 34" in body and "entry 04" not in body
    next_url = body.split('hx-get="')[1].split('"')[0].replace("&amp;", "&")
    more = alice_client.get(next_url, **htmx()).content.decode()
    assert "entry 04" in more and "entry 34" not in more and 'hx-trigger="revealed"' not in more
    assert results["Vary"] and "HX-Request" in results["Vary"]


def test_it_loads_the_filter_name_lists_when_the_form_is_first_used(
    alice_client, make_entry, charlie, other_tenant, django_assert_max_num_queries
):
    make_entry("Ours", employer="Acme", project="Importer", skills=["Python"], tags=["ci"])
    make_entry("Theirs", owner=charlie, workspace=other_tenant, employer="Initech", skills=["Cobol"])
    page = alice_client.get("/log/").content.decode()
    assert 'hx-get="/log/names/" hx-trigger="focusin from:#timeline-filters once"' in page
    assert '<option value="Acme">' not in page  # not read for every page of the log
    with django_assert_max_num_queries(5):  # session, user, membership, the names in one query
        lists = alice_client.get("/log/names/", **htmx())
    body = lists.content.decode()
    assert lists.status_code == 200 and body.lstrip().startswith('<div id="filter-datalists">')
    for list_id, name in (
        ("employers", "Acme"),
        ("projects", "Importer"),
        ("skills", "Python"),
        ("tags", "ci"),
    ):
        assert f'<datalist id="filter-{list_id}"><option value="{name}"></datalist>' in body
    assert "Initech" not in body and "Cobol" not in body


def test_it_searches_and_highlights_matches(alice_client, make_entry):
    make_entry("Tuned the Postgres indexes", body="Queries went from seconds to milliseconds")
    make_entry("Onboarded two engineers")
    page = alice_client.get("/log/?q=postgres").content.decode()
    assert "1</span> match for “postgres”" in page
    assert "<mark>Postgres</mark>" in page and "Onboarded" not in page
    assert "Nothing matches “kubernetes”" in alice_client.get("/log/?q=kubernetes").content.decode()


def test_it_escapes_what_it_highlights(alice_client, make_entry):
    make_entry("<script>alert(1)</script> deploy script")
    page = alice_client.get("/log/?q=script").content.decode()
    assert "<script>alert(1)" not in page
    assert "alert(1)&lt;/" in page and "deploy <mark>script</mark>" in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("since=2025-02-31", "Enter the start date as YYYY-MM-DD."),
        ("since=2025-03-02&until=2025-03-01", "The end date is before the start date."),
        ("cursor=nonsense", "start again from the first page"),
    ],
)
def test_it_answers_bad_filters_with_a_400_and_keeps_them(alice_client, make_entry, query, message):
    make_entry("Still listed")
    response = alice_client.get(f"/log/?{query}")
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page and "Still listed" in page


def test_it_offers_undo_after_a_delete(alice_client, make_entry):
    entry = make_entry("Regrettable")
    assert alice_client.post(f"/log/entries/{entry.pk}/delete/").url == "/log/"
    page = alice_client.get("/log/").content.decode()
    assert "Deleted “Regrettable”" in page and f"/log/entries/{entry.pk}/restore/" in page
    assert "Regrettable</span>" not in page
    alice_client.post(f"/log/entries/{entry.pk}/restore/")
    assert "Regrettable</span>" in alice_client.get("/log/").content.decode()


def _fill(tenant, alice, count, start=0):
    for number in range(start, start + count):
        services.entry_create(
            tenant=tenant,
            author=alice,
            title=f"Entry {number}",
            occurred_on=date(2024, 1, 1) + timedelta(days=number * 3),
            employer=f"Employer {number % 3}",
            project=f"Project {number % 4}",
            skills=[f"Skill {number % 5}", f"Skill {(number + 1) % 5}"],
            tags=[f"tag{number % 2}"],
        )


@pytest.mark.parametrize("url", ["/log/", "/log/?q=entry", "/log/?skill=Skill 1&since=2024-01-01"])
def test_it_runs_a_constant_number_of_queries_whatever_the_log_size(
    alice_client, tenant, alice, django_assert_max_num_queries, url
):
    _fill(tenant, alice, 5)
    alice_client.get(url)  # the session and the workspace are warm for both measurements
    with django_assert_max_num_queries(16) as small:
        assert alice_client.get(url).status_code == 200
    _fill(tenant, alice, 60, start=5)
    with django_assert_max_num_queries(len(small.captured_queries)) as large:
        assert alice_client.get(url).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)


def test_it_runs_a_constant_number_of_queries_for_the_next_page(
    alice_client, tenant, alice, django_assert_max_num_queries
):
    _fill(tenant, alice, 40)
    first = alice_client.get("/log/", **htmx()).content.decode()
    next_url = first.split('hx-get="')[1].split('"')[0].replace("&amp;", "&")
    with django_assert_max_num_queries(10) as small:
        alice_client.get(next_url, **htmx())
    _fill(tenant, alice, 60, start=40)
    with django_assert_max_num_queries(len(small.captured_queries)):
        alice_client.get(next_url, **htmx())
