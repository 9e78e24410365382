"""The report pages and the API's refusals: choose filters and see the estimate, create, follow citations
with hover cards, and clear messages (never a 500) for bad input."""

import pytest
from django.urls import reverse

from apps.reporting.models import Report

pytestmark = pytest.mark.usefixtures("rates")


def test_it_shows_the_estimate_for_the_chosen_filters(alice_client, log):
    url = reverse("reporting_estimate")
    html = alice_client.get(
        url, {"kind": "brag_document", "audience": "shareable", "employers": ["Acme"]}
    ).content.decode()
    assert (
        '<strong class="ar-num" data-estimate-entries>6</strong>' in html
    )  # 7 at Acme, less the confidential one
    assert "1 confidential entry" in html and "<strong>Free</strong>" in html and "Drafted without AI" in html
    html = alice_client.get(
        url, {"kind": "brag_document", "since": "2025-01-01", "until": "2024-01-01"}
    ).content.decode()
    assert "The start date is after the end date" in html


def test_it_creates_a_report_from_the_page_and_shows_it_with_citation_links(
    alice_client, log, django_capture_on_commit_callbacks
):
    create = alice_client.get(reverse("reporting_create")).content.decode()
    assert "Acme (7)" in create and "Key accomplishments" in create
    data = {
        "kind": "self_review", "audience": "private", "since": "2024-01-01", "until": "2024-12-31",
        "section_key": ["summary", "key_accomplishments"], "section_title": ["Overview", ""],
        "section_on": ["summary", "key_accomplishments"],
    }  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("reporting_create"), data)
    report = Report.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "reporting_detail", args=[report.pk]
    )
    html = alice_client.get(response["Location"]).content.decode()
    deploys = log["deploys"]
    assert f'href="/log/entries/{deploys.pk}/"' in html
    assert '<span class="ar-cite-title">Cut deploy time from 40 to 8 minutes</span>' in html  # the hover card
    assert '<span class="ar-cite-date">March 5, 2024</span>' in html
    assert "Overview" in html and log["old_job"].title not in html  # 2022: outside the dates


def test_it_keeps_what_was_typed_when_the_input_is_refused(alice_client, log):
    data = {"kind": "tailored_resume", "audience": "private", "job_description": "", "title": "For Initech"}
    response = alice_client.post(reverse("reporting_create"), data)
    html = response.content.decode()
    assert (
        response.status_code == 400 and "Paste the job description" in html and 'value="For Initech"' in html
    )
    assert not Report.objects.exists()


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        ({"kind": "poem"}, 400, "Choose a kind of report"),
        ({"kind": "brag_document", "audience": "public"}, 400, "private or shareable"),
        ({"kind": "brag_document", "employers": ["Initech"]}, 400, "Your log has no employer “Initech”"),
        ({"kind": "brag_document", "since": "2030-01-01"}, 400, "No entries match these filters"),
        ({"kind": "tailored_resume"}, 400, "Paste the job description"),
        ({"kind": "summary", "variant": "hourly"}, 400, "A summary is"),
        ({"kind": "brag_document", "since": "not a date"}, 422, "invalid fields"),
    ],
)
def test_it_answers_bad_input_with_a_message(alice_client, log, payload, status, message):
    response = alice_client.post("/api/reports/", payload, content_type="application/json")
    assert response.status_code == status
    assert message in response.json()["message"] and set(response.json()) == {"message", "extra"}


def test_it_lists_reports_newest_first(alice_client, log, write_report):
    write_report({"kind": "brag_document", "title": "First"}, as_client=alice_client)
    write_report({"kind": "self_review", "title": "Second"}, as_client=alice_client)
    html = alice_client.get(reverse("reporting_list")).content.decode()
    assert html.index("Second") < html.index("First")
    assert 'href="/reports/"' in alice_client.get("/").content.decode()  # the sidebar link


def test_it_marks_a_report_failed_when_its_job_is_cancelled_before_it_ran(
    alice_client, log, django_capture_on_commit_callbacks
):
    from apps.core.jobs import job_cancel

    response = alice_client.post("/api/reports/", {"kind": "brag_document"}, content_type="application/json")
    report = Report.objects.get(pk=response.json()["id"])
    job_cancel(job=report.job)
    report.refresh_from_db()
    assert report.status == Report.Status.FAILED and "Cancelled" in report.error
    html = alice_client.get(reverse("reporting_detail", args=[report.pk])).content.decode()
    assert "Try again" in html
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(reverse("reporting_retry", args=[report.pk]))
    report.refresh_from_db()
    assert report.status == Report.Status.READY and report.version == 1


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "Etc/GMT+12"])
def test_it_writes_a_report_over_the_whole_calendar_in_any_time_zone(
    alice_client, alice, log, write_report, zone
):
    alice.time_zone = zone
    alice.save(update_fields=["time_zone"])
    whole = {"kind": "brag_document", "since": "0001-01-01", "until": "9999-12-31"}
    response, report = write_report(whole, as_client=alice_client)
    assert response.status_code == 202
    report.refresh_from_db()
    assert report.status == Report.Status.READY and len(report.selected_entry_ids) == len(log)
    estimate = alice_client.get(reverse("reporting_estimate"), whole)
    assert estimate.status_code == 200
    page = alice_client.post(reverse("reporting_create"), {**whole, "audience": "private"})
    assert page.status_code == 302


@pytest.mark.parametrize(("since", "until"), [("9999-12-31", "9999-12-31"), ("0001-01-01", "0001-01-01")])
def test_it_finds_nothing_at_either_end_of_the_calendar(alice_client, log, since, until):
    response = alice_client.post(
        "/api/reports/",
        {"kind": "brag_document", "since": since, "until": until},
        content_type="application/json",
    )
    assert response.status_code == 400 and "No entries match these filters" in response.json()["message"]
