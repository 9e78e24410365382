"""Reading an AfterResume export (ZIP) back: cheap checks for the request, the full check for a job.

`zip_precheck` reads only the archive's directory (as a stream, so memory stays flat however many members
it lists) and the small manifest: member count, total unpacked size, compression methods, manifest and
entries.json present and within their limits. `zip_parse` then reads entries.json (bounded) and, for a
preview, every evidence file: each is inflated into a bounded temporary file and checked by
`check_upload` exactly like an upload, with its type taken from the bytes and its name cleaned. The
declared `content_type`, `size_bytes` and `original_name` in entries.json are never taken as they are.
"""

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.template.defaultfilters import filesizeformat

from apps.core.errors import ValidationFailed
from apps.worklog.models import Employer, Entry, Evidence, Project, Skill, Tag
from apps.worklog.porting.archive import (
    DEFLATED,
    STORED,
    ArchiveUnreadable,
    Member,
    archive_end,
    archive_members,
    member_copy,
    member_read,
)
from apps.worklog.porting.export import EXPORT_FORMAT, EXPORT_VERSION
from apps.worklog.porting.parsed import ImportRejected, ParsedImport, row_collect, row_unreadable, rows_limit
from apps.worklog.porting.rows import (
    EMPLOYER_MAX,
    PROJECT_MAX,
    TAG_MAX,
    UNSTORABLE_MESSAGE,
    EntryRow,
    Reference,
    RowError,
    clean_name,
    clean_tag,
    shown,
    storable,
)
from apps.worklog.porting.textfiles import json_document
from apps.worklog.skills import MAX_SKILL_LENGTH
from apps.worklog.uploads import CheckedUpload, check_upload

ZIP_MAX_BYTES = 1024 * 1024 * 1024
ZIP_MAX_UNPACKED_BYTES = 4 * 1024 * 1024 * 1024
ZIP_MEMBERS_MAX = 100_000
ZIP_DIRECTORY_MAX_BYTES = 32 * 1024 * 1024
MANIFEST_MAX_BYTES = 64 * 1024
ENTRIES_JSON_MAX_BYTES = 128 * 1024 * 1024
NOT_AN_EXPORT = "Choose the .zip file an export gave you."

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class ZipOutline:
    """What the directory told: the members worth reading, by name, and totals."""

    members: dict[str, Member]
    count: int
    unpacked_bytes: int


def _outline(handle: IO[bytes], *, keep_all: bool) -> ZipOutline:
    try:
        directory = archive_end(handle)
    except ArchiveUnreadable as exc:
        raise ImportRejected(exc.message) from exc
    if directory.count > ZIP_MEMBERS_MAX:
        raise ImportRejected(
            f"The archive holds {directory.count:,} files; an export has at most {ZIP_MEMBERS_MAX:,}."
        )
    if directory.size > ZIP_DIRECTORY_MAX_BYTES:
        raise ImportRejected("The archive's list of files is larger than an export's can be.")
    members: dict[str, Member] = {}
    unpacked = 0
    try:
        for member in archive_members(handle, directory):
            unpacked += member.file_size
            if unpacked > ZIP_MAX_UNPACKED_BYTES:
                raise ImportRejected(
                    f"The archive unpacks to more than {filesizeformat(ZIP_MAX_UNPACKED_BYTES)}, "
                    "which is more than we accept."
                )
            if member.method not in (STORED, DEFLATED) or member.flags & 0x1:
                raise ImportRejected(
                    f"{shown(member.name)} in the archive is encrypted or compressed in a way AfterResume "
                    f"does not write. {NOT_AN_EXPORT}"
                )
            if not member.is_dir and (keep_all or member.name in ("manifest.json", "entries.json")):
                members[member.name] = member
    except ArchiveUnreadable as exc:
        raise ImportRejected(exc.message) from exc
    return ZipOutline(members=members, count=directory.count, unpacked_bytes=unpacked)


def _member_json(handle: IO[bytes], outline: ZipOutline, name: str, limit: int) -> Any:
    member = outline.members.get(name)
    if member is None:
        raise ImportRejected(
            f"The archive has no {name}, so it is not an AfterResume export. {NOT_AN_EXPORT}"
        )
    if member.file_size > limit:
        raise ImportRejected(
            f"{name} in the archive is {filesizeformat(member.file_size)}; "
            f"the limit is {filesizeformat(limit)}."
        )
    try:
        data = member_read(handle, member, limit=limit)
    except ArchiveUnreadable as exc:
        raise ImportRejected(exc.message) from exc
    return json_document(data, what=f"{name} in the archive")


