import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from apps.accounts.models import Tenant
from apps.core.models import Job
from apps.worklog.models import Employer, Entry, Evidence, Project, Skill, Tag
from apps.worklog.porting.export import workspace_export_write
from apps.worklog.porting.importers import ImportHasErrors, import_commit
from apps.worklog.tasks import IMPORT_KIND, worklog_import
from tests.worklog.porting_helpers import (  # noqa: F401 - fixtures
    CONFIRM,
    confirm_import_fixture,
    fill_workspace,
    make_zip,
    media,
    snapshot,
    stored_files,
    sync_jobs,
    upload_import_fixture,
    zip_members,
)

pytestmark = pytest.mark.usefixtures("media", "sync_jobs")

GOOD_CSV = (
    "occurred_on,title,body,impact,employer,project,skills,tags,confidential,outcome_pending,follow_up_on,"
    "metric_value,metric_unit\n"
    "2025-03-14,Shipped the billing page,Rebuilt it.,Fewer tickets,ACME corp,Payments,"
    "js; Python ,#launch;Team,yes,false,,12.5,%\n"
    '2025-04-02,"Proposed on-call, with a rota",,,Globex,,,process,false,true,2025-06-01,,\n'
)


def _export_bytes(tenant) -> bytes:
    buffer = io.BytesIO()
    workspace_export_write(tenant=tenant, target=buffer)
    return buffer.getvalue()


_stored_files = stored_files


# --------------------------------------------------------------------------------------- ZIP round trip


def test_it_round_trips_a_workspace_through_its_export(
    client, alice, tenant, charlie, other_tenant, upload_import, confirm_import
):
    fill_workspace(tenant, alice)
    archive = _export_bytes(tenant)

    client.force_login(charlie)
    preview = upload_import(client, archive, fmt="zip", name="export.zip")
    assert preview.status_code == 200
    page = preview.content.decode()
    assert "All 3 entries can be imported." in page
    assert "3 employers, 3 projects, 3 skills, 3 tags and 2 evidence files" in page
    assert not Entry.objects.filter(tenant=other_tenant).exists()

    response = confirm_import(client, preview)
    job = Job.objects.get(tenant=other_tenant, kind=IMPORT_KIND)
    assert response.status_code == 302 and response["Location"] == reverse(
        "job_detail", kwargs={"pk": job.pk}
    )
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.summary["counts"]["entries"] == 3 and job.summary["counts"]["evidence"] == 3
    assert not job.input_file  # the upload is not kept once imported

    assert snapshot(other_tenant) == snapshot(tenant)
    # Files are copies with names of the new workspace, not shared with the old one.
    names = set(Evidence.objects.filter(tenant=other_tenant).exclude(file="").values_list("file", flat=True))
    assert len(names) == 2 and all(name.startswith(f"evidence/{other_tenant.pk}/") for name in names)
    assert set(Entry.objects.filter(tenant=other_tenant).values_list("author", flat=True)) == {charlie.pk}

    # Exporting the copy gives the same entries again.
    again = json.loads(zip_members(_export_bytes(other_tenant))["entries.json"])
    first = json.loads(zip_members(archive)["entries.json"])

    def plain(doc):
        return [{k: v for k, v in e.items() if k not in ("id", "evidence")} for e in doc["entries"]]

    assert plain(again) == plain(first)


def test_it_runs_the_import_job_once_even_if_delivered_twice(
    client, alice, tenant, charlie, other_tenant, upload_import, confirm_import
):
    fill_workspace(tenant, alice)
    client.force_login(charlie)
    preview = upload_import(client, _export_bytes(tenant), fmt="zip", name="export.zip")
    confirm_import(client, preview)
    job = Job.objects.get(tenant=other_tenant, kind=IMPORT_KIND)

    worklog_import(job.pk, "zip")  # the queue delivers it again

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.attempts == 1
    assert Entry.objects.filter(tenant=other_tenant).count() == 3


def test_it_refuses_a_workspace_export_into_a_workspace_with_entries(
    client, alice, tenant, charlie, other_tenant, upload_import, confirm_import
):
    fill_workspace(tenant, alice)
    archive = _export_bytes(tenant)
    Entry.objects.create(tenant=other_tenant, occurred_on=date(2024, 1, 2), title="Already here")
    client.force_login(charlie)

    response = upload_import(client, archive, fmt="zip", name="export.zip")

    assert response.status_code == 400
    assert "already has 1 entry" in response.content.decode()
    assert "can only be imported into an empty workspace" in response.content.decode()
    assert Entry.objects.filter(tenant=other_tenant).count() == 1
    assert not Employer.objects.filter(tenant=other_tenant).exists()
    assert not _stored_files() - set(Evidence.objects.exclude(file="").values_list("file", flat=True))


