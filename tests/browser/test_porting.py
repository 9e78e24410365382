"""Import & export in a real browser: export with live progress, a CSV preview with errors, the import,
a workspace ZIP checked by a job, a large CSV whose good rows are imported and bad rows skipped, a job page
that stops polling once done, and the dashboard's follow-ups. Each preview is looked at at 1280 and 390 px,
light and dark, and must fit without horizontal clipping."""

import io
import json
from datetime import date, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.core.models import Job
from apps.worklog.models import Entry
from apps.worklog.porting.export import workspace_export_write
from apps.worklog.tasks import IMPORT_KIND, PREVIEW_KIND, worklog_import, worklog_import_preview
from tests.conftest import PASSWORD
from tests.worklog.porting_helpers import fill_workspace, make_zip, media, sync_jobs, zip_members  # noqa: F401

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


LONG_SKILLS = "Kubernetes operators; Terraform modules; Long-running data pipelines; Incident command"
LONG_TAGS = "platform-reliability; quarterly-planning; cross-team-initiatives"


def sign_in(page, user):
    page.goto("/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name=f"Welcome, {user.name}")).to_be_visible()


def choose_file(page, name: str, content: str | bytes, fmt: str = "CSV spreadsheet (.csv)"):
    page.get_by_label(fmt).check()
    data = content.encode() if isinstance(content, str) else content
    page.set_input_files(
        "input[name=file]", {"name": name, "mimeType": "application/octet-stream", "buffer": data}
    )
    page.get_by_role("button", name="Check the file").click()


def looks(page, shot, name: str, selector: str = ".ar-preview-table") -> None:
    """Screenshots at 1280 and 390 px, light and dark; nothing wider than the window or clipped."""
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 860})
        for theme in ("light", "dark"):
            page.evaluate("theme => document.documentElement.setAttribute('data-bs-theme', theme)", theme)
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, width)
            # Looked up and measured in one evaluation: a polling card may swap itself out in between.
            expect(page.locator(selector).first).to_be_attached()
            scroll = page.evaluate(
                "selector => { const box = document.querySelector(selector).parentElement;"
                " return [box.scrollWidth, box.clientWidth]; }",
                selector,
            )
            assert scroll[0] <= scroll[1] + 1, (name, width, scroll)  # no horizontal scrolling inside
            shot(f"{name}-{width}-{theme}")
    page.set_viewport_size({"width": 1280, "height": 860})
    page.evaluate("document.documentElement.setAttribute('data-bs-theme', 'light')")


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
    expect(page.get_by_role("button", name="Import the 1 good row, skip the 3 bad ones")).to_be_visible()
    looks(page, shot, "preview-skip")
    assert Entry.objects.filter(tenant=tenant, deleted_at__isnull=True).count() == 3
    with page.expect_download() as skipped:
        page.get_by_role("link", name="Download the 3 skipped rows").click()
    assert skipped.value.suggested_filename == "log-skipped-rows.csv"
    page.get_by_role("button", name="Import the 1 good row, skip the 3 bad ones").click()
    expect(page.get_by_text("Imported 1 entry. Skipped 3 rows with problems, as you chose.")).to_be_visible()
    assert Entry.objects.filter(tenant=tenant, title="Good row").exists()

    page.goto("/log/import-export/")
    long_title = "A very long title about rebuilding the billing pipeline " * 3
    choose_file(
        page,
        "log.csv",
        GOOD_CSV + f"2025-01-06,{long_title.strip()},{'Initech ' * 12},{LONG_SKILLS},{LONG_TAGS}\n",
    )
    expect(page.get_by_text("All 2 entries can be imported.")).to_be_visible()
    expect(page.locator(".ar-preview-table")).to_contain_text("JavaScript; SQL")
    looks(page, shot, "preview-ok")
    page.get_by_role("button", name="Import 2 entries").click()
    expect(page.get_by_text("Imported 2 entries.")).to_be_visible()
    assert Entry.objects.filter(tenant=tenant, title="Wrote the incident review").exists()


