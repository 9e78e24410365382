"""Checks on evidence files before they are stored: size, an allowlist of types, and the bytes themselves.

Every file that becomes evidence passes `check_upload`, whether a browser sent it or an import brought it
out of an archive. The type kept is the one the bytes show: PDF, PNG, JPEG, GIF and WebP by their
signatures, Office documents as ZIP containers with the folder their format requires, and text (valid
UTF-8 without NUL bytes) as plain text, Markdown or CSV by the file's extension. A declared type (the
browser's claim) or the name's extension must agree with what the bytes show; an archive's declared type
is not passed in at all. The name is cleaned of folders and control characters before it is kept.
"""

import io
import mimetypes
import zipfile
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat

from apps.core.errors import ValidationFailed
from apps.core.filenames import filename_clean

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
# The extensions a download of each type may have; the first is added when the name has none of them.
TYPE_EXTENSIONS = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg", ".jpe"),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "text/plain": (".txt", ".text", ".log"),
    "text/markdown": (".md", ".markdown"),
    "text/csv": (".csv",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (".xlsx",),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (".pptx",),
}
MAX_NAME_LENGTH = 255


@dataclass(frozen=True)
class CheckedUpload:
    upload: File
    original_name: str
    content_type: str
    size_bytes: int


def allowed_types_label() -> str:
    labels = [TYPE_LABELS.get(kind, kind) for kind in settings.EVIDENCE_ALLOWED_TYPES]
    return ", ".join(labels)


def _extension(name: str) -> str:
    return "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _claimed_type(declared: str, name: str) -> str:
    """What the file says it is: the declared type, or (when that says nothing) what its name suggests."""
    declared = (declared or "").split(";")[0].strip().lower()
    declared = TYPE_ALIASES.get(declared, declared)
    if declared in GENERIC_TYPES:
        declared = EXTENSION_TYPES.get(_extension(name)) or mimetypes.guess_type(name)[0] or ""
        declared = TYPE_ALIASES.get(declared, declared)
    return declared


def _head(upload: IO[bytes]) -> bytes:
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


def _office_type(upload: IO[bytes]) -> str:
    try:
        with zipfile.ZipFile(upload) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return ""
    finally:
        upload.seek(0)
    for content_type, folder in OFFICE_FOLDERS.items():
        if any(name.startswith(folder) for name in names):
            return content_type
    return ""


def _text_type(name: str) -> str:
    """Text is text/plain, Markdown or CSV by its extension; "" when the name promises something else."""
    extension = _extension(name)
    if extension in EXTENSION_TYPES:
        return EXTENSION_TYPES[extension]
    guessed = mimetypes.guess_type(name)[0] or ""
    guessed = TYPE_ALIASES.get(guessed, guessed)
    if not guessed:
        return "text/plain"
    # A text file named .html or .js is still HTML or script (refused by the allowlist); named .pdf it is
    # not a PDF at all.
    return guessed if guessed.startswith("text/") else ""


def sniffed_type(upload: IO[bytes], name: str) -> str:
    """The type the file's bytes show (text by its name's extension), or "" when they show none we know."""
    head = _head(upload)
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"PK\x03\x04"):
        return _office_type(upload)
    if _looks_like_text(head):
        return _text_type(name)
    return ""


def content_matches(upload: IO[bytes], content_type: str, name: str = "") -> bool:
    found = sniffed_type(upload, name)
    return bool(found) and (found == content_type or (found in TEXT_TYPES and content_type in TEXT_TYPES))


def _measured_size(upload: IO[bytes]) -> int:
    if isinstance(upload, UploadedFile) and upload.size is not None:
        return upload.size  # counted by Django as the bytes arrived
    upload.seek(0, io.SEEK_END)
    size = upload.tell()
    upload.seek(0)
    return size


def download_name(name: str, content_type: str) -> str:
    """`name` with an extension that matches its checked type: "report" or "report.exe" as a PNG become
    "report.png" and "report.exe.png"; a name that already fits is kept as it is."""
    name = filename_clean(name, default="evidence")
    extensions = TYPE_EXTENSIONS.get(content_type)
    if not extensions or _extension(name) in extensions:
        return name
    return filename_clean(name + extensions[0], max_length=MAX_NAME_LENGTH)


def check_upload(
    upload: IO[bytes], *, name: str | None = None, content_type: str | None = None, claims: bool = True
) -> CheckedUpload:
    """The file with its checked type, or a ValidationFailed that names the file and says what to do.

    `upload` is a Django UploadedFile or any seekable binary file (an archive member inflated into a
    bounded temporary file, say); `name` and `content_type` default to the upload's own. With
    `claims=False` nothing the file says about itself counts (an archive's declared type, a name's
    extension): the type is what the bytes show, and only then must it be on the allowlist.
    """
    given_name = name if name is not None else getattr(upload, "name", "")
    name = filename_clean(given_name, default="file", max_length=MAX_NAME_LENGTH)
    declared = content_type if content_type is not None else getattr(upload, "content_type", "")
    size = _measured_size(upload)
    if size == 0:
        raise ValidationFailed(f"“{name}” is empty. Choose a file with something in it.", field="files")
    limit = settings.EVIDENCE_MAX_BYTES
    if size > limit:
        raise ValidationFailed(
            f"“{name}” is {filesizeformat(size)}; files can be at most {filesizeformat(limit)}.",
            field="files",
            extra={"file": name, "size_bytes": size, "max_bytes": limit},
        )
    allowed = settings.EVIDENCE_ALLOWED_TYPES
    claimed = _claimed_type(declared, name) if claims else ""
    found = sniffed_type(upload, name)
    not_accepted = ValidationFailed(
        f"“{name}” is not a type we accept. Attach {allowed_types_label()} files, or add a link instead.",
        field="files",
        extra={"file": name, "content_type": claimed or found},
    )
    if (claimed and claimed not in allowed) or (found and found not in allowed):
        raise not_accepted
    if claimed and not content_matches(upload, claimed, name):
        raise ValidationFailed(
            f"“{name}” does not look like a {TYPE_LABELS.get(claimed, claimed)} file inside. "
            "Check that it is the file you meant, and not renamed or damaged.",
            field="files",
            extra={"file": name, "content_type": claimed},
        )
    if not found:
        raise not_accepted
    # Text is told apart only by name, so a declared text type is kept; everything else is what was found.
    checked_type = claimed if claimed in TEXT_TYPES and found in TEXT_TYPES else found
    if not isinstance(upload, File):
        upload = File(upload, name=name)
    return CheckedUpload(upload=upload, original_name=name, content_type=checked_type, size_bytes=size)