def test_it_refuses_at_confirmation_when_the_workspace_filled_up_meanwhile(
    client, alice, tenant, charlie, other_tenant, upload_import, confirm_import
):
    fill_workspace(tenant, alice)
    client.force_login(charlie)
    preview = upload_import(client, _export_bytes(tenant), fmt="zip", name="export.zip")
    Tag.objects.create(tenant=other_tenant, name="typed-meanwhile")

    confirm_import(client, preview)

    job = Job.objects.get(tenant=other_tenant, kind=IMPORT_KIND)
    assert job.status == Job.Status.FAILED
    assert "can only be imported into an empty workspace" in job.error
    assert not Entry.objects.filter(tenant=other_tenant).exists()
    assert not Evidence.objects.filter(tenant=other_tenant).exists()
    # No evidence file was left behind in storage for the refused import.
    assert not any(name.startswith(f"evidence/{other_tenant.pk}/") for name in _stored_files())


def test_it_reports_problems_inside_a_damaged_export(client, charlie, other_tenant, upload_import):
    members = {
        "manifest.json": json.dumps({"format": "afterresume.worklog", "version": 1}),
        "entries.json": json.dumps(
            {
                "format": "afterresume.worklog",
                "version": 1,
                "employers": [{"name": "Acme"}],
                "entries": [
                    {"occurred_on": "2024-02-30", "title": "Bad date"},
                    {
                        "occurred_on": "2024-03-01",
                        "title": "Lost file",
                        "evidence": [
                            {"kind": "file", "path": "evidence/9/1-gone.pdf", "original_name": "gone.pdf"},
                            {"kind": "link", "url": "javascript:alert(1)"},
                        ],
                    },
                    {"occurred_on": "2024-03-02", "title": "Fine"},
                ],
            }
        ),
    }
    client.force_login(charlie)
    response = upload_import(client, make_zip(members), fmt="zip", name="export.zip")
    page = response.content.decode()
    assert response.status_code == 200 and response.context["job"].kind == "worklog.import_preview"
    assert not response.context["token"]  # a workspace export is all or nothing: nothing to confirm
    assert "restored whole or not at all" in page
    assert "“2024-02-30” is not a real date." in page
    assert "evidence/9/1-gone.pdf is not in the archive." in page
    assert "is not a web address" in page
    assert "3 problems in 2 of 3 entries" in page
    assert not Employer.objects.filter(tenant=other_tenant).exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a zip at all", "This file is not a ZIP archive."),
        (make_zip({"hello.txt": "hi"}), "The archive has no manifest.json"),
        (make_zip({"manifest.json": '{"format": "other"}'}), "is not an AfterResume export"),
        (make_zip({"manifest.json": '{"format": "afterresume.worklog", "version": 99}'}), "newer version"),
    ],
)
def test_it_rejects_files_that_are_not_exports(client, charlie, content, message, upload_import):
    client.force_login(charlie)
    response = upload_import(client, content, fmt="zip", name="export.zip")
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not _stored_files()


# -------------------------------------------------------------------------------------------------- CSV


def test_it_previews_and_imports_a_csv(alice_client, alice, tenant, upload_import, confirm_import):
    Employer.objects.create(tenant=tenant, name="Acme Corp")
    preview = upload_import(alice_client, "\ufeff" + GOOD_CSV, fmt="csv", name="log.csv")
    assert preview.status_code == 200
    page = preview.content.decode()
    assert "All 2 entries can be imported." in page
    assert "Shipped the billing page" in page
    assert not Entry.objects.exists()

    response = confirm_import(alice_client, preview)
    assert response.status_code == 302 and response["Location"] == reverse("worklog_timeline")
    assert not Job.objects.exists()  # small files are imported at once

    shipped, proposed = Entry.objects.filter(tenant=tenant).order_by("occurred_on")
    assert shipped.employer.name == "Acme Corp"  # matched ignoring case, not duplicated
    assert Employer.objects.filter(tenant=tenant).count() == 2
    assert shipped.project.name == "Payments" and shipped.project.employer == shipped.employer
    assert sorted(s.name for s in shipped.skills.all()) == ["JavaScript", "Python"]
    assert sorted(t.name for t in shipped.tags.all()) == ["launch", "team"]
    assert shipped.confidential is True and shipped.outcome_pending is False
    assert shipped.metric_value == Decimal("12.5") and shipped.metric_unit == "%"
    assert shipped.body == "Rebuilt it." and shipped.impact == "Fewer tickets" and shipped.author == alice
    assert proposed.title == "Proposed on-call, with a rota"
    assert proposed.outcome_pending is True and proposed.follow_up_on == date(2025, 6, 1)
    assert not _stored_files()  # the upload is gone once imported