@pytest.mark.usefixtures("media", "sync_jobs")
def test_it_checks_a_workspace_export_in_a_job_before_importing_it(
    page, shot, alice, tenant, charlie, other_tenant, transactional_db
):
    fill_workspace(tenant, alice)
    buffer = io.BytesIO()
    workspace_export_write(tenant=tenant, target=buffer)
    sign_in(page, charlie)
    page.goto("/log/import-export/")
    members = zip_members(buffer.getvalue())
    document = json.loads(members["entries.json"])
    document["entries"][0]["occurred_on"] = "2024-02-30"
    document["entries"][1]["evidence"][0]["path"] = "evidence/9/gone.png"
    members["entries.json"] = json.dumps(document)
    choose_file(page, "damaged.zip", make_zip(members), fmt="AfterResume export (.zip)")
    expect(page.get_by_text("2 problems in 2 of 3 entries. Nothing has been imported.")).to_be_visible()
    expect(page.get_by_text("restored whole or not at all")).to_be_visible()
    looks(page, shot, "zip-preview-errors")

    page.goto("/log/import-export/")
    choose_file(page, "export.zip", buffer.getvalue(), fmt="AfterResume export (.zip)")
    expect(page.get_by_text("All 3 entries can be imported.")).to_be_visible()
    job = Job.objects.filter(tenant=other_tenant, kind=PREVIEW_KIND).latest("id")
    expect(page).to_have_url(f"/log/import-export/import/{job.pk}/")
    looks(page, shot, "zip-preview-ok")
    page.get_by_role("button", name="Import 3 entries").click()
    expect(page.locator("[data-job-status=succeeded]")).to_contain_text("Imported 3 entries and 3 pieces")
    assert Entry.objects.filter(tenant=other_tenant).count() == 3

    # The same export again: the workspace is no longer empty, refused at once, before any job.
    page.goto("/log/import-export/")
    choose_file(page, "export.zip", buffer.getvalue(), fmt="AfterResume export (.zip)")
    expect(page.get_by_text("can only be imported into an empty workspace")).to_be_visible()
    assert Job.objects.filter(tenant=other_tenant, kind=PREVIEW_KIND).count() == 2


@pytest.mark.usefixtures("media")
def test_it_shows_a_large_files_check_until_its_preview_and_skips_bad_rows(
    page, shot, alice, tenant, transactional_db
):
    body = "A body long enough to make the file large. " * 10
    rows = [f"2024-{1 + i % 12:02d}-{1 + i % 28:02d},Entry {i},{body}" for i in range(2600)]
    rows[3] = f"2024-02-30,Not a real day,{body}"
    rows[7] = f"2024-03-01,{'An overlong title ' * 14},{body}"
    sign_in(page, alice)
    page.goto("/log/import-export/")
    choose_file(page, "big.csv", "occurred_on,title,body\n" + "\n".join(rows) + "\n")
    job = Job.objects.get(kind=PREVIEW_KIND)
    expect(page.get_by_text("Waiting to start…")).to_be_visible()
    looks(page, shot, "check-waiting", selector="#import-check")

    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.RUNNING,
        started_at=timezone.now(),
        step="Checking rows",
        progress_done=1200,
        progress_total=2600,
    )
    expect(page.get_by_text("Checking rows · 1,200 of 2,600")).to_be_visible()
    shot("check-running")
    Job.objects.filter(pk=job.pk).update(status=Job.Status.QUEUED, started_at=None)
    worklog_import_preview(job.pk, "csv", "big.csv")  # the worker, in this thread

    expect(page.get_by_text("2 problems in 2 of 2,600 entries. Nothing has been imported.")).to_be_visible()
    looks(page, shot, "check-preview-skip")
    page.get_by_role("button", name="Import the 2,598 good rows, skip the 2 bad ones").click()
    import_job = Job.objects.get(kind=IMPORT_KIND)
    expect(page).to_have_url(f"/jobs/{import_job.pk}/")
    worklog_import(import_job.pk, "csv", skip_bad=True, expect_good=2598)
    expect(page.get_by_text("Skipped 2 rows with problems, as you chose.")).to_be_visible()
    shot("import-done")
    assert Entry.objects.filter(tenant=tenant).count() == 2598


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
