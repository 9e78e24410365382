"""The dashboard's insight tiles: periods against the previous ones, the weekly streak, top skills, what
still needs work; each a link to the timeline filtered to what it counts; a fixed number of queries."""

import re
from datetime import date, datetime, timedelta
from html import unescape

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.worklog.insights import STREAK_WEEKS_MAX, dashboard_insights, month_start_of
from apps.worklog.models import Entry
from tests.worklog.conftest import htmx

# Wednesday 2025-03-12, 23:30 UTC: already Thursday the 13th in Berlin (UTC+1).
NOW = datetime.fromisoformat("2025-03-12T23:30:00+00:00")
TODAY_BERLIN = date(2025, 3, 13)


@pytest.fixture
def frozen(alice):
    alice.time_zone = "Europe/Berlin"
    alice.save(update_fields=["time_zone"])
    with time_machine.travel(NOW, tick=False):
        yield


def tile(page: str, name: str) -> str:
    """The HTML of one insight tile (data-insight=name)."""
    start = page.rindex("<a", 0, page.index(f'data-insight="{name}"'))
    return page[start : page.index("</a>", start)]


def tile_url(page: str, name: str) -> str:
    return unescape(re.search(r'href="([^"]+)"', tile(page, name)).group(1))


def timeline_titles(client, url: str) -> list[str]:
    """The titles of the entries the timeline at `url` lists."""
    page = client.get(url).content.decode()
    results = page[page.index('id="timeline-results"') :]
    return [unescape(title) for title in re.findall(r'<span class="ar-tl-title">([^<]+)</span>', results)]


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_it_counts_this_week_and_month_against_the_previous_ones(alice_client, make_entry, frozen):
    for day in (date(2025, 3, 10), date(2025, 3, 13)):  # this week (Mon 10 to Sun 16)
        make_entry("This week", occurred_on=day)
    for day in (date(2025, 3, 3), date(2025, 3, 5), date(2025, 3, 9)):  # last week
        make_entry("Last week", occurred_on=day)
    for day in (date(2025, 2, 3), date(2025, 2, 28)):  # last month
        make_entry("Last month", occurred_on=day)
    gone = make_entry("Deleted", occurred_on=date(2025, 3, 11))
    Entry.objects.filter(pk=gone.pk).update(deleted_at=NOW)

    page = alice_client.get(reverse("dashboard")).content.decode()

    week = text(tile(page, "this-week"))
    assert week.startswith("This week 2") and "Down 1" in week and "vs 3 last week" in week
    month = text(tile(page, "this-month"))
    assert month.startswith("This month 5") and "Up 3" in month and "vs 2 last month" in month
    assert tile_url(page, "this-week") == "/log/?since=2025-03-10&until=2025-03-16"
    assert tile_url(page, "this-month") == "/log/?since=2025-03-01&until=2025-03-31"


def test_it_counts_the_streak_in_weeks_in_the_persons_time_zone(alice_client, make_entry, frozen):
    # Weeks of Feb 17, Feb 24 and Mar 3 have entries; this week (Mar 10) has none yet; Feb 10 is a gap.
    for day in (date(2025, 2, 3), date(2025, 2, 19), date(2025, 2, 24), date(2025, 3, 7)):
        make_entry("Streak", occurred_on=day)
    page = alice_client.get(reverse("dashboard")).content.decode()
    streak = text(tile(page, "streak"))
    assert streak.startswith("Weekly streak 3 weeks") and "Log this week to keep it" in streak
    assert tile_url(page, "streak") == "/log/?since=2025-02-17"

    # An entry dated today in Berlin (the 13th, still the 12th in UTC) extends it to this week.
    make_entry("Today in Berlin", occurred_on=TODAY_BERLIN)
    streak = text(tile(alice_client.get(reverse("dashboard")).content.decode(), "streak"))
    assert streak.startswith("Weekly streak 4 weeks") and "In a row with an entry" in streak


