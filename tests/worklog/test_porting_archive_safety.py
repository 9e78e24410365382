"""A workspace ZIP is hostile until checked: its evidence goes through the upload checks, its directory is
read as a stream, its members are inflated in bounded chunks, and the web request stays flat in memory."""

import io
import json
import resource
import struct
import tracemalloc
import zipfile

import pytest
from django.urls import reverse

from apps.core.models import Job
from apps.worklog.models import Entry, Evidence
from apps.worklog.tasks import IMPORT_KIND, PREVIEW_KIND
from tests.worklog.porting_helpers import (  # noqa: F401 - fixtures
    PNG_BYTES,
    PREVIEW,
    confirm_import_fixture,
    import_uploads,
    media,
    sync_jobs,
    upload_import_fixture,
)

pytestmark = pytest.mark.usefixtures("media", "sync_jobs")

MB = 1024 * 1024
MANIFEST = json.dumps({"format": "afterresume.worklog", "version": 1})
HTML = b"<!doctype html><html><body><script>fetch('/api/me/').then(r => r.text()).then(alert)</script></html>"


def _entries(*evidence: dict, title: str = "Shipped the importer") -> str:
    return json.dumps(
        {
            "format": "afterresume.worklog",
            "version": 1,
            "entries": [{"occurred_on": "2024-05-02", "title": title, "evidence": list(evidence)}],
        }
    )


def _file(path: str, name: str, content_type: str = "image/png") -> dict:
    return {
        "kind": "file",
        "path": path,
        "original_name": name,
        "content_type": content_type,
        "size_bytes": 10,
    }


