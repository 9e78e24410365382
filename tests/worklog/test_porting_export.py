import json

import pytest
from django.urls import reverse

from apps.core.models import Job
from apps.worklog.models import Entry
from apps.worklog.porting.export import EXPORT_FORMAT, EXPORT_VERSION
from tests.worklog.porting_helpers import PDF_BYTES, PNG_BYTES, fill_workspace, media, sync_jobs, zip_members  # noqa: F401 - fixtures

pytestmark = pytest.mark.usefixtures("media", "sync_jobs")


def _export(client, capture) -> Job:
    with capture(execute=True):
        response = client.post(reverse("worklog_porting_export"))
    assert response.status_code == 302
    job = Job.objects.get()
    assert response["Location"] == reverse("job_detail", kwargs={"pk": job.pk})
    return job


def _download(client, job: Job) -> dict[str, bytes]:
    response = client.get(reverse("job_download", kwargs={"pk": job.pk}))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    return zip_members(b"".join(response.streaming_content))


def test_it_exports_entries_reference_data_markdown_and_evidence(
    alice_client, alice, tenant, django_capture_on_commit_callbacks
):
    fill_workspace(tenant, alice)
    job = _export(alice_client, django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.progress_done == job.progress_total == 3 + 2  # entries and evidence files
    assert job.result_name.startswith("afterresume-alices-workspace-") and job.result_name.endswith(".zip")

    members = _download(alice_client, job)
    manifest = json.loads(members["manifest.json"])
    assert manifest["format"] == EXPORT_FORMAT and manifest["version"] == EXPORT_VERSION
    assert manifest["counts"] == {
        "entries": 3,
        "evidence_files": 2,
        "evidence_links": 1,
        "employers": 3,
        "projects": 3,
        "skills": 3,
        "tags": 3,
    }

    document = json.loads(members["entries.json"])
    titles = [entry["title"] for entry in document["entries"]]
    assert titles == [
        "Shipped the new checkout",
        "Mentored two new engineers",
        "Proposed an on-call rotation",
    ]
    assert "A mistaken entry" not in members["entries.json"].decode()
    checkout = document["entries"][0]
    assert checkout["employer"] == "Acme Corp" and checkout["project"] == "Payments"
    assert sorted(checkout["skills"]) == ["PostgreSQL", "Python"]
    assert checkout["metric_value"] == "12.5" and checkout["metric_before"] == "31"
    assert checkout["metric_after"] == "43.5" and checkout["metric_unit"] == "%"
    assert {"name": "Side project", "employer": ""} in document["projects"]
    assert {"name": "JS tooling", "key": "js tooling"} in document["skills"]

    pdf, link = checkout["evidence"]
    assert link == {
        "kind": "link",
        "title": "Launch post",
        "url": "https://example.com/launch-post",
        "original_name": "",
        "content_type": "",
        "size_bytes": 0,
        "path": "",
    }
    assert pdf["original_name"] == "Q1 report.pdf" and pdf["content_type"] == "application/pdf"
    assert members[pdf["path"]] == PDF_BYTES
    png = document["entries"][1]["evidence"][0]
    assert members[png["path"]] == PNG_BYTES

    assert sorted(name for name in members if name.startswith("markdown/")) == [
        "markdown/2024.md",
        "markdown/2025.md",
    ]
    year = members["markdown/2024.md"].decode()
    assert "### 2024-03-14 — Shipped the new checkout" in year
    assert "*Acme Corp · Payments*" in year
    assert "**Result:** 12.5 % (before 31, after 43.5)" in year
    assert "**Confidential**" in year
    assert f"[Quarterly report](../{pdf['path']})" in year
    assert "**Outcome pending** — follow up on 2025-04-01." in members["markdown/2025.md"].decode()


def test_it_leaves_other_workspaces_out(
    alice_client, alice, charlie, other_tenant, django_capture_on_commit_callbacks
):
    fill_workspace(other_tenant, charlie)
    Entry.objects.create(tenant=alice.memberships.get().tenant, occurred_on="2024-05-01", title="Mine")
    job = _export(alice_client, django_capture_on_commit_callbacks)
    members = _download(alice_client, job)
    document = json.loads(members["entries.json"])
    assert [entry["title"] for entry in document["entries"]] == ["Mine"]
    assert document["employers"] == [] and document["skills"] == []
    assert not [name for name in members if name.startswith("evidence/")]


def test_it_exports_an_empty_workspace(alice_client, django_capture_on_commit_callbacks):
    job = _export(alice_client, django_capture_on_commit_callbacks)
    members = _download(alice_client, job)
    assert json.loads(members["manifest.json"])["counts"]["entries"] == 0
    assert json.loads(members["entries.json"])["entries"] == []


def test_it_polls_the_job_with_htmx_until_it_is_done(
    alice_client, alice, tenant, django_capture_on_commit_callbacks
):
    fill_workspace(tenant, alice)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = alice_client.post(reverse("worklog_porting_export"), HTTP_HX_REQUEST="true")
    assert response.status_code == 202
    job = Job.objects.get()
    html = response.content.decode()
    assert 'hx-trigger="every 1s"' in html and "Waiting to start" in html

    for callback in callbacks:  # the worker picks it up
        callback()
    response = alice_client.get(reverse("job_detail", kwargs={"pk": job.pk}), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "hx-trigger" not in html
    assert reverse("job_download", kwargs={"pk": job.pk}) in html
    assert "3 entries, 2 evidence files, 1 link" in html


def test_it_keeps_only_the_newest_export_files(alice_client, django_capture_on_commit_callbacks):
    for _ in range(4):
        with django_capture_on_commit_callbacks(execute=True):
            alice_client.post(reverse("worklog_porting_export"))
    jobs = list(Job.objects.order_by("created_at", "id"))
    assert [bool(job.result_file) for job in jobs] == [False, True, True, True]
    response = alice_client.get(reverse("job_download", kwargs={"pk": jobs[0].pk}))
    assert response.status_code == 404
    page = alice_client.get(reverse("job_detail", kwargs={"pk": jobs[0].pk})).content.decode()
    assert "replaced by a newer one" in page


def test_it_shows_the_latest_export_on_the_page(alice_client, django_capture_on_commit_callbacks):
    _export(alice_client, django_capture_on_commit_callbacks)
    page = alice_client.get(reverse("worklog_porting")).content.decode()
    assert "Export of your work log" in page and ">afterresume-alices-workspace-" in page