def test_it_lists_the_top_skills_of_this_month_and_the_two_before(alice_client, make_entry, frozen):
    since = month_start_of(
        month_start_of(month_start_of(TODAY_BERLIN) - timedelta(days=1)) - timedelta(days=1)
    )
    make_entry("Old", occurred_on=since - timedelta(days=1), skills=["Fortran"])
    make_entry("Recent", occurred_on=since, skills=["Go", "SQL"])
    make_entry("Recent too", occurred_on=TODAY_BERLIN, skills=["Go"])
    page = alice_client.get(reverse("dashboard")).content.decode()
    start = page.index('id="top-skills-title"')
    card = page[start : page.index("</section>", start)]
    assert "Fortran" not in card
    assert card.index(">Go<") < card.index(">SQL<")
    assert f"Most used since {since.day} {since:%B}." in card
    assert f'href="/log/?skill=Go&amp;since={since.isoformat()}"' in card


def test_it_moves_the_top_skills_with_every_change_of_the_log(tenant, alice, make_entry):
    from apps.worklog import services

    today = date(2025, 3, 13)
    entry = make_entry("Paired", occurred_on=today, skills=["Go"])
    make_entry("Queried", occurred_on=today, skills=["SQL"])
    make_entry("Queried again", occurred_on=today, skills=["SQL"])
    assert dashboard_insights(tenant=tenant, today=today).top_skills == [("SQL", 2), ("Go", 1)]

    services.entry_update(entry=entry, actor=alice, skills=["Go", "Rust"], occurred_on=date(2024, 12, 31))
    assert dashboard_insights(tenant=tenant, today=today).top_skills == [
        ("SQL", 2)
    ]  # moved out of the months
    services.entry_update(entry=entry, actor=alice, occurred_on=today)
    assert dashboard_insights(tenant=tenant, today=today).top_skills == [("SQL", 2), ("Go", 1), ("Rust", 1)]
    services.entry_delete(entry=entry, actor=alice)
    assert dashboard_insights(tenant=tenant, today=today).top_skills == [("SQL", 2)]
    services.entry_restore(entry=entry, actor=alice)
    assert dashboard_insights(tenant=tenant, today=today).top_skills == [("SQL", 2), ("Go", 1), ("Rust", 1)]
    assert services.skill_counts_check(tenant=tenant) == []


def test_it_links_what_still_needs_work_to_the_filtered_timeline(alice_client, make_entry, frozen):
    make_entry("Wrote the impact", impact="Saved a day a month", occurred_on=date(2025, 3, 1))
    make_entry("Wrote no impact", occurred_on=date(2025, 3, 2))
    make_entry(
        "Waiting, due now",
        impact="Pending",
        occurred_on=date(2025, 2, 1),
        outcome_pending=True,
        follow_up_on=TODAY_BERLIN,  # due today in Berlin, tomorrow in UTC
    )
    make_entry(
        "Waiting, due later",
        impact="Pending",
        occurred_on=date(2025, 2, 1),
        outcome_pending=True,
        follow_up_on=TODAY_BERLIN + timedelta(days=3),
    )
    page = alice_client.get(reverse("dashboard")).content.decode()
    assert text(tile(page, "no-impact")).startswith("No impact yet 1")
    assert text(tile(page, "follow-ups")).startswith("Results due 1")

    assert timeline_titles(alice_client, tile_url(page, "no-impact")) == ["Wrote no impact"]
    assert timeline_titles(alice_client, tile_url(page, "follow-ups")) == ["Waiting, due now"]


def test_it_refuses_an_unknown_needs_filter_with_a_message(alice_client, make_entry):
    make_entry("Anything")
    response = alice_client.get("/log/?needs=everything")
    assert response.status_code == 400
    assert "Choose what the entries still need from the list." in response.content.decode()


