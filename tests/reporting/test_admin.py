"""Reports in the Django admin show staff metadata only: a private report is written from confidential
entries, so neither its text, its title, its job description nor any version's text appears there."""

import pytest
from django.test import Client

from apps.reporting.models import Report, ReportVersion
from tests.reporting.conftest import SECRET_NUMBERS, SECRET_TITLE

pytestmark = pytest.mark.usefixtures("funded")


@pytest.fixture
def superuser_client(client, staff):
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    client.force_login(staff)
    return client


@pytest.fixture
def private_report(alice, log, write_report) -> Report:
    alice_browser = Client()
    alice_browser.force_login(alice)
    response, report = write_report(
        {"kind": "brag_document", "audience": "private", "job_description": "Zephyrine wants a lead"},
        as_client=alice_browser,
    )
    assert response.status_code == 202
    report.refresh_from_db()
    assert report.status == Report.Status.READY
    assert SECRET_TITLE in ReportVersion.objects.get(report=report, number=report.version).markdown
    return report


def test_it_shows_staff_no_report_text(superuser_client, private_report):
    version = ReportVersion.objects.get(report=private_report, number=private_report.version)
    urls = [
        "/admin/reporting/",
        "/admin/reporting/report/",
        f"/admin/reporting/report/{private_report.pk}/change/",
        "/admin/reporting/reportversion/",
        f"/admin/reporting/reportversion/{version.pk}/change/",
        "/admin/reporting/reportshare/",
    ]
    for url in urls:
        response = superuser_client.get(url, follow=True)
        assert response.status_code == 200, url
        assert response.wsgi_request.path.startswith("/admin/reporting/"), url  # not the login page
        page = response.content.decode()
        for needle in (SECRET_TITLE, "Zephyrine", *SECRET_NUMBERS, private_report.title):
            assert needle not in page, (needle, url)
    listing = superuser_client.get(f"/admin/reporting/report/?id={private_report.pk}").content.decode()
    assert f'<td class="field-entry_count">{len(private_report.selected_entry_ids)}</td>' in listing


def test_it_lets_nobody_change_a_report_in_the_admin(superuser_client, private_report):
    title = private_report.title
    superuser_client.post(f"/admin/reporting/report/{private_report.pk}/change/", {"title": "x"})
    superuser_client.post(
        "/admin/reporting/report/", {"action": "delete_selected", "_selected_action": [private_report.pk]}
    )
    private_report.refresh_from_db()
    assert private_report.title == title
