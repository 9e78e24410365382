import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from apps.worklog.models import Evidence
from tests.worklog.conftest import PDF_BYTES, PNG_BYTES


def docx_bytes(folder="word/") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(f"{folder}document.xml", "<document/>")
    return buffer.getvalue()


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def upload(client, entry, *files):
    return client.post(f"/log/entries/{entry.pk}/evidence/", {"files": list(files)})


def test_it_attaches_several_files_and_serves_them_to_the_workspace(alice_client, bob, make_entry, media):
    entry = make_entry()
    response = upload(
        alice_client,
        entry,
        SimpleUploadedFile("report.pdf", PDF_BYTES, content_type="application/pdf"),
        SimpleUploadedFile("shot.png", PNG_BYTES, content_type="image/png"),
        SimpleUploadedFile("plan.docx", docx_bytes(), content_type=DOCX),
        SimpleUploadedFile(
            "data.csv", "name,value\nmünchen,1\n".encode(), content_type="application/octet-stream"
        ),
    )
    assert response.url == f"/log/entries/{entry.pk}/#evidence"
    pieces = {piece.original_name: piece for piece in Evidence.objects.all()}
    assert {name: piece.content_type for name, piece in pieces.items()} == {
        "report.pdf": "application/pdf",
        "shot.png": "image/png",
        "plan.docx": DOCX,
        "data.csv": "text/csv",
    }
    report = pieces["report.pdf"]
    assert report.file.name.startswith(f"evidence/{entry.tenant_id}/") and "report" not in report.file.name
    opened = alice_client.get(f"/log/evidence/{report.pk}/")
    assert opened.status_code == 200 and b"".join(opened.streaming_content) == PDF_BYTES
    assert opened["Content-Type"] == "application/pdf"
    assert opened["Content-Disposition"].startswith("inline;")
    assert "sandbox" in opened["Content-Security-Policy"]
    downloaded = alice_client.get(f"/log/evidence/{report.pk}/?download=1")
    assert downloaded["Content-Disposition"].startswith('attachment; filename="report.pdf"')
    member = Client()
    member.force_login(bob)
    assert member.get(f"/log/evidence/{pieces['plan.docx'].pk}/")["Content-Disposition"].startswith(
        "attachment"
    )
    page = alice_client.get(f"/log/entries/{entry.pk}/").content.decode()
    assert "report.pdf" in page and f"/log/evidence/{report.pk}/?download=1" in page


@pytest.mark.parametrize(
    ("name", "content", "content_type", "message"),
    [
        ("empty.pdf", b"", "application/pdf", "“empty.pdf” is empty"),
        ("page.html", b"<html></html>", "text/html", "“page.html” is not a type we accept"),
        ("tool.exe", b"MZ\x90\x00", "application/octet-stream", "“tool.exe” is not a type we accept"),
        ("fake.pdf", b"just text pretending", "application/pdf", "“fake.pdf” does not look like a PDF file"),
        ("fake.png", PDF_BYTES, "image/png", "“fake.png” does not look like a PNG file"),
        ("binary.txt", b"\x00\x01\x02\x03", "text/plain", "does not look like a text file"),
        ("sheet.docx", docx_bytes("xl/"), DOCX, "does not look like a Word (.docx) file"),
    ],
)
def test_it_refuses_bad_files_with_a_clear_400(
    alice_client, make_entry, media, name, content, content_type, message
):
    entry = make_entry()
    response = upload(alice_client, entry, SimpleUploadedFile(name, content, content_type=content_type))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Evidence.objects.exists()


def test_it_refuses_files_over_the_limit_and_keeps_the_good_ones_out_too(
    alice_client, make_entry, media, settings
):
    settings.EVIDENCE_MAX_BYTES = 1024
    entry = make_entry()
    response = upload(
        alice_client,
        entry,
        SimpleUploadedFile("small.txt", b"fine", content_type="text/plain"),
        SimpleUploadedFile("big.pdf", PDF_BYTES + b"0" * 2000, content_type="application/pdf"),
    )
    assert response.status_code == 400
    assert "“big.pdf” is 2.0\xa0KB; files can be at most 1.0\xa0KB." in response.content.decode()
    assert not Evidence.objects.exists()
    assert not [path for path in media.rglob("*") if path.is_file()]


def test_it_asks_for_a_file_when_none_is_chosen(alice_client, make_entry, media):
    response = alice_client.post(f"/log/entries/{make_entry().pk}/evidence/", {})
    assert response.status_code == 400 and "Choose at least one file" in response.content.decode()


def test_it_adds_links_and_refuses_bad_ones(alice_client, make_entry):
    entry = make_entry()
    ok = alice_client.post(
        f"/log/entries/{entry.pk}/links/", {"url": "https://github.com/acme/pull/7", "title": "PR"}
    )
    assert ok.status_code == 302
    bad = alice_client.post(
        f"/log/entries/{entry.pk}/links/", {"url": "javascript:alert(1)", "title": "Kept title"}
    )
    assert bad.status_code == 400
    page = bad.content.decode()
    assert "start with https://" in page and 'value="Kept title"' in page
    assert list(Evidence.objects.values_list("url", "title")) == [("https://github.com/acme/pull/7", "PR")]


def test_it_deletes_evidence_and_its_file(
    alice_client, make_entry, media, django_capture_on_commit_callbacks
):
    entry = make_entry()
    upload(alice_client, entry, SimpleUploadedFile("a.txt", b"proof", content_type="text/plain"))
    piece = Evidence.objects.get()
    stored = media / piece.file.name
    assert stored.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert alice_client.post(f"/log/evidence/{piece.pk}/delete/").status_code == 302
    assert not Evidence.objects.exists() and not stored.exists()


def test_it_hides_the_evidence_of_a_deleted_entry(alice_client, alice, make_entry, media):
    from apps.worklog import services

    entry = make_entry()
    upload(alice_client, entry, SimpleUploadedFile("a.txt", b"proof", content_type="text/plain"))
    services.entry_delete(entry=entry, actor=alice)
    assert alice_client.get(f"/log/evidence/{Evidence.objects.get().pk}/").status_code == 404
