"""Every save is a version: edit a section in Markdown (with preview), arrange sections, rewrite one
section, compare two versions, restore an old one."""

import pytest
from django.urls import reverse

from apps.reporting.citations import REASON_BAD_CITATION
from apps.reporting.models import ReportVersion
from apps.reporting.selectors import report_api

pytestmark = pytest.mark.usefixtures("rates")


@pytest.fixture
def report(alice_client, log, write_report):
    _response, report = write_report({"kind": "self_review"}, as_client=alice_client)
    report.refresh_from_db()
    return report


def _section(report, title):
    return next(s for s in report_api(report=report)["sections"] if s["title"] == title)


def test_it_saves_an_edited_section_as_a_new_version_and_checks_it_again(alice_client, report, log):
    url = reverse("reporting_section_edit", args=[report.pk, "key_accomplishments"])
    form = alice_client.get(url).content.decode()
    assert f"[E{log['deploys'].pk}]" in form  # the editor shows bullets with their markers
    markdown = (
        f"- Cut deploys to 8 minutes for 50 teams [E{log['deploys'].pk}]\n- A bullet citing nothing [E99999]"
    )
    response = alice_client.post(url, {"title": "What I delivered", "markdown": markdown})
    assert response.status_code == 302
    report.refresh_from_db()
    section = _section(report, "What I delivered")
    assert report.version == 2
    first, second = section["bullets"]
    assert first["citations"] == [log["deploys"].pk] and [f["text"] for f in first["flags"]] == ["50"]
    assert second["citations"] == [] and {"text": "E99999", "reason": REASON_BAD_CITATION} in second["flags"]


def test_it_previews_the_edit_with_its_citations_and_flags(alice_client, report, log):
    url = reverse("reporting_section_preview", args=[report.pk, "summary"])
    html = alice_client.post(
        url, {"title": "Summary", "markdown": f"- Saved $9M [E{log['deploys'].pk}]"}
    ).content.decode()
    assert "ar-claim" in html and "$9M" in html and f"/log/entries/{log['deploys'].pk}/" in html
    assert ReportVersion.objects.filter(report=report).count() == 1  # a preview saves nothing


def test_it_shows_the_diff_between_versions_and_restores_an_old_one(alice_client, report, log):
    url = reverse("reporting_section_edit", args=[report.pk, "summary"])
    alice_client.post(url, {"title": "Summary", "markdown": f"- A new summary line [E{log['deploys'].pk}]"})
    page = alice_client.get(reverse("reporting_versions", args=[report.pk]) + "?from=1&to=2").content.decode()
    assert '<span class="ar-diff-added">+ - A new summary line' in page
    assert '<span class="ar-diff-removed">' in page
    assert alice_client.post(reverse("reporting_version_restore", args=[report.pk, 1])).status_code == 302
    report.refresh_from_db()
    assert report.version == 3
    v1, v3 = (ReportVersion.objects.get(report=report, number=n) for n in (1, 3))
    assert v3.sections == v1.sections and v3.note == "Restored version 1"


def test_it_arranges_sections_as_a_new_version(alice_client, report):
    keys = [
        "next_goals",
        "summary",
        "key_accomplishments",
        "impact_and_results",
        "collaboration_and_mentoring",
        "skills_and_growth",
    ]
    data = {"section_key": keys, "section_title": ["Up next", "", "", "", "", ""], "section_on": keys[:3]}
    assert alice_client.post(reverse("reporting_arrange", args=[report.pk]), data).status_code == 302
    report.refresh_from_db()
    assert [s["title"] for s in report_api(report=report)["sections"]] == [
        "Up next",
        "Summary",
        "Key accomplishments",
    ]
    data["section_on"] = []
    alice_client.post(reverse("reporting_arrange", args=[report.pk]), data)
    report.refresh_from_db()
    assert report.version == 2  # "keep at least one section" was refused


def test_it_rewrites_one_section_and_keeps_the_others(
    alice_client, report, log, django_capture_on_commit_callbacks
):
    edit = reverse("reporting_section_edit", args=[report.pk, "key_accomplishments"])
    alice_client.post(edit, {"title": "Key accomplishments", "markdown": "- Something I typed"})
    alice_client.post(
        reverse("reporting_section_edit", args=[report.pk, "summary"]),
        {"title": "Summary", "markdown": "- Mine"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            reverse("reporting_section_regenerate", args=[report.pk, "key_accomplishments"])
        )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.version == 4 and report.status == "ready"
    assert _section(report, "Key accomplishments")["bullets"][0]["citations"] == [log["deploys"].pk]
    assert _section(report, "Summary")["bullets"][0]["text"] == "Mine"