def test_it_welcomes_a_new_person_instead_of_showing_zeros(alice_client):
    page = alice_client.get(reverse("dashboard")).content.decode()
    assert "Start your work log" in page and "Log your first entry" in page
    assert "data-insight=" not in page and "Top skills" not in page


def test_it_answers_htmx_with_the_work_log_cards_alone(alice_client, make_entry):
    make_entry("Fresh entry")
    response = alice_client.get(reverse("dashboard"), HTTP_HX_TARGET="dashboard-worklog", **htmx())
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="dashboard-worklog"')
    assert "Fresh entry" in body and 'data-insight="this-week"' in body
    assert "Account security" not in body and "<html" not in body
    assert 'hx-trigger="worklog:entry-saved from:body"' in body
    assert "HX-Target" in response["Vary"]


def _fill(make_entry, count: int) -> None:
    start = date(2025, 3, 13)
    for number in range(count):
        make_entry(
            f"Entry {number}",
            occurred_on=start - timedelta(days=number * 3 + (2 if number % 5 == 0 else 0)),
            employer=f"Employer {number % 4}",
            project=f"Project {number % 5}",
            skills=[f"Skill {number % 7}", f"Skill {(number + 1) % 7}"],
            tags=[f"tag{number % 3}"],
            impact="" if number % 2 else "Something changed",
            outcome_pending=number % 5 == 0,
            follow_up_on=start - timedelta(days=1) if number % 5 == 0 else None,
        )


def _dashboard_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("dashboard")).status_code == 200
    return len(queries)


def test_it_reads_the_dashboard_in_the_same_number_of_queries_at_any_size(
    alice_client, make_entry, frozen, django_assert_max_num_queries
):
    _fill(make_entry, 4)
    small = _dashboard_queries(alice_client)
    _fill(make_entry, 60)
    large = _dashboard_queries(alice_client)
    assert large == small, f"{small} queries with 4 entries, {large} with 64"
    with django_assert_max_num_queries(small):
        alice_client.get(reverse("dashboard"))
    with django_assert_max_num_queries(small):
        alice_client.get(reverse("dashboard"), HTTP_HX_TARGET="dashboard-worklog", **htmx())


def test_it_reads_the_insights_in_one_statement_on_postgres(tenant, make_entry, django_assert_num_queries):
    _fill(make_entry, 30)
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 3):
        result = dashboard_insights(tenant=tenant, today=date(2025, 3, 13))
    assert result.total == 30 and result.without_impact == 15 and result.follow_ups_due == 6


def test_it_caps_the_streak_where_it_stops_looking(tenant, make_entry):
    today = date(2025, 3, 13)
    weeks = STREAK_WEEKS_MAX + 3
    for number in range(weeks):
        make_entry("Every week", occurred_on=today - timedelta(weeks=number))
    result = dashboard_insights(tenant=tenant, today=today)
    assert result.streak_capped and result.streak_weeks == STREAK_WEEKS_MAX + 1


def test_it_keeps_other_workspaces_out_of_the_insights(tenant, other_tenant, charlie, make_entry):
    make_entry("Charlie's", owner=charlie, workspace=other_tenant, skills=["Secret skill"])
    result = dashboard_insights(tenant=tenant, today=date.today())  # noqa: DTZ011
    assert result.total == 0 and result.top_skills == []


def test_it_ranks_the_top_skills_by_count_then_name(tenant, make_entry):
    today = date(2025, 3, 13)
    for skills, times in ((["Rust", "Go"], 3), (["Kafka", "Bash", "Zig", "Ansible"], 2), (["Perl"], 1)):
        for n in range(times):
            make_entry(f"{skills[0]} {n}", occurred_on=today - timedelta(days=n), skills=skills)
    top = dashboard_insights(tenant=tenant, today=today).top_skills
    assert top == [("Go", 3), ("Rust", 3), ("Ansible", 2), ("Bash", 2), ("Kafka", 2)]
