"""Import the good rows and skip the bad ones: offered for CSV and jrnl next to "fix and upload again",
with the skipped rows as a spreadsheet-safe CSV that imports again once fixed; a workspace ZIP stays all
or nothing. Large files are checked by a job whose page shows progress and then the same choice."""

import csv
import io
import json

import pytest
from django.urls import reverse

from apps.core.models import Job
from apps.worklog.models import Entry
from apps.worklog.porting.importers import INLINE_BYTES_MAX
from apps.worklog.tasks import IMPORT_KIND, PREVIEW_KIND
from tests.worklog.porting_helpers import (  # noqa: F401 - fixtures
    PREVIEW,
    confirm_import_fixture,
    import_uploads,
    make_zip,
    media,
    stored_files,
    sync_jobs,
    upload_import_fixture,
)

pytestmark = pytest.mark.usefixtures("media", "sync_jobs")

MIXED_CSV = (
    "occurred_on,title,tags,confidential\n"
    "2025-01-05,Wrote the incident review,writing,false\n"
    '05/01/2025,"=HYPERLINK(""https://evil.example"",""click"")",+cmd,false\n'
    "2025-01-07,Ran the retro,-team,false\n"
    "2025-01-08,@mention in a title,ops,maybe\n"
    "2025-01-09,Shipped the fix,,false\n"
)


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_it_imports_the_good_rows_and_hands_back_the_bad_ones(
    alice_client, tenant, upload_import, confirm_import
):
    page = upload_import(alice_client, MIXED_CSV, fmt="csv", name="log.csv")
    assert page.status_code == 400
    html = page.content.decode()
    assert "Import the 3 good rows, skip the 2 bad ones" in html
    assert "Fix and upload again" in html
    assert "Download the 2 skipped rows" in html

    download = alice_client.get(reverse("worklog_porting_import_skipped"))
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert download["Content-Disposition"] == 'attachment; filename="log-skipped-rows.csv"'
    rows = _csv_rows(download.content.decode())
    assert rows[0] == ["occurred_on", "title", "tags", "confidential", "errors"]
    assert rows[1][:4] == ["05/01/2025", '\'=HYPERLINK("https://evil.example","click")', "'+cmd", "false"]
    assert rows[1][4].startswith("occurred_on: “05/01/2025” is not a date")
    assert rows[2][:4] == ["2025-01-08", "'@mention in a title", "ops", "maybe"]
    assert "confidential: “maybe” is not true or false" in rows[2][4]
    assert len(rows) == 3

    response = confirm_import(alice_client, page, mode="skip")
    assert response.status_code == 302 and response["Location"] == reverse("worklog_timeline")
    titles = sorted(Entry.objects.filter(tenant=tenant).values_list("title", flat=True))
    assert titles == ["Ran the retro", "Shipped the fix", "Wrote the incident review"]
    [message] = [m.message for m in alice_client.get(response["Location"]).context["messages"]]
    assert message == "Imported 3 entries. Skipped 2 rows with problems, as you chose."
    assert not import_uploads()

    # The skipped rows, fixed, import again: the ' a spreadsheet would show is taken off.
    fixed = download.content.decode().replace("05/01/2025", "2025-01-06").replace(",maybe,", ",true,")
    again = upload_import(alice_client, fixed, fmt="csv", name="log-skipped-rows.csv")
    assert again.context["preview"].ok, again.context["preview"].errors
    confirm_import(alice_client, again)
    assert Entry.objects.filter(tenant=tenant, title='=HYPERLINK("https://evil.example","click")').exists()
    assert Entry.objects.get(tenant=tenant, title="@mention in a title").confidential is True


def test_it_keeps_all_or_nothing_when_the_person_does_not_choose_to_skip(
    alice_client, tenant, upload_import, django_capture_on_commit_callbacks
):
    page = upload_import(alice_client, MIXED_CSV, fmt="csv", name="log.csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            reverse("worklog_porting_import_commit"), {"token": page.context["token"], "mode": "all"}
        )
    assert response.status_code == 400
    assert not Entry.objects.exists()
    assert not import_uploads()


def test_it_offers_the_choice_for_jrnl_too(alice_client, tenant, upload_import, confirm_import):
    document = {
        "entries": [
            {"date": "2024-06-03", "title": "Fixed the flaky deploy.", "body": "", "tags": ["@work"]},
            {
                "date": "June 4th",
                "title": "Paged twice.",
                "body": "=1+1",
                "tags": ["@oncall"],
                "starred": True,
            },
        ]
    }
    page = upload_import(alice_client, json.dumps(document), fmt="jrnl", name="journal.json")
    assert "Import the 1 good row, skip the 1 bad one" in page.content.decode()
    rows = _csv_rows(alice_client.get(reverse("worklog_porting_import_skipped")).content.decode())
    assert rows[0] == ["occurred_on", "title", "body", "tags", "errors"]
    assert rows[1][:4] == ["June 4th", "Paged twice.", "'=1+1", "'@oncall; starred"]

    confirm_import(alice_client, page, mode="skip")
    assert list(Entry.objects.filter(tenant=tenant).values_list("title", flat=True)) == [
        "Fixed the flaky deploy."
    ]


