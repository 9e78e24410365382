"""Serving evidence files: the one place that knows where they live.

On the local filesystem the file is streamed by Django after the view has checked the tenant. On S3 (or
any storage that signs URLs) the person is redirected to a short-lived presigned URL, so the bytes come
straight from the bucket and the link stops working minutes later.
"""

from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, HttpResponse, HttpResponseRedirect

from apps.core.filenames import content_disposition
from apps.worklog.models import Evidence
from apps.worklog.uploads import TYPE_LABELS, download_name

# Types a browser can show without running anything; the rest always download.
INLINE_TYPES = {"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "text/plain"}
PRESIGNED_SECONDS = 300


def _content_type(evidence: Evidence) -> str:
    # Only a type we check uploads for reaches a header; anything else stored (older rows) is plain bytes.
    return evidence.content_type if evidence.content_type in TYPE_LABELS else "application/octet-stream"


def _disposition(evidence: Evidence, *, as_attachment: bool) -> str:
    content_type = _content_type(evidence)
    inline = not as_attachment and content_type in INLINE_TYPES
    name = download_name(evidence.original_name or "evidence", content_type)
    return content_disposition(name, as_attachment=not inline, default="evidence")


def evidence_file_response(evidence: Evidence, *, as_attachment: bool) -> HttpResponse:
    storage = evidence.file.storage
    disposition = _disposition(evidence, as_attachment=as_attachment)
    content_type = _content_type(evidence)
    if content_type.startswith("text/"):
        content_type += "; charset=utf-8"
    if isinstance(storage, FileSystemStorage) or not hasattr(storage, "bucket_name"):
        # Stream through Django: the filesystem (or any storage that cannot sign URLs).
        response = FileResponse(storage.open(evidence.file.name, "rb"), content_type=content_type)
        response["Content-Disposition"] = disposition
        # A file opened in the browser runs nothing and cannot reach the app's cookies or pages.
        response["Content-Security-Policy"] = (
            "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
        )
        response["Cache-Control"] = "private, no-store"
        return response
    url = storage.url(
        evidence.file.name,
        parameters={"ResponseContentDisposition": disposition, "ResponseContentType": content_type},
        expire=PRESIGNED_SECONDS,
    )
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "private, no-store"
    return response
