"""Evidence on entries: files (checked by content, all of a batch or none) and links."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import transaction

from apps.core.errors import ValidationFailed
from apps.core.events import emit_event
from apps.worklog.models import Entry, Evidence
from apps.worklog.services.common import (
    EVIDENCE_PER_ENTRY,
    FILES_PER_UPLOAD,
    LINK_MAX,
    TITLE_MAX,
    _clean_name,
)
from apps.worklog.uploads import CheckedUpload, check_upload


def _delete_stored_files(names: Iterable[str]) -> None:
    storage = Evidence._meta.get_field("file").storage
    for name in names:
        storage.delete(name)


def _check_room(entry: Entry, adding: int) -> None:
    if adding > FILES_PER_UPLOAD:
        raise ValidationFailed(f"Attach up to {FILES_PER_UPLOAD} files at a time.", field="files")
    existing = entry.evidence.count() if entry.pk else 0
    if existing + adding > EVIDENCE_PER_ENTRY:
        raise ValidationFailed(
            f"An entry can have up to {EVIDENCE_PER_ENTRY} pieces of evidence; it has {existing}.",
            field="files",
        )


def evidence_check_files(uploads: Iterable) -> list[CheckedUpload]:
    """Check every file before any is stored, so a bad one leaves nothing half-attached."""
    uploads = list(uploads)
    if len(uploads) > FILES_PER_UPLOAD:
        raise ValidationFailed(f"Attach up to {FILES_PER_UPLOAD} files at a time.", field="files")
    return [check_upload(upload) for upload in uploads]


def evidence_add_files(*, entry: Entry, actor, uploads: Iterable) -> list[Evidence]:
    """Attach files to an entry: all of them, or none if one is refused."""
    checked = evidence_check_files(uploads)
    if not checked:
        raise ValidationFailed("Choose at least one file to attach.", field="files")
    return _store_files(entry=entry, actor=actor, checked=checked)


def _store_files(*, entry: Entry, actor, checked: list[CheckedUpload]) -> list[Evidence]:
    _check_room(entry, len(checked))
    stored: list[str] = []
    try:
        with transaction.atomic():
            evidence = []
            for item in checked:
                piece = Evidence(
                    tenant_id=entry.tenant_id,
                    entry=entry,
                    kind=Evidence.Kind.FILE,
                    original_name=item.original_name,
                    content_type=item.content_type,
                    size_bytes=item.size_bytes,
                )
                piece.file.save(item.original_name, item.upload, save=False)
                stored.append(piece.file.name)
                piece.save()
                evidence.append(piece)
                emit_event(
                    "evidence.added",
                    tenant=entry.tenant,
                    actor=actor,
                    entry_id=entry.pk,
                    evidence_id=piece.pk,
                    evidence_kind="file",
                    size_bytes=item.size_bytes,
                )
    except BaseException:
        _delete_stored_files(stored)
        raise
    return evidence


def evidence_add_file(*, entry: Entry, actor, upload) -> Evidence:
    return evidence_add_files(entry=entry, actor=actor, uploads=[upload])[0]


def evidence_check_link(url: str) -> str:
    url = (url or "").strip()
    if not url:
        raise ValidationFailed("Paste the address of the page to link.", field="url")
    if len(url) > LINK_MAX:
        raise ValidationFailed(f"Keep the link to {LINK_MAX:,} characters.", field="url")
    try:
        URLValidator(schemes=["http", "https"])(url)
    except DjangoValidationError as exc:
        raise ValidationFailed(
            "That is not a web address we can link to; it should start with https:// or http://.", field="url"
        ) from exc
    return url


@transaction.atomic
def evidence_add_link(*, entry: Entry, actor, url: str, title: str = "") -> Evidence:
    url = evidence_check_link(url)
    title = _clean_name(title)
    if len(title) > TITLE_MAX:
        raise ValidationFailed(f"Keep the link title to {TITLE_MAX} characters.", field="title")
    _check_room(entry, 1)
    piece = Evidence.objects.create(
        tenant_id=entry.tenant_id, entry=entry, kind=Evidence.Kind.LINK, url=url, title=title
    )
    emit_event(
        "evidence.added",
        tenant=entry.tenant,
        actor=actor,
        entry_id=entry.pk,
        evidence_id=piece.pk,
        evidence_kind="link",
    )
    return piece


@transaction.atomic
def evidence_delete(*, evidence: Evidence, actor) -> None:
    """Remove a piece of evidence; its stored file goes once the removal is committed."""
    file_name = evidence.file.name if evidence.file else ""
    evidence_id, entry_id, tenant = evidence.pk, evidence.entry_id, evidence.entry.tenant
    evidence.delete()
    emit_event("evidence.deleted", tenant=tenant, actor=actor, entry_id=entry_id, evidence_id=evidence_id)
    if file_name:
        transaction.on_commit(lambda: _delete_stored_files([file_name]))