def _zip(members: dict[str, bytes | str], *, big: dict[str, int] | None = None) -> bytes:
    """An archive of `members`, plus members of `big` (name -> bytes of zeros) streamed in, deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
        for name, size in (big or {}).items():
            with archive.open(name, "w", force_zip64=size > 2**31) as target:
                chunk = b"\0" * MB
                for _ in range(size // MB):
                    target.write(chunk)
    return buffer.getvalue()


def _declare_size(data: bytes, name: str, file_size: int) -> bytes:
    """The archive with `name`'s declared (uncompressed) size changed in its directory and local header:
    the archive now lies about how large the member unpacks."""
    data = bytearray(data)
    eocd = data.rfind(b"PK\x05\x06")
    cd_size, cd_offset = struct.unpack_from("<2L", data, eocd + 12)
    position = cd_offset
    while position < cd_offset + cd_size:
        name_length, extra_length, comment_length = struct.unpack_from("<3H", data, position + 28)
        member = bytes(data[position + 46 : position + 46 + name_length]).decode()
        if member == name:
            struct.pack_into("<L", data, position + 24, file_size)
            header = struct.unpack_from("<L", data, position + 42)[0]
            struct.pack_into("<L", data, header + 22, file_size)
            return bytes(data)
        position += 46 + name_length + extra_length + comment_length
    raise AssertionError(f"{name} is not in the archive")


def _post_without_running_jobs(client, data: bytes):
    """The web request alone (the check job it queues is not run), with its allocations measured.

    Returns (response, peak, rss_growth): `peak` is the most memory Python had allocated during the
    request beyond the uploaded bytes themselves (the test client holds one copy of the request body);
    `rss_growth` is how much the process's high-water mark (ru_maxrss, KB on Linux) rose.
    """
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

    body = encode_multipart(BOUNDARY, {"format": "zip", "file": SimpleUploadedFile("export.zip", data)})
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    try:
        response = client.generic("POST", PREVIEW, body, content_type=MULTIPART_CONTENT)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    return response, peak - len(body), rss_growth


@pytest.fixture(scope="module")
def bomb_bytes() -> bytes:
    """~200 MB of zeros as evidence and as a Markdown file, in an archive of well under 1 MB."""
    data = _zip(
        {"manifest.json": MANIFEST, "entries.json": _entries(_file("evidence/1/1-bomb.png", "bomb.png"))},
        big={"evidence/1/1-bomb.png": 100 * MB, "markdown/2024.md": 100 * MB},
    )
    assert len(data) < MB
    return data


# ------------------------------------------------------------------------------------- evidence checks


def test_it_refuses_an_html_file_declared_as_a_png_in_the_archive(
    client, charlie, other_tenant, upload_import
):
    archive = _zip(
        {
            "manifest.json": MANIFEST,
            "entries.json": _entries(_file("evidence/1/1-x.png", "x.png")),
            "evidence/1/1-x.png": HTML,
        }
    )
    client.force_login(charlie)
    page = upload_import(client, archive, fmt="zip", name="export.zip")

    preview = page.context["preview"]
    assert [(e.row, e.field) for e in preview.errors] == [(1, "evidence")]
    assert "“x.png” is not a type we accept" in preview.errors[0].message
    assert not page.context["token"]  # nothing to confirm
    assert not Evidence.objects.exists() and not import_uploads()


def test_it_refuses_an_html_file_named_as_a_web_page(client, charlie, upload_import):
    archive = _zip(
        {
            "manifest.json": MANIFEST,
            "entries.json": _entries(_file("evidence/1/1-page.html", "page.html", "image/png")),
            "evidence/1/1-page.html": HTML,
        }
    )
    client.force_login(charlie)
    page = upload_import(client, archive, fmt="zip", name="export.zip")
    assert "“page.html” is not a type we accept" in page.context["preview"].errors[0].message


def test_it_stores_markup_named_as_text_as_plain_text_only(
    client, charlie, other_tenant, upload_import, confirm_import
):
    archive = _zip(
        {
            "manifest.json": MANIFEST,
            "entries.json": _entries(_file("evidence/1/1-notes.txt", "notes.txt", "text/html")),
            "evidence/1/1-notes.txt": HTML,
        }
    )
    client.force_login(charlie)
    confirm_import(client, upload_import(client, archive, fmt="zip", name="export.zip"))

    piece = Evidence.objects.get(tenant=other_tenant)
    assert piece.content_type == "text/plain"  # what the bytes are, not what entries.json said
    assert piece.size_bytes == len(HTML)  # measured, not the declared 10
    response = client.get(reverse("worklog_evidence_file", args=[piece.pk]))
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox")


def test_it_takes_the_type_from_the_bytes_and_names_the_download_after_it(
    client, charlie, other_tenant, upload_import, confirm_import
):
    archive = _zip(
        {
            "manifest.json": MANIFEST,
            "entries.json": _entries(
                _file("evidence/1/1-report.exe", "report.exe", "application/x-msdownload")
            ),
            "evidence/1/1-report.exe": PNG_BYTES,
        }
    )
    client.force_login(charlie)
    confirm_import(client, upload_import(client, archive, fmt="zip", name="export.zip"))

    piece = Evidence.objects.get(tenant=other_tenant)
    assert (piece.original_name, piece.content_type) == ("report.exe", "image/png")
    response = client.get(reverse("worklog_evidence_file", args=[piece.pk]) + "?download=1")
    assert response["Content-Disposition"] == 'attachment; filename="report.exe.png"'


def test_it_refuses_a_member_over_the_evidence_limit_from_the_directory_alone(
    client, charlie, settings, upload_import
):
    settings.EVIDENCE_MAX_BYTES = 4096
    data = _zip(
        {
            "manifest.json": MANIFEST,
            "entries.json": _entries(_file("evidence/1/1-big.png", "big.png")),
            "evidence/1/1-big.png": PNG_BYTES + b"\0" * 8000,
        }
    )
    # Its compressed bytes are garbage: had the member been read at all, it would be reported as damaged.
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("evidence/1/1-big.png")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data = data[:start] + b"\xff" * info.compress_size + data[start + info.compress_size :]
    client.force_login(charlie)

    page = upload_import(client, data, fmt="zip", name="export.zip")

    [error] = page.context["preview"].errors
    assert error.row == 1
    assert "“big.png” is 12.2 KB; files can be at most 4.0 KB" in error.message.replace("\xa0", " ")


# ------------------------------------------------------------------------------------------- zip bombs


def test_it_checks_a_200_mb_bomb_with_flat_memory(client, charlie, other_tenant, bomb_bytes, capsys):
    client.force_login(charlie)
    response, peak, rss_growth = _post_without_running_jobs(client, bomb_bytes)
    job = Job.objects.get(tenant=other_tenant, kind=PREVIEW_KIND)
    assert response.status_code == 302 and response["Location"] == reverse(
        "worklog_porting_import_job", args=[job.pk]
    )
    with capsys.disabled():
        print(
            f"\n[bomb] request: archive {len(bomb_bytes) / MB:.2f} MB unpacking to 200 MB; "
            f"peak Python allocations {peak / MB:.2f} MB; ru_maxrss growth {rss_growth / 1024:.1f} MB"
        )
    assert peak < 8 * MB  # nothing was inflated

    # The job reads what it must, in bounded chunks: the 100 MB "PNG" is refused from its size alone.
    from apps.worklog.tasks import worklog_import_preview

    tracemalloc.start()
    try:
        worklog_import_preview(job.pk, "zip", "export.zip")
        _current, job_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    job.refresh_from_db()
    with capsys.disabled():
        print(f"[bomb] job: peak Python allocations {job_peak / MB:.2f} MB")
    assert job.status == Job.Status.SUCCEEDED
    [error] = job.summary["preview"]["errors"]
    assert error[0] == 1
    assert "“bomb.png” is 100.0 MB; files can be at most 10.0 MB" in error[2].replace("\xa0", " ")
    assert job_peak < 16 * MB
    assert not import_uploads()  # nothing to import: the upload is gone


def test_it_stops_inflating_a_member_that_unpacks_larger_than_declared(
    client, charlie, other_tenant, upload_import, capsys
):
    data = _zip(
        {"manifest.json": MANIFEST, "entries.json": _entries(_file("evidence/1/1-liar.png", "liar.png"))},
        big={"evidence/1/1-liar.png": 200 * MB},
    )
    data = _declare_size(data, "evidence/1/1-liar.png", 5000)
    client.force_login(charlie)
    tracemalloc.start()
    try:
        page = upload_import(client, data, fmt="zip", name="export.zip")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    [error] = page.context["preview"].errors
    with capsys.disabled():
        print(f"\n[liar] 200 MB member declared as 5,000 bytes: peak Python allocations {peak / MB:.2f} MB")
    assert error.row == 1 and "unpacks larger than it says" in error.message
    assert peak < 16 * MB


def test_it_refuses_a_lying_manifest_in_the_request_with_flat_memory(client, charlie):
    data = _zip({"entries.json": _entries()}, big={"manifest.json": 200 * MB})
    data = _declare_size(data, "manifest.json", 40)
    client.force_login(charlie)
    response, peak, _rss = _post_without_running_jobs(client, data)
    assert response.status_code == 400
    assert "manifest.json in the archive is damaged" in response.content.decode()
    assert peak < 8 * MB
    assert not Job.objects.exists() and not import_uploads()


def test_it_refuses_an_archive_that_unpacks_to_more_than_4_gb(client, charlie):
    data = _zip(
        {"manifest.json": MANIFEST, "entries.json": _entries(), "a.bin": b"\0" * 10, "b.bin": b"\0" * 10}
    )
    data = _declare_size(_declare_size(data, "a.bin", 0xFFFF_FF00), "b.bin", 0xFFFF_FF00)
    client.force_login(charlie)
    response, _peak, _rss = _post_without_running_jobs(client, data)
    assert response.status_code == 400
    assert "unpacks to more than 4.0 GB" in response.content.decode().replace("\xa0", " ")
    assert not import_uploads()


def test_it_refuses_an_archive_of_too_many_members_from_its_directory(client, charlie, capsys):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for number in range(100_001):
            archive.writestr(f"m/{number}", b"")
    client.force_login(charlie)
    response, peak, _rss = _post_without_running_jobs(client, buffer.getvalue())
    with capsys.disabled():
        print(f"\n[members] 100,001 members: peak Python allocations {peak / MB:.2f} MB")
    assert response.status_code == 400
    assert "The archive holds 100,001 files; an export has at most 100,000." in response.content.decode()
    assert peak < 8 * MB  # the directory (about 10 MB of it) is never loaded whole
    assert not import_uploads()


def test_it_refuses_encrypted_or_foreign_compression(client, charlie):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_BZIP2) as archive:
        archive.writestr("manifest.json", MANIFEST)
        archive.writestr("entries.json", _entries())
    client.force_login(charlie)
    response, _peak, _rss = _post_without_running_jobs(client, buffer.getvalue())
    assert response.status_code == 400
    assert "compressed in a way AfterResume does not write" in response.content.decode()


# ---------------------------------------------------------------------------------- names and headers


def test_it_cleans_archive_names_so_no_header_can_break(
    client, charlie, other_tenant, upload_import, confirm_import
):
    evil = "report\r\nSet-Cookie: session=stolen\r\n\u202egnp.pdf"
    archive = _zip(
        {
            "manifest.json": MANIFEST,
            "entries.json": _entries(_file("evidence/1/1-r.pdf", evil, "application/pdf\r\nX-Evil: 1")),
            "evidence/1/1-r.pdf": b"%PDF-1.4\n%%EOF\n",
        }
    )
    client.force_login(charlie)
    confirm_import(client, upload_import(client, archive, fmt="zip", name="export.zip"))

    piece = Evidence.objects.get(tenant=other_tenant)
    assert piece.original_name == "report Set-Cookie: session=stolen gnp.pdf"
    assert piece.content_type == "application/pdf"
    response = client.get(reverse("worklog_evidence_file", args=[piece.pk]) + "?download=1")
    assert response.status_code == 200
    assert (
        response["Content-Disposition"] == 'attachment; filename="report Set-Cookie: session=stolen gnp.pdf"'
    )
    assert "Set-Cookie" not in response.headers and "X-Evil" not in response.headers
    assert Entry.objects.filter(tenant=other_tenant).count() == 1
    assert Job.objects.get(kind=IMPORT_KIND).status == Job.Status.SUCCEEDED