def test_it_reads_semicolon_separated_csv(alice_client, tenant, upload_import, confirm_import):
    content = "occurred_on;title;skills\n2025-01-05;Wrote the RFC;SQL, and more\n"
    preview = upload_import(alice_client, content, fmt="csv", name="log.csv")
    confirm_import(alice_client, preview)
    entry = Entry.objects.get(tenant=tenant)
    assert entry.title == "Wrote the RFC" and [s.name for s in entry.skills.all()] == ["SQL, and more"]


def test_it_lists_every_bad_row_with_its_number_and_writes_nothing(alice_client, tenant, upload_import):
    long_title = "x" * 201
    content = (
        "occurred_on,title,confidential,follow_up_on,outcome_pending,metric_value\n"
        "2025-01-05,Good row,false,,,\n"
        "05/01/2025,Bad date,false,,,\n"
        "2025-01-06,,false,,,\n"
        f"2025-01-07,{long_title},false,,,\n"
        "2025-01-08,Unknown boolean,maybe,,,\n"
        "2025-01-09,Pending without date,false,,true,\n"
        "2025-01-10,Not a number,false,,,twelve\n"
    )
    response = upload_import(alice_client, content, fmt="csv", name="log.csv")
    assert response.status_code == 400
    errors = [(e.row, e.field) for e in response.context["parsed"].errors]
    assert errors == [
        (3, "occurred_on"),
        (4, "title"),
        (5, "title"),
        (6, "confidential"),
        (7, "follow_up_on"),
        (8, "metric_value"),
    ]
    page = response.content.decode()
    assert "“05/01/2025” is not a date in the form YYYY-MM-DD" in page
    assert "title is missing; every entry needs one." in page
    assert "title is 201 characters long; the limit is 200." in page
    assert "“maybe” is not true or false" in page
    assert "6 problems in 6 of 7 entries. Nothing has been imported." in page
    assert 'name="mode" value="all"' not in page  # all or nothing is not on offer
    assert "Import the 1 good row, skip the 6 bad ones" in page
    assert not Entry.objects.exists() and not Employer.objects.exists()
    assert len(_stored_files()) == 1  # the upload waits for the choice


def test_it_refuses_the_whole_commit_when_one_row_is_bad(alice, tenant):
    content = GOOD_CSV + "2025-13-01,Impossible month,,,,,,,,,,,\n"
    with pytest.raises(ImportHasErrors) as caught:
        import_commit(tenant=tenant, user=alice, fmt="csv", handle=io.BytesIO(content.encode()))
    assert "1 problem found in the file; nothing was imported" in caught.value.message
    assert not Entry.objects.exists()
    assert not Employer.objects.exists() and not Skill.objects.exists() and not Tag.objects.exists()


def test_it_checks_the_file_again_when_the_import_is_confirmed(
    alice_client, tenant, upload_import, confirm_import
):
    preview = upload_import(alice_client, GOOD_CSV, fmt="csv", name="log.csv")
    name = alice_client.session["worklog_pending_import"]["name"]
    # The stored upload changes between the preview and the confirmation.
    default_storage.delete(name)
    default_storage.save(name, io.BytesIO((GOOD_CSV + "2025-01-01,,,,,,,,,,,,\n").encode()))

    response = confirm_import(alice_client, preview)

    assert response.status_code == 400
    assert "1 problem found in the file; nothing was imported" in response.content.decode()
    assert not Entry.objects.exists()


def test_it_refuses_a_confirmation_without_a_checked_file(alice_client):
    response = alice_client.post(CONFIRM, {"token": "made-up"})
    assert response.status_code == 400
    assert "no checked file waiting" in response.content.decode()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "date,headline\n2025-01-01,x\n",
            "missing columns occurred_on, title; unknown columns date, headline",
        ),
        ("occurred_on,title,colour\n2025-01-01,x,red\n", "unknown column colour"),
        ("occurred_on,title\n", "The file has no entries to import."),
        ("", "The file is empty."),
        ("occurred_on,title\n2025-01-01,caf\xe9\n".encode("latin-1"), "not UTF-8 text"),
    ],
)
def test_it_explains_a_csv_it_cannot_read(alice_client, content, message, upload_import):
    response = upload_import(alice_client, content, fmt="csv", name="log.csv")
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Entry.objects.exists()