def zip_precheck(handle: IO[bytes], *, keep_all: bool = False) -> ZipOutline:
    """The cheap checks, for the web request: the directory, then the manifest (at most 64 KB).

    The outline keeps only manifest.json and entries.json, or with `keep_all` every file (for a job)."""
    outline = _outline(handle, keep_all=keep_all)
    if (
        "entries.json" in outline.members
        and outline.members["entries.json"].file_size > ENTRIES_JSON_MAX_BYTES
    ):
        raise ImportRejected(
            f"entries.json in the archive is larger than {filesizeformat(ENTRIES_JSON_MAX_BYTES)}, "
            "more than we import at once."
        )
    manifest = _member_json(handle, outline, "manifest.json", MANIFEST_MAX_BYTES)
    if not isinstance(manifest, dict) or manifest.get("format") != EXPORT_FORMAT:
        raise ImportRejected("This ZIP is not an AfterResume export (its manifest.json says otherwise).")
    version = manifest.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version > EXPORT_VERSION:
        raise ImportRejected("This export was made by a newer version of AfterResume than this one.")
    if "entries.json" not in outline.members:
        raise ImportRejected(
            f"The archive has no entries.json, so it is not an AfterResume export. {NOT_AN_EXPORT}"
        )
    return outline


def _zip_reference(document: dict, errors: list[RowError]) -> Reference:
    reference = Reference()
    limits = {"employers": EMPLOYER_MAX, "projects": PROJECT_MAX, "skills": MAX_SKILL_LENGTH, "tags": TAG_MAX}
    for kind, limit in limits.items():
        items = document.get(kind, [])
        if not isinstance(items, list) or not all(
            isinstance(i, dict) and isinstance(i.get("name"), str) for i in items
        ):
            errors.append(RowError(0, kind, f"{kind} must be a list of objects with a name."))
            continue
        for item in items:
            texts = [item["name"], *(v for k in ("employer", "key") if isinstance(v := item.get(k), str))]
            if not all(storable(text) for text in texts):
                errors.append(RowError(0, kind, f"“{shown(item['name'], 40)}” {UNSTORABLE_MESSAGE}"))
                continue
            name = clean_tag(item["name"]) if kind == "tags" else clean_name(item["name"])
            if not name or len(name) > limit:
                errors.append(RowError(0, kind, f"“{name[:40]}” is empty or longer than {limit} characters."))
            elif kind == "projects":
                employer = item.get("employer")
                reference.projects.append((name, clean_name(employer) if isinstance(employer, str) else ""))
            elif kind == "skills":
                key = item.get("key")
                valid_key = isinstance(key, str) and 0 < len(key) <= MAX_SKILL_LENGTH and key == key.strip()
                reference.skills.append((name, key if valid_key else ""))
            else:
                getattr(reference, kind).append(name)
    return reference


def _archive_files(item: dict) -> list[tuple[str, str]]:
    """(path in the archive, name the person gave) of each file the entry's evidence lists."""
    evidence = item.get("evidence")
    if not isinstance(evidence, list):
        return []
    return [
        (e["path"], e["original_name"] if isinstance(e.get("original_name"), str) else "")
        for e in evidence
        if isinstance(e, dict)
        and e.get("kind") == Evidence.Kind.FILE
        and isinstance(e.get("path"), str)
        and e["path"]
    ]


@dataclass(frozen=True)
class CheckedFile:
    original_name: str
    content_type: str
    size_bytes: int


def evidence_member_check(handle: IO[bytes], member: Member, name: str, target: IO[bytes]) -> CheckedUpload:
    """Inflate one evidence file into `target` (a temporary file), at most EVIDENCE_MAX_BYTES of it, and
    check it exactly like an upload. Raises ValidationFailed with the reason."""
    member_copy(handle, member, target, limit=settings.EVIDENCE_MAX_BYTES)
    return check_upload(target, name=name or member.name, claims=False)


def _file_problem(member: Member | None, path: str, name: str) -> str:
    """What the directory alone says is wrong with an evidence file, or ""."""
    if member is None:
        return f"{shown(path)} is not in the archive."
    limit = settings.EVIDENCE_MAX_BYTES
    if member.file_size > limit:
        label = shown(name or path)
        return (
            f"“{label}” is {filesizeformat(member.file_size)}; files can be at most {filesizeformat(limit)}."
        )
    return ""


