"""Checks on evidence files before they are stored: size, an allowlist of types, and the first bytes.

The browser's declared content type is only a claim. A file is accepted when its declared type (or, when
the browser declares nothing useful, the type its name suggests) is on the allowlist and its content
looks like that type: PDF, PNG, JPEG, GIF and WebP by their signatures, text as valid UTF-8 without NUL
bytes, and Office documents as ZIP containers with the folder their format requires.
"""

import mimetypes
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat

from apps.core.errors import ValidationFailed

SNIFF_BYTES = 8192
GENERIC_TYPES = {"", "application/octet-stream", "binary/octet-stream", "application/x-download"}
TYPE_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "text/x-markdown": "text/markdown",
    "text/x-csv": "text/csv",
    "application/csv": "text/csv",
}
EXTENSION_TYPES = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".csv": "text/csv",
    ".txt": "text/plain",
}
TEXT_TYPES = {"text/plain", "text/markdown", "text/csv"}
OFFICE_FOLDERS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "word/",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xl/",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "ppt/",
}
TYPE_LABELS = {
    "application/pdf": "PDF",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/gif": "GIF",
    "image/webp": "WebP",
    "text/plain": "text",
    "text/markdown": "Markdown",
    "text/csv": "CSV",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word (.docx)",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel (.xlsx)",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PowerPoint (.pptx)",
}
MAX_NAME_LENGTH = 255


@dataclass(frozen=True)
class CheckedUpload:
    upload: UploadedFile
    original_name: str
    content_type: str
    size_bytes: int


def allowed_types_label() -> str:
    labels = [TYPE_LABELS.get(kind, kind) for kind in settings.EVIDENCE_ALLOWED_TYPES]
    return ", ".join(labels)


def _declared_type(upload: UploadedFile, name: str) -> str:
    declared = (upload.content_type or "").split(";")[0].strip().lower()
    declared = TYPE_ALIASES.get(declared, declared)
    if declared in GENERIC_TYPES:
        extension = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
        declared = EXTENSION_TYPES.get(extension) or mimetypes.guess_type(name)[0] or ""
        declared = TYPE_ALIASES.get(declared, declared)
    return declared


def _head(upload: UploadedFile) -> bytes:
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    return head


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The sample may end in the middle of a multi-byte character; that is still text.
        return exc.start >= len(head) - 3 and exc.reason == "unexpected end of data"
    return True


def _is_office_document(upload: UploadedFile, folder: str) -> bool:
    try:
        with zipfile.ZipFile(upload) as archive:
            return any(name.startswith(folder) for name in archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    finally:
        upload.seek(0)


def content_matches(upload: UploadedFile, content_type: str) -> bool:
    head = _head(upload)
    if content_type == "application/pdf":
        return head.startswith(b"%PDF-")
    if content_type == "image/png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if content_type == "image/jpeg":
        return head.startswith(b"\xff\xd8\xff")
    if content_type == "image/gif":
        return head.startswith((b"GIF87a", b"GIF89a"))
    if content_type == "image/webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    if content_type in TEXT_TYPES:
        return _looks_like_text(head)
    if content_type in OFFICE_FOLDERS:
        return head.startswith(b"PK\x03\x04") and _is_office_document(upload, OFFICE_FOLDERS[content_type])
    # A type added to the allowlist without a signature check here is refused rather than trusted.
    return False


def check_upload(upload: UploadedFile) -> CheckedUpload:
    """The upload with its checked type, or a ValidationFailed that names the file and says what to do."""
    name = (upload.name or "file").replace("\\", "/").rsplit("/", 1)[-1].strip() or "file"
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        name = (
            (stem[: MAX_NAME_LENGTH - len(extension) - 1] + dot + extension)
            if dot
            else name[:MAX_NAME_LENGTH]
        )
    size = upload.size or 0
    if size == 0:
        raise ValidationFailed(f"“{name}” is empty. Choose a file with something in it.", field="files")
    limit = settings.EVIDENCE_MAX_BYTES
    if size > limit:
        raise ValidationFailed(
            f"“{name}” is {filesizeformat(size)}; files can be at most {filesizeformat(limit)}.",
            field="files",
            extra={"file": name, "size_bytes": size, "max_bytes": limit},
        )
    content_type = _declared_type(upload, name)
    if content_type not in settings.EVIDENCE_ALLOWED_TYPES:
        raise ValidationFailed(
            f"“{name}” is not a type we accept. Attach {allowed_types_label()} files, or add a link instead.",
            field="files",
            extra={"file": name, "content_type": content_type},
        )
    if not content_matches(upload, content_type):
        raise ValidationFailed(
            f"“{name}” does not look like a {TYPE_LABELS.get(content_type, content_type)} file inside. "
            "Check that it is the file you meant, and not renamed or damaged.",
            field="files",
            extra={"file": name, "content_type": content_type},
        )
    return CheckedUpload(upload=upload, original_name=name, content_type=content_type, size_bytes=size)