def test_it_imports_a_large_csv_as_a_job(alice_client, tenant, upload_import, confirm_import):
    rows = "".join(
        f"2024-{1 + i % 12:02d}-{1 + i % 28:02d},Entry {i},,,Acme,,Python;SQL,bulk\n" for i in range(2001)
    )
    preview = upload_import(
        alice_client,
        "occurred_on,title,body,impact,employer,project,skills,tags\n" + rows,
        fmt="csv",
        name="big.csv",
    )
    assert preview.status_code == 200 and "runs in the background" in preview.content.decode()

    response = confirm_import(alice_client, preview)

    job = Job.objects.get()
    assert response["Location"] == reverse("job_detail", kwargs={"pk": job.pk})
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert Entry.objects.filter(tenant=tenant).count() == 2001
    assert Skill.objects.filter(tenant=tenant).count() == 2
    assert Entry.skills.through.objects.count() == 4002


# ------------------------------------------------------------------------------------------------- jrnl

JRNL = {
    "tags": {"@work": 2, "@oncall": 1},
    "entries": [
        {
            "title": "Fixed the flaky deploy.",
            "body": "Turned out to be DNS. @work",
            "date": "2024-06-03",
            "time": "17:40",
            "tags": ["@work"],
            "starred": True,
        },
        {
            "title": "Paged twice overnight.",
            "body": "",
            "date": "2024-06-03",
            "time": "08:05",
            "tags": ["@work", "@oncall"],
            "starred": False,
        },
        {
            "title": "A very long first sentence " + "that goes on " * 20 + "and on.",
            "body": "Rest.",
            "date": "2024-06-04",
            "time": "09:00",
            "tags": [],
            "starred": False,
        },
    ],
}


def test_it_imports_a_jrnl_export(alice_client, tenant, upload_import, confirm_import):
    preview = upload_import(alice_client, json.dumps(JRNL), fmt="jrnl", name="journal.json")
    assert preview.status_code == 200, preview.context["parsed"].errors
    confirm_import(alice_client, preview)

    paged, fixed, long = Entry.objects.filter(tenant=tenant).order_by("occurred_on", "id")
    assert paged.title == "Paged twice overnight."  # 08:05 comes before 17:40 on the same day
    assert sorted(t.name for t in paged.tags.all()) == ["oncall", "work"]
    assert fixed.body == "Turned out to be DNS. @work"
    assert sorted(t.name for t in fixed.tags.all()) == ["starred", "work"]
    assert len(long.title) <= 200 and long.title.endswith("…")
    assert long.body.startswith(JRNL["entries"][2]["title"]) and long.body.endswith("Rest.")


def test_it_reports_bad_jrnl_entries(alice_client, upload_import):
    document = {"entries": [{"title": "No date"}, "not an entry", {"date": "2024-01-01", "title": "Fine"}]}
    response = upload_import(alice_client, json.dumps(document), fmt="jrnl", name="journal.json")
    assert response.status_code == 400
    assert [(e.row, e.field) for e in response.context["parsed"].errors] == [(1, "occurred_on"), (2, "entry")]
    assert not Entry.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "This is not valid JSON (line 1, column 2"),
        ('[{"date": "2024-01-01"}]', "This JSON is not a jrnl export"),
    ],
)
def test_it_explains_a_jrnl_file_it_cannot_read(alice_client, content, message, upload_import):
    response = upload_import(alice_client, content, fmt="jrnl", name="journal.json")
    assert response.status_code == 400
    assert message in response.content.decode()


def test_it_keeps_the_import_page_for_members_only(client, alice, charlie, other_tenant, upload_import):
    # Each person imports into their own workspace: charlie's import never lands in alice's.
    client.force_login(charlie)
    preview = upload_import(client, GOOD_CSV, fmt="csv", name="log.csv")
    assert preview.status_code == 200
    assert Tenant.objects.get(pk=other_tenant.pk)
    client.force_login(alice)
    response = client.post(CONFIRM, {"token": preview.context["token"]})
    assert response.status_code == 400
    assert not Entry.objects.exists() and not Project.objects.exists()