def zip_parse(
    handle: IO[bytes], *, today, check_files: bool, progress: Progress | None = None
) -> tuple[ParsedImport, ZipOutline]:
    """Check the whole export. With `check_files`, every evidence file is read and checked (a preview);
    without, only the directory's word on them is checked (the commit checks each file as it copies it)."""
    outline = zip_precheck(handle, keep_all=True)
    document = _member_json(handle, outline, "entries.json", ENTRIES_JSON_MAX_BYTES)
    if not isinstance(document, dict) or not isinstance(document.get("entries"), list):
        raise ImportRejected("entries.json in the archive has no list of entries.")
    parsed = ParsedImport(format="zip", keep_skipped=False)
    parsed.reference = _zip_reference(document, parsed.errors)
    entries = document["entries"]
    files_total = sum(len(_archive_files(item)) for item in entries if isinstance(item, dict))
    files_done = 0
    checked: dict[str, CheckedFile] = {}
    for number, item in enumerate(entries, start=1):
        rows_limit(parsed)
        if not isinstance(item, dict):
            row_unreadable(parsed, number, "is not an object with a date and a title.", {})
            continue
        problems = []
        for path, name in _archive_files(item):
            member = outline.members.get(path)
            problem = _file_problem(member, path, name)
            if not problem and check_files and path not in checked:
                try:
                    with tempfile.TemporaryFile() as target:
                        found = evidence_member_check(handle, member, name, target)
                    checked[path] = CheckedFile(found.original_name, found.content_type, found.size_bytes)
                except ValidationFailed as exc:
                    problem = exc.message
                files_done += 1
                if progress and (files_done % 20 == 0 or files_done == files_total):
                    progress(files_done, files_total, "Checking evidence files")
            if problem:
                problems.append(RowError(number, "evidence", problem))
        entry = row_collect(parsed, number, item, today=today, extra_errors=problems)
        if entry is not None:
            _apply_checked(entry, outline, checked)
    if parsed.errors:
        parsed.rows = []
    parsed.summary = {
        "entries": parsed.total,
        "evidence_files": files_total,
        **{
            kind: len(getattr(parsed.reference, kind)) for kind in ("employers", "projects", "skills", "tags")
        },
    }
    return parsed, outline


def _apply_checked(entry: EntryRow, outline: ZipOutline, checked: dict[str, CheckedFile]) -> None:
    for evidence in entry.evidence:
        if evidence.kind != Evidence.Kind.FILE or not evidence.path:
            continue
        found = checked.get(evidence.path)
        if found is not None:
            evidence.original_name = found.original_name
            evidence.content_type = found.content_type
            evidence.size_bytes = found.size_bytes
        else:
            evidence.size_bytes = outline.members[evidence.path].file_size


def evidence_files_copy(
    *, tenant, handle: IO[bytes], outline: ZipOutline, rows: list[EntryRow], progress: Progress | None
) -> list[str]:
    """Check and copy the archive's evidence files into storage (fresh random names); returns the names.

    Each file is checked again as it is copied, so what is stored is exactly what passed `check_upload`.
    """
    items = [
        (row, item) for row in rows for item in row.evidence if item.kind == Evidence.Kind.FILE and item.path
    ]
    stored: list[str] = []
    field_file = Evidence._meta.get_field("file")
    try:
        for done, (row, item) in enumerate(items, start=1):
            with tempfile.TemporaryFile() as target:
                try:
                    checked = evidence_member_check(
                        handle, outline.members[item.path], item.original_name, target
                    )
                except ValidationFailed as exc:
                    raise ImportRejected(f"Entry {row.row}: {exc.message} Nothing was imported.") from exc
                name = field_file.generate_filename(Evidence(tenant=tenant), checked.original_name)
                item.stored_name = field_file.storage.save(name, checked.upload)
            item.original_name = checked.original_name
            item.content_type = checked.content_type
            item.size_bytes = checked.size_bytes
            stored.append(item.stored_name)
            if progress and (done % 20 == 0 or done == len(items)):
                progress(done, len(items), "Copying evidence files")
    except BaseException:
        stored_files_discard(stored)
        raise
    return stored


def stored_files_discard(names: list[str]) -> None:
    storage = Evidence._meta.get_field("file").storage
    for name in names:
        storage.delete(name)


def workspace_is_empty(*, tenant) -> int:
    """0 when the workspace holds no worklog data at all; otherwise how many entries it has (at least 1)."""
    entries = Entry.objects.filter(tenant=tenant).count()
    if entries:
        return entries
    others = any(model.objects.filter(tenant=tenant).exists() for model in (Employer, Project, Skill, Tag))
    return 1 if others else 0
