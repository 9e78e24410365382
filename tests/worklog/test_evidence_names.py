"""File names reach headers only through one helper: names are cleaned when stored, the header is built
safely whatever is stored, and a download's extension matches the type the bytes were checked as."""

import tempfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.core.filenames import content_disposition, filename_clean
from apps.core.models import Job
from apps.worklog import services
from apps.worklog.models import Evidence
from apps.worklog.uploads import check_upload
from tests.worklog.conftest import PDF_BYTES, PNG_BYTES

EVIL = "report\r\nSet-Cookie: sessionid=stolen\r\n\x00\u202e.pdf"


def _stored_evidence(entry, *, name: str, content: bytes, content_type: str) -> Evidence:
    """A row as an older version (or a direct database write) may have left it: nothing cleaned."""
    return Evidence.objects.create(
        tenant=entry.tenant,
        entry=entry,
        kind=Evidence.Kind.FILE,
        file=ContentFile(content, name="x"),
        original_name=name,
        content_type=content_type,
        size_bytes=len(content),
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\report.pdf", "report.pdf"),
        ("a\r\nb\tc\x00d.pdf", "a b c d.pdf"),
        ("\u202egnp.exe", "gnp.exe"),
        ("half\ud800.txt", "half .txt"),
        ("..", "file"),
        ("   ", "file"),
        ("x" * 300 + ".pdf", "x" * 251 + ".pdf"),
    ],
)
def test_it_cleans_names_of_folders_and_invisible_characters(name, expected):
    assert filename_clean(name) == expected


def test_it_builds_a_header_that_cannot_be_split():
    value = content_disposition(EVIL)
    assert "\r" not in value and "\n" not in value and "\x00" not in value
    assert value == 'attachment; filename="report Set-Cookie: sessionid=stolen .pdf"'
    assert content_disposition('münchen;"x".csv') == (
        "attachment; filename=\"munchen__x_.csv\"; filename*=UTF-8''m%C3%BCnchen%3B%22x%22.csv"
    )


def test_it_cleans_an_uploaded_name_before_storing_it(make_entry, alice, media):
    entry = make_entry()
    upload = SimpleUploadedFile(EVIL, PDF_BYTES, content_type="application/pdf")
    piece = services.evidence_add_file(entry=entry, actor=alice, upload=upload)
    assert piece.original_name == "report Set-Cookie: sessionid=stolen .pdf"


def test_it_checks_a_plain_file_object_like_an_upload(settings):
    with tempfile.TemporaryFile() as handle:
        handle.write(PNG_BYTES)
        checked = check_upload(handle, name="shot", claims=False)
        assert (checked.original_name, checked.content_type, checked.size_bytes) == (
            "shot",
            "image/png",
            len(PNG_BYTES),
        )
        settings.EVIDENCE_MAX_BYTES = 16
        with pytest.raises(Exception, match="files can be at most"):
            check_upload(handle, name="shot.png")


def test_it_serves_a_stored_name_with_cr_lf_without_breaking_the_header(alice_client, make_entry, media):
    # PostgreSQL cannot hold the NUL, so the stored row has every other troublemaker.
    piece = _stored_evidence(
        make_entry(),
        name=EVIL.replace("\x00", ""),
        content=PDF_BYTES,
        content_type="application/pdf\r\nX-Evil: 1",
    )
    response = alice_client.get(reverse("worklog_evidence_file", args=[piece.pk]) + "?download=1")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"  # an unknown stored type is only bytes
    assert (
        response["Content-Disposition"] == 'attachment; filename="report Set-Cookie: sessionid=stolen .pdf"'
    )
    assert "Set-Cookie" not in response.headers and "X-Evil" not in response.headers


@pytest.mark.parametrize(
    ("name", "content", "content_type", "download"),
    [
        ("report", PNG_BYTES, "image/png", "report.png"),
        ("report.exe", PNG_BYTES, "image/png", "report.exe.png"),
        ("photo.JPG", b"\xff\xd8\xff\xe0" + b"\0" * 64, "image/jpeg", "photo.JPG"),
        ("minutes.pdf", PDF_BYTES, "application/pdf", "minutes.pdf"),
        ("notes", b"plain words", "text/plain", "notes.txt"),
        ("notes.md", b"# Title", "text/markdown", "notes.md"),
    ],
)
def test_it_gives_a_download_the_extension_of_its_checked_type(
    alice_client, make_entry, media, name, content, content_type, download
):
    piece = _stored_evidence(make_entry(), name=name, content=content, content_type=content_type)
    response = alice_client.get(reverse("worklog_evidence_file", args=[piece.pk]) + "?download=1")
    assert response["Content-Disposition"] == f'attachment; filename="{download}"'


def test_it_keeps_the_persons_name_when_an_upload_is_renamed_to_match(alice, alice_client, make_entry, media):
    upload = SimpleUploadedFile("screenshot", PNG_BYTES, content_type="image/png")
    piece = services.evidence_add_file(entry=make_entry(), actor=alice, upload=upload)
    assert piece.original_name == "screenshot"  # kept as the person named it
    response = alice_client.get(reverse("worklog_evidence_file", args=[piece.pk]))
    assert response["Content-Disposition"] == 'inline; filename="screenshot.png"'


def test_it_downloads_a_job_result_whose_name_has_a_newline(alice_client, alice, tenant, media):
    job = Job.objects.create(
        tenant=tenant,
        created_by=alice,
        kind="worklog.import_preview",
        label="Checking",
        func_path="apps.worklog.tasks.worklog_import_preview",
        status=Job.Status.SUCCEEDED,
        result_name="log\r\nSet-Cookie: a=b-skipped-rows.csv",
        result_content_type="text/csv; charset=utf-8",
    )
    job.result_file.save("result.csv", ContentFile(b"occurred_on,title,errors\r\n"), save=True)
    response = alice_client.get(reverse("job_download", args=[job.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="log Set-Cookie: a=b-skipped-rows.csv"'
    assert "Set-Cookie" not in response.headers
