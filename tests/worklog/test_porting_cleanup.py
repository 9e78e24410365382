"""An uploaded import file is kept only while it waits for a confirmation: every other way out (a parse
error, a rejection, an exception, a cancel, a failed or cancelled job) removes it from imports/."""

import io
import json
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from apps.core.jobs import job_cancel
from apps.core.models import Job
from apps.worklog.models import Entry
from apps.worklog.porting import importers
from apps.worklog.tasks import PREVIEW_KIND, worklog_import_preview
from tests.worklog.porting_helpers import (  # noqa: F401 - fixtures
    PREVIEW,
    confirm_import_fixture,
    import_uploads,
    make_zip,
    media,
    sync_jobs,
    upload_import_fixture,
)

pytestmark = pytest.mark.usefixtures("media", "sync_jobs")

MANIFEST = json.dumps({"format": "afterresume.worklog", "version": 1})
GOOD = "occurred_on,title\n2025-01-05,Kept until confirmed\n"


def _big_csv(rows: int = 2600) -> bytes:
    body = "y" * 420
    return (
        "occurred_on,title,body\n" + "".join(f"2024-03-01,Row {i},{body}\n" for i in range(rows))
    ).encode()


def _post(client, content: bytes | str, *, fmt: str, name: str):
    data = content.encode() if isinstance(content, str) else content
    return client.post(PREVIEW, {"format": fmt, "file": SimpleUploadedFile(name, data)})


@pytest.mark.parametrize(
    ("content", "fmt", "name"),
    [
        ("date,headline\n2025-01-01,x\n", "csv", "log.csv"),  # refused as a whole
        ("occurred_on,title\n05/01/2025,Bad\n", "csv", "log.csv"),  # every row bad: nothing to import
        ("{not json", "jrnl", "journal.json"),  # parse error
        ('{"entries": ' + "[" * 50_000 + "]" * 50_000 + "}", "jrnl", "journal.json"),  # nested too deep
        (b"PK\x05\x06" + b"\0" * 18, "zip", "export.zip"),  # an empty archive: no manifest
        (make_zip({"manifest.json": '{"format": "other"}'}), "zip", "export.zip"),  # not an export
    ],
)
def test_it_removes_the_upload_when_the_file_is_refused(alice_client, upload_import, content, fmt, name):
    page = upload_import(alice_client, content, fmt=fmt, name=name)
    assert page.status_code == 400
    assert not import_uploads()


def test_it_removes_the_upload_when_the_check_raises(alice_client, monkeypatch):
    def crash(handle, *, today):
        raise RuntimeError("a bug in the parser")

    monkeypatch.setattr(importers, "csv_parse", crash)
    with pytest.raises(RuntimeError):
        _post(alice_client, GOOD, fmt="csv", name="log.csv")
    assert not import_uploads()


def test_it_removes_the_upload_when_the_check_job_fails(
    client, charlie, other_tenant, upload_import, monkeypatch
):
    def crash(handle, *, today, check_files, progress=None):
        raise RuntimeError("a bug in the archive reader")

    monkeypatch.setattr(importers, "zip_parse", crash)
    archive = make_zip({"manifest.json": MANIFEST, "entries.json": '{"entries": []}'})
    client.force_login(charlie)
    page = upload_import(client, archive, fmt="zip", name="export.zip")

    job = Job.objects.get(tenant=other_tenant, kind=PREVIEW_KIND)
    assert job.status == Job.Status.FAILED and f"#{job.pk}" in job.error
    assert "Stopped; the file was not kept." in page.content.decode()
    assert not import_uploads() and not job.input_file


def test_it_removes_the_upload_when_the_check_job_finds_nothing_to_import(client, charlie, upload_import):
    entries = json.dumps({"entries": [{"occurred_on": "2024-02-30", "title": "Bad date"}]})
    client.force_login(charlie)
    upload_import(
        client, make_zip({"manifest.json": MANIFEST, "entries.json": entries}), fmt="zip", name="x.zip"
    )
    assert not import_uploads()


def test_it_removes_the_upload_when_the_person_cancels(alice_client, upload_import):
    page = upload_import(alice_client, GOOD, fmt="csv", name="log.csv")
    assert page.context["token"] and len(import_uploads()) == 1
    response = alice_client.post(reverse("worklog_porting_import_cancel"))
    assert response.status_code == 302
    assert not import_uploads()
    assert "worklog_pending_import" not in alice_client.session


def test_it_removes_the_upload_when_a_new_file_replaces_it(alice_client, upload_import):
    upload_import(alice_client, GOOD, fmt="csv", name="first.csv")
    [first] = import_uploads()
    upload_import(alice_client, GOOD, fmt="csv", name="second.csv")
    assert first not in import_uploads() and len(import_uploads()) == 1


def test_it_removes_the_upload_when_a_waiting_check_is_cancelled(alice_client, tenant):
    response = _post(alice_client, _big_csv(), fmt="csv", name="big.csv")  # its job is queued, not run
    job = Job.objects.get(kind=PREVIEW_KIND)
    assert response.status_code == 302 and len(import_uploads()) == 1

    alice_client.post(reverse("worklog_porting_import_cancel"))

    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    assert not import_uploads() and not job.input_file
    worklog_import_preview(job.pk, "csv", "big.csv")  # the queue delivers it anyway: nothing happens
    assert not Entry.objects.exists()


def test_it_removes_the_upload_when_the_check_job_is_cancelled_elsewhere(alice, alice_client):
    _post(alice_client, _big_csv(), fmt="csv", name="big.csv")
    job = Job.objects.get(kind=PREVIEW_KIND)
    job_cancel(job=job, user=alice)  # from the jobs API or the job page
    assert not import_uploads()


def test_it_removes_the_upload_when_the_import_job_fails(
    client, charlie, other_tenant, alice, tenant, upload_import, confirm_import
):
    from apps.worklog.models import Tag

    entries = json.dumps({"entries": [{"occurred_on": "2024-05-02", "title": "Fine"}]})
    client.force_login(charlie)
    page = upload_import(
        client, make_zip({"manifest.json": MANIFEST, "entries.json": entries}), fmt="zip", name="x.zip"
    )
    Tag.objects.create(tenant=other_tenant, name="typed-meanwhile")  # the workspace is no longer empty
    confirm_import(client, page)
    assert Job.objects.get(kind="worklog.import").status == Job.Status.FAILED
    assert not import_uploads()


def test_it_removes_uploads_nobody_came_back_for(alice_client, tenant, upload_import):
    stale = default_storage.save(f"imports/{tenant.pk}/abandoned.csv", io.BytesIO(GOOD.encode()))
    old = (timezone.now() - timedelta(days=2)).timestamp()
    import os

    os.utime(default_storage.path(stale), (old, old))
    upload_import(alice_client, GOOD, fmt="csv", name="log.csv")
    assert stale not in import_uploads() and len(import_uploads()) == 1
