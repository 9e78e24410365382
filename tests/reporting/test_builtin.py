"""The builtin writer: a real report from the entries' own words, for free, every bullet citing its entry,
grouped and ordered by impact, with nothing the cited entries do not say."""

from datetime import date
from decimal import Decimal

import pytest

from apps.reporting.models import Report
from apps.reporting.selectors import report_api
from tests.reporting.conftest import entry

pytestmark = pytest.mark.usefixtures("rates")


def _written(write_report, client, payload) -> tuple[Report, dict]:
    response, report = write_report(payload, as_client=client)
    assert response.status_code == 202, response.json()
    report.refresh_from_db()
    assert report.status == Report.Status.READY, report.error
    return report, report_api(report=report)


def _bullets(data) -> list[dict]:
    return [item for section in data["sections"] for item in section["bullets"]]


@pytest.mark.parametrize(
    "payload",
    [
        {"kind": "self_review"},
        {"kind": "brag_document"},
        {"kind": "resume_bullets"},
        {"kind": "summary", "variant": "monthly"},
        {"kind": "summary", "variant": "manager_update"},
        {
            "kind": "tailored_resume",
            "job_description": "- Kubernetes and Python in production\n- Mentoring engineers",
        },
    ],
)
def test_it_writes_every_kind_for_free_with_every_bullet_citing_an_entry_that_says_it(
    alice_client, log, write_report, payload
):
    report, data = _written(write_report, alice_client, payload)
    assert report.drafted_without_ai and report.cost_micros == 0 and report.provider == "builtin"
    assert "Drafted without AI" in data["markdown"]
    bullets = _bullets(data)
    assert bullets
    ids = {e.pk for e in log.values()}
    for item in bullets:
        assert item["citations"] and set(item["citations"]) <= ids
        assert item["flags"] == [], item  # built from the entries' own words: nothing to flag


def test_it_puts_entries_with_measured_results_first(alice_client, log, write_report):
    _report, data = _written(write_report, alice_client, {"kind": "self_review"})
    key = next(s for s in data["sections"] if s["title"] == "Key accomplishments")
    first_two = {c for item in key["bullets"][:2] for c in item["citations"]}
    assert first_two == {log["deploys"].pk, log["old_job"].pk}  # the two with a metric and an impact
    assert (
        "40 to 8 minutes" in key["bullets"][0]["text"]
        and "developers ship twice a day" in key["bullets"][0]["text"]
    )


def test_it_uses_the_default_self_review_sections_and_the_persons_arrangement(
    alice_client, log, write_report
):
    _report, data = _written(write_report, alice_client, {"kind": "self_review"})
    titles = [s["title"] for s in data["sections"]]
    assert titles[:2] == ["Summary", "Key accomplishments"] and "Next goals" in titles
    arranged = [
        {"key": "next_goals", "title": "What comes next", "enabled": True},
        {"key": "summary", "title": "", "enabled": False},
    ]
    _report, data = _written(write_report, alice_client, {"kind": "self_review", "sections": arranged})
    titles = [s["title"] for s in data["sections"]]
    assert titles[0] == "What comes next" and "Summary" not in titles
    assert "## Summary" not in data["markdown"]


def test_it_groups_resume_bullets_by_employer_and_role_most_recent_first(alice_client, log, write_report):
    payload = {"kind": "resume_bullets", "roles": {"Acme": "Staff engineer"}}
    _report, data = _written(write_report, alice_client, payload)
    assert [s["title"] for s in data["sections"]] == ["Acme — Staff engineer", "Globex"]
    assert data["sections"][1]["bullets"][0]["citations"] == [log["old_job"].pk]


def test_it_maps_a_job_description_to_entries_and_lists_what_has_no_evidence(alice_client, log, write_report):
    description = "Requirements:\n- Kubernetes in production\n- Mentoring junior engineers\n- Fluent Mandarin"
    report, data = _written(
        write_report, alice_client, {"kind": "tailored_resume", "job_description": description}
    )
    by_text = {item["text"]: item["entry_ids"] for item in report.requirements}
    assert log["deploys"].pk in by_text["Kubernetes in production"]
    assert log["mentor"].pk in by_text["Mentoring junior engineers"]
    assert by_text["Fluent Mandarin"] == []
    assert "## Requirements without evidence in the log\n\n- Fluent Mandarin" in data["markdown"]


def test_it_applies_both_ends_of_the_date_range_and_every_filter(alice_client, log, write_report):
    payload = {"kind": "brag_document", "since": "2024-02-12", "until": "2024-03-05", "employers": ["acme"]}
    report, data = _written(write_report, alice_client, payload)
    assert sorted(report.selected_entry_ids) == sorted([log["deploys"].pk, log["flaky"].pk])
    _report, data = _written(write_report, alice_client, {"kind": "brag_document", "skills": ["golang"]})
    assert {c for item in _bullets(data) for c in item["citations"]} == {log["old_job"].pk}


def test_it_uses_every_matching_entry_and_lists_the_ones_it_did_not_cite(
    alice_client, tenant, alice, write_report
):
    for number in range(40):
        entry(
            tenant, alice, f"Shipped release {number}", occurred_on=date(2024, 1, 1 + number % 28),
            employer="Acme", project="Checkout", metric_value=Decimal(number), metric_unit="users",
        )  # fmt: skip
    report, data = _written(write_report, alice_client, {"kind": "brag_document"})
    assert len(report.selected_entry_ids) == 40
    cited = {c for item in _bullets(data) for c in item["citations"]}
    assert set(data["unused_entry_ids"]) == set(report.selected_entry_ids) - cited
    assert len(cited) + len(data["unused_entry_ids"]) == 40
    page = alice_client.get(f"/reports/{report.pk}/")
    assert f"{len(data['unused_entry_ids'])}</strong> not used" in page.content.decode()


def test_it_summarises_by_period_with_highlights_first(alice_client, log, write_report):
    payload = {"kind": "summary", "variant": "monthly", "since": "2024-02-01", "until": "2024-06-30"}
    _report, data = _written(write_report, alice_client, payload)
    titles = [s["title"] for s in data["sections"]]
    assert titles[0] == "Highlights"
    assert titles[1:] == sorted(
        titles[1:], key=lambda t: date.fromisoformat(f"{t.split()[1]}-01-01")
    )  # years
    assert all(t.split()[0] in {"February", "March", "April", "May", "June"} for t in titles[1:])


def test_it_writes_a_manager_update_with_work_in_progress(alice_client, log, write_report):
    _report, data = _written(write_report, alice_client, {"kind": "summary", "variant": "manager_update"})
    sections = {s["title"]: s for s in data["sections"]}
    assert next(iter(sections)) == "Highlights"
    pending = sections["In progress"]["bullets"][0]
    assert pending["citations"] == [log["pending"].pk] and "September 1, 2024" in pending["text"]