def test_it_keeps_a_workspace_export_all_or_nothing_and_says_why(client, charlie, upload_import):
    entries = {
        "entries": [
            {"occurred_on": "2024-05-02", "title": "Fine"},
            {"occurred_on": "2024-02-30", "title": "Bad date"},
        ]
    }
    archive = make_zip(
        {
            "manifest.json": json.dumps({"format": "afterresume.worklog", "version": 1}),
            "entries.json": json.dumps(entries),
        }
    )
    client.force_login(charlie)
    page = upload_import(client, archive, fmt="zip", name="export.zip")
    html = page.content.decode()
    assert "restored whole or not at all, so that the copy matches the log it came from" in html
    assert "skip the" not in html and not page.context["token"]
    assert not import_uploads()


def test_it_checks_a_large_csv_in_a_job_and_imports_its_good_rows(
    alice_client, tenant, django_capture_on_commit_callbacks, confirm_import
):
    body = "x" * 400
    lines = [f"2024-{1 + i % 12:02d}-{1 + i % 28:02d},Entry {i},{body}" for i in range(3000)]
    lines[10] = f"2024-13-01,Bad month,{body}"
    lines[2500] = f"2024-01-01,,{body}"
    content = ("occurred_on,title,body\n" + "\n".join(lines) + "\n").encode()
    assert len(content) > INLINE_BYTES_MAX

    from django.core.files.uploadedfile import SimpleUploadedFile

    response = alice_client.post(PREVIEW, {"format": "csv", "file": SimpleUploadedFile("big.csv", content)})
    job = Job.objects.get(kind=PREVIEW_KIND)
    job_url = reverse("worklog_porting_import_job", args=[job.pk])
    assert response.status_code == 302 and response["Location"] == job_url

    # While the job waits, its page shows the progress and polls for it.
    waiting = alice_client.get(job_url)
    assert "Waiting to start…" in waiting.content.decode()
    assert f'hx-get="{job_url}"' in waiting.content.decode()
    assert alice_client.get(job_url, HTTP_HX_REQUEST="true").status_code == 200

    from apps.worklog.tasks import worklog_import_preview

    worklog_import_preview(job.pk, "csv", "big.csv")
    finished = alice_client.get(job_url, HTTP_HX_REQUEST="true")
    assert finished.status_code == 204 and finished["HX-Refresh"] == "true"

    page = alice_client.get(job_url)
    preview = page.context["preview"]
    assert (preview.total, preview.good, preview.bad) == (3000, 2998, 2)
    assert [(e.row, e.field) for e in preview.errors] == [(12, "occurred_on"), (2502, "title")]
    html = page.content.decode()
    assert "Import the 2,998 good rows, skip the 2 bad ones" in html
    download = alice_client.get(reverse("job_download", args=[job.pk]))
    assert download["Content-Disposition"] == 'attachment; filename="big-skipped-rows.csv"'
    assert len(_csv_rows(b"".join(download.streaming_content).decode())) == 3

    response = confirm_import(alice_client, page, mode="skip")
    import_job = Job.objects.get(kind=IMPORT_KIND)
    assert response["Location"] == reverse("job_detail", args=[import_job.pk])
    assert import_job.status == Job.Status.SUCCEEDED, import_job.error
    assert import_job.summary["lines"][:2] == [
        "Imported 2,998 entries.",
        "Skipped 2 rows with problems, as you chose.",
    ]
    assert Entry.objects.filter(tenant=tenant).count() == 2998
    assert not import_uploads()


def test_it_refuses_a_second_confirmation_of_the_same_check(
    alice_client, tenant, upload_import, confirm_import
):
    page = upload_import(alice_client, "occurred_on,title\n2025-01-05,Once\n", fmt="csv", name="log.csv")
    session_pending = dict(alice_client.session["worklog_pending_import"])
    confirm_import(alice_client, page)
    # The same form posted again (a double click, a replay with the old session) imports nothing more.
    session = alice_client.session
    session["worklog_pending_import"] = session_pending
    session.save()
    again = alice_client.post(reverse("worklog_porting_import_commit"), {"token": page.context["token"]})
    assert again.status_code == 400
    assert Entry.objects.filter(tenant=tenant).count() == 1
    assert not stored_files()
