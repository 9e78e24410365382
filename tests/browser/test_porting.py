"""Import & export in a real browser: export with live progress, a CSV preview with errors, the import,
a job page that stops polling once done, and the dashboard's follow-ups."""

from datetime import date, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.core.models import Job
from apps.worklog.models import Entry
from tests.conftest import PASSWORD
from tests.worklog.porting_helpers import fill_workspace, media, sync_jobs  # noqa: F401 - fixtures

BAD_CSV = (
    "occurred_on,title,confidential\n"
    "2025-01-05,Good row,false\n"
    "05/01/2025,Bad date,false\n"
    "2025-01-06,,false\n"
    "2025-01-07,Unknown boolean,maybe\n"
)
GOOD_CSV = (
    "occurred_on,title,employer,skills,tags\n2025-01-05,Wrote the incident review,Acme,js;SQL,writing\n"
)


def sign_in(page, user):
    page.goto("/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name=f"Welcome, {user.name}")).to_be_visible()


def choose_file(page, name: str, content: str, fmt: str = "CSV spreadsheet (.csv)"):
    page.get_by_label(fmt).check()
    page.set_input_files(
        "input[name=file]", {"name": name, "mimeType": "text/csv", "buffer": content.encode()}
    )
    page.get_by_role("button", name="Check the file").click()


@pytest.mark.usefixtures("media", "sync_jobs")
def test_it_exports_with_progress_and_imports_a_csv_after_a_preview(
    page, shot, alice, tenant, transactional_db
):
    fill_workspace(tenant, alice)
    sign_in(page, alice)
    page.get_by_role("link", name="Import & export").click()
    expect(page.get_by_role("heading", name="Import & export", exact=True)).to_be_visible()
    shot("page")

    page.get_by_role("button", name="Export my log").click()
    download_link = page.locator("#export-status").get_by_role("link", name="Download")
    expect(download_link).to_be_visible()
    expect(page.locator("#export-status")).to_contain_text("3 entries, 2 evidence files, 1 link")
    shot("export-done")
    with page.expect_download() as download:
        download_link.click()
    assert download.value.suggested_filename.endswith(".zip")

    choose_file(page, "log.csv", BAD_CSV)
    expect(page.get_by_text("3 problems in 3 of 4 entries. Nothing has been imported.")).to_be_visible()
    expect(page.locator("#import-errors")).to_contain_text("“maybe” is not true or false")
    shot("preview-errors")
    assert Entry.objects.filter(tenant=tenant, deleted_at__isnull=True).count() == 3

    page.goto("/log/import-export/")
    choose_file(page, "log.csv", GOOD_CSV)
    expect(page.get_by_text("The entry can be imported.")).to_be_visible()
    expect(page.locator(".ar-preview-table")).to_contain_text("JavaScript; SQL")
    shot("preview-ok")
    page.get_by_role("button", name="Import 1 entry").click()
    expect(page.get_by_text("Imported 1 entry.")).to_be_visible()
    assert Entry.objects.filter(tenant=tenant, title="Wrote the incident review").exists()


@pytest.mark.usefixtures("media")
def test_it_follows_a_running_job_until_it_is_done(page, shot, alice, tenant, transactional_db):
    job = Job.objects.create(
        tenant=tenant,
        created_by=alice,
        kind="worklog.import",
        label="Import of journal.json",
        func_path="apps.worklog.tasks.worklog_import",
        status=Job.Status.RUNNING,
        started_at=timezone.now(),
        progress_done=120,
        progress_total=400,
        step="Copying evidence files",
        next_url="/log/",
    )
    sign_in(page, alice)
    page.goto(f"/jobs/{job.pk}/")
    expect(page.get_by_text("Copying evidence files · 120 of 400")).to_be_visible()
    shot("job-running")

    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.SUCCEEDED,
        finished_at=timezone.now(),
        progress_done=400,
        summary={"lines": ["Imported 400 entries and 12 pieces of evidence."], "next_label": "Open your log"},
    )
    expect(page.get_by_text("Imported 400 entries and 12 pieces of evidence.")).to_be_visible()
    expect(page.locator("[data-job-status=succeeded]")).not_to_have_attribute("hx-trigger", "every 1s")
    shot("job-done")


def test_it_shows_follow_ups_on_the_dashboard(page, shot, alice, tenant, transactional_db):
    today = timezone.localdate()
    due = Entry.objects.create(
        tenant=tenant,
        occurred_on=today - timedelta(days=60),
        title="Proposed the on-call rotation",
        outcome_pending=True,
        follow_up_on=today - timedelta(days=3),
    )
    Entry.objects.create(
        tenant=tenant,
        occurred_on=date(2025, 1, 2),
        title="Launched the pricing test",
        outcome_pending=True,
        follow_up_on=today,
    )
    sign_in(page, alice)
    card = page.locator("#follow-ups")
    expect(card).to_contain_text("Proposed the on-call rotation")
    expect(card).to_contain_text("due today")
    shot("dashboard-follow-ups")
    card.get_by_role("link", name="Add the result for “Proposed the on-call rotation”").click()
    expect(page).to_have_url(f"/log/entries/{due.pk}/edit/")
