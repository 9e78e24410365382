"""Writes for the work log: entries, their reference data (employers, projects, skills, tags) and evidence.

Every function is keyword-only, runs in one transaction and raises `ValidationFailed` with a message a
person can act on. Reference data is matched case-insensitively and created on first use; the unique
constraints in the database settle races (a losing insert re-reads the winner's row).
"""

import re
import zoneinfo
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.errors import Conflict, ValidationFailed
from apps.core.events import emit_event
from apps.worklog.models import Employer, Entry, EntryVersion, Evidence, Project, Skill, Tag
from apps.worklog.skills import MAX_SKILL_LENGTH, skill_normalise
from apps.worklog.uploads import CheckedUpload, check_upload
from apps.worklog.versions import EDIT, ChangeSource, entry_text, entry_version_record, text_changed

TITLE_MAX = 200
BODY_MAX = 20_000
IMPACT_MAX = 5_000
NAME_MAX = 120
TAG_MAX = 50
METRIC_UNIT_MAX = 30
# Up to 11 digits before the point and 4 after: 15 significant digits, which every database keeps exactly
# (SQLite stores decimals as doubles, so the column's 18 digits would not read back).
METRIC_INTEGER_DIGITS = 11
METRIC_LIMIT = Decimal(10) ** METRIC_INTEGER_DIGITS
SKILLS_PER_ENTRY = 30
TAGS_PER_ENTRY = 30
FILES_PER_UPLOAD = 20
EVIDENCE_PER_ENTRY = 50
LINK_MAX = 2000
EARLIEST_DATE = date(1950, 1, 1)
FUTURE_SLACK = timedelta(days=366)  # how far ahead a follow-up may be
LOG_AHEAD_SLACK = timedelta(days=1)  # work is logged once done: today, or tomorrow across a date line
PURGE_AFTER = timedelta(days=30)

_SPACES = re.compile(r"\s+")
_UNSET: Any = object()


def _clean_name(value: str | None) -> str:
    return _SPACES.sub(" ", value or "").strip()


def split_names(value: str | Iterable[str] | None) -> list[str]:
    """Names from a comma-separated string or a list, trimmed, without blanks, in order."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [cleaned for item in items if (cleaned := _clean_name(str(item)))]


# ------------------------------------------------------------------ reference data


def _get_or_create(model, *, tenant, lookup: dict, defaults: dict):
    existing = model.objects.filter(tenant=tenant, **lookup).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return model.objects.create(tenant=tenant, **defaults), True
    except IntegrityError:
        return model.objects.get(tenant=tenant, **lookup), False


def employer_get_or_create(*, tenant, name: str, actor=None) -> Employer | None:
    """The employer called `name` (any case), created on first use; None for a blank name."""
    name = _clean_name(name)
    if not name:
        return None
    if len(name) > NAME_MAX:
        raise ValidationFailed(f"Keep the employer name to {NAME_MAX} characters.", field="employer")
    employer, created = _get_or_create(
        Employer, tenant=tenant, lookup={"name__iexact": name}, defaults={"name": name}
    )
    if created:
        emit_event("employer.created", tenant=tenant, actor=actor, employer_id=employer.pk)
    return employer


def project_get_or_create(
    *, tenant, name: str, employer: Employer | None = None, actor=None
) -> Project | None:
    """The project called `name` (any case), created on first use under `employer`; None for a blank name.

    A project first logged without an employer is attached to the first employer it is logged with.
    """
    name = _clean_name(name)
    if not name:
        return None
    if len(name) > NAME_MAX:
        raise ValidationFailed(f"Keep the project name to {NAME_MAX} characters.", field="project")
    project, created = _get_or_create(
        Project, tenant=tenant, lookup={"name__iexact": name}, defaults={"name": name, "employer": employer}
    )
    if created:
        emit_event("project.created", tenant=tenant, actor=actor, project_id=project.pk)
    elif project.employer_id is None and employer is not None:
        Project.objects.filter(pk=project.pk, employer__isnull=True).update(employer=employer)
        project.employer = employer
    return project


def skill_get_or_create(*, tenant, name: str, actor=None) -> Skill | None:
    if len(_clean_name(name)) > MAX_SKILL_LENGTH:
        raise ValidationFailed(f"Keep each skill to {MAX_SKILL_LENGTH} characters.", field="skills")
    display, key = skill_normalise(name)
    if not key:
        return None
    skill, created = _get_or_create(
        Skill, tenant=tenant, lookup={"key": key}, defaults={"name": display, "key": key}
    )
    if created:
        emit_event("skill.created", tenant=tenant, actor=actor, skill_id=skill.pk)
    return skill


def tag_normalise(name: str) -> str:
    """Tags are lower case, without a leading '#', with single spaces."""
    return _clean_name(name).lstrip("#").strip().lower()


def tag_get_or_create(*, tenant, name: str) -> Tag | None:
    name = tag_normalise(name)
    if not name:
        return None
    if len(name) > TAG_MAX:
        raise ValidationFailed(f"Keep each tag to {TAG_MAX} characters.", field="tags")
    tag, _created = _get_or_create(Tag, tenant=tenant, lookup={"name": name}, defaults={"name": name})
    return tag


def _skills_for(*, tenant, names: Iterable[str], actor) -> list[Skill]:
    names = split_names(names)
    if len(names) > SKILLS_PER_ENTRY:
        raise ValidationFailed(f"An entry can have up to {SKILLS_PER_ENTRY} skills.", field="skills")
    skills: dict[int, Skill] = {}
    for name in names:
        skill = skill_get_or_create(tenant=tenant, name=name, actor=actor)
        if skill is not None:
            skills.setdefault(skill.pk, skill)
    return list(skills.values())


def _tags_for(*, tenant, names: Iterable[str]) -> list[Tag]:
    names = split_names(names)
    if len(names) > TAGS_PER_ENTRY:
        raise ValidationFailed(f"An entry can have up to {TAGS_PER_ENTRY} tags.", field="tags")
    tags: dict[int, Tag] = {}
    for name in names:
        tag = tag_get_or_create(tenant=tenant, name=name)
        if tag is not None:
            tags.setdefault(tag.pk, tag)
    return list(tags.values())


@transaction.atomic
def skill_rename(*, skill: Skill, actor, name: str) -> Skill:
    """Give a skill a new name. If the new name means another existing skill, say so: that is a merge."""
    cleaned = _clean_name(name)
    if not cleaned:
        raise ValidationFailed("The skill needs a name.", field="name")
    if len(cleaned) > MAX_SKILL_LENGTH:
        raise ValidationFailed(f"Keep the skill name to {MAX_SKILL_LENGTH} characters.", field="name")
    display, key = skill_normalise(cleaned)
    clash = Skill.objects.filter(tenant_id=skill.tenant_id, key=key).exclude(pk=skill.pk).first()
    if clash is not None:
        raise Conflict(
            f"You already have the skill “{clash.name}”. Merge “{skill.name}” into it instead.",
            field="name",
            extra={"existing_skill_id": clash.pk},
        )
    old_name = skill.name
    skill.name, skill.key = display, key
    skill.save(update_fields=["name", "key", "updated_at"])
    emit_event(
        "skill.renamed", tenant=skill.tenant, actor=actor, skill_id=skill.pk, old_name=old_name, name=display
    )
    return skill


@transaction.atomic
def skill_merge(*, source: Skill, target: Skill, actor) -> Skill:
    """Move every entry of `source` to `target` and delete `source`. Both must be in the same workspace."""
    if source.tenant_id != target.tenant_id:
        raise ValidationFailed("Choose a skill from your own list to merge into.", field="target")
    if source.pk == target.pk:
        raise ValidationFailed("Choose a different skill to merge into.", field="target")
    through = Entry.skills.through
    entry_ids = list(through.objects.filter(skill_id=source.pk).values_list("entry_id", flat=True))
    through.objects.bulk_create(
        [through(entry_id=entry_id, skill_id=target.pk) for entry_id in entry_ids], ignore_conflicts=True
    )
    source_id, source_name = source.pk, source.name
    source.delete()
    emit_event(
        "skill.merged",
        tenant=target.tenant,
        actor=actor,
        source_id=source_id,
        source_name=source_name,
        target_id=target.pk,
        entries=len(entry_ids),
    )
    return target


# ------------------------------------------------------------------------ entries


def _today_for(author) -> date:
    zone_name = getattr(author, "time_zone", "") or ""
    if zone_name:
        try:
            return timezone.localdate(timezone=zoneinfo.ZoneInfo(zone_name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return timezone.localdate()


def _check_text(value: str | None, *, field: str, label: str, limit: int, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed(f"Give the entry {label}.", field=field)
    if len(value) > limit:
        raise ValidationFailed(
            f"Keep {label} to {limit:,} characters (it has {len(value):,}).",
            field=field,
            extra={"max_length": limit, "length": len(value)},
        )
    return value


def _check_date(value: date, *, field: str, label: str, latest: date) -> date:
    if not isinstance(value, date):
        raise ValidationFailed(f"Give {label} as a date, like 2025-03-14.", field=field)
    if value < EARLIEST_DATE:
        raise ValidationFailed(
            f"{label.capitalize()} is before {EARLIEST_DATE.year}; check the year.", field=field
        )
    if value > latest:
        raise ValidationFailed(
            f"{label.capitalize()} is after {latest:%B %-d, %Y}; "
            + ("log work once it has happened." if field == "occurred_on" else "check the year."),
            field=field,
        )
    return value


def entry_dates_check(
    *, occurred_on: date | None, follow_up_on: date | None, today: date
) -> tuple[date | None, date | None]:
    """The one rule for an entry's dates, for forms, the API and imports alike.

    The work happened no later than tomorrow in the person's time zone (a little slack for someone
    logging late at night across a date line); a follow-up is within a year and not before the work.
    """
    if occurred_on is not None:
        occurred_on = _check_date(
            occurred_on, field="occurred_on", label="the date", latest=today + LOG_AHEAD_SLACK
        )
    if follow_up_on is not None:
        follow_up_on = _check_date(
            follow_up_on, field="follow_up_on", label="the follow-up date", latest=today + FUTURE_SLACK
        )
        if occurred_on is not None and follow_up_on < occurred_on:
            raise _follow_up_too_early(occurred_on)
    return occurred_on, follow_up_on


def _follow_up_too_early(occurred_on: date) -> ValidationFailed:
    return ValidationFailed(
        f"The follow-up date is before the work itself ({occurred_on:%B %-d, %Y}); pick a day after it.",
        field="follow_up_on",
    )


def _check_metric(value: Decimal | None, *, field: str) -> Decimal | None:
    if value is None:
        return None
    value = Decimal(value)
    if not value.is_finite() or abs(value) >= METRIC_LIMIT:
        raise ValidationFailed("That number is too large to keep; use a bigger unit.", field=field)
    return value.quantize(Decimal("0.0001"))


def _validated(values: dict[str, Any], *, today: date) -> dict[str, Any]:
    """Check and clean the plain fields present in `values` (a full create or a partial update)."""
    cleaned = dict(values)
    if "title" in cleaned:
        cleaned["title"] = _check_text(
            cleaned["title"], field="title", label="a title", limit=TITLE_MAX, required=True
        )
    if "body" in cleaned:
        cleaned["body"] = _check_text(cleaned["body"], field="body", label="the description", limit=BODY_MAX)
    if "impact" in cleaned:
        cleaned["impact"] = _check_text(
            cleaned["impact"], field="impact", label="the impact", limit=IMPACT_MAX
        )
    if "metric_unit" in cleaned:
        cleaned["metric_unit"] = _check_text(
            cleaned["metric_unit"], field="metric_unit", label="the unit", limit=METRIC_UNIT_MAX
        )
    for field in ("metric_value", "metric_before", "metric_after"):
        if field in cleaned:
            cleaned[field] = _check_metric(cleaned[field], field=field)
    if "occurred_on" in cleaned:
        cleaned["occurred_on"], _ = entry_dates_check(
            occurred_on=cleaned["occurred_on"], follow_up_on=None, today=today
        )
    if cleaned.get("follow_up_on") is not None:
        _, cleaned["follow_up_on"] = entry_dates_check(
            occurred_on=None, follow_up_on=cleaned["follow_up_on"], today=today
        )
    for flag in ("confidential", "outcome_pending"):
        if flag in cleaned:
            cleaned[flag] = bool(cleaned[flag])
    return cleaned


def _check_follow_up(entry: Entry) -> None:
    if entry.outcome_pending and entry.follow_up_on is None:
        raise ValidationFailed(
            "The result is not known yet: pick a date to come back and add it.", field="follow_up_on"
        )
    if entry.follow_up_on is not None and entry.occurred_on and entry.follow_up_on < entry.occurred_on:
        raise _follow_up_too_early(entry.occurred_on)


def _apply_references(entry: Entry, *, employer=_UNSET, project=_UNSET, actor) -> None:
    tenant = entry.tenant
    if employer is not _UNSET:
        entry.employer = employer_get_or_create(tenant=tenant, name=employer or "", actor=actor)
    if project is not _UNSET:
        entry.project = project_get_or_create(
            tenant=tenant, name=project or "", employer=entry.employer, actor=actor
        )


@transaction.atomic
def entry_create(
    *,
    tenant,
    author,
    title: str,
    occurred_on: date | None = None,
    body: str = "",
    impact: str = "",
    employer: str | None = None,
    project: str | None = None,
    skills: Iterable[str] | str = (),
    tags: Iterable[str] | str = (),
    metric_value: Decimal | None = None,
    metric_unit: str = "",
    metric_before: Decimal | None = None,
    metric_after: Decimal | None = None,
    confidential: bool = False,
    outcome_pending: bool = False,
    follow_up_on: date | None = None,
    files: Iterable = (),
    links: Iterable[str] = (),
) -> Entry:
    """Log one thing done at work, with optional evidence files and links (all kept, or none).

    The date defaults to today in the author's time zone.
    """
    checked_files = evidence_check_files(files)
    checked_links = [evidence_check_link(url) for url in links if url.strip()]
    today = _today_for(author)
    values = _validated(
        {
            "title": title,
            "occurred_on": occurred_on or today,
            "body": body,
            "impact": impact,
            "metric_value": metric_value,
            "metric_unit": metric_unit,
            "metric_before": metric_before,
            "metric_after": metric_after,
            "confidential": confidential,
            "outcome_pending": outcome_pending,
            "follow_up_on": follow_up_on,
        },
        today=today,
    )
    entry = Entry(tenant=tenant, author=author, **values)
    _check_follow_up(entry)
    _apply_references(entry, employer=employer, project=project, actor=author)
    entry_skills = _skills_for(tenant=tenant, names=skills, actor=author)
    entry_tags = _tags_for(tenant=tenant, names=tags)
    entry.save()
    entry.skills.set(entry_skills)
    entry.tags.set(entry_tags)
    emit_event("entry.created", tenant=tenant, actor=author, entry_id=entry.pk)
    if checked_files:
        _store_files(entry=entry, actor=author, checked=checked_files)
    for url in checked_links:
        evidence_add_link(entry=entry, actor=author, url=url)
    return entry


@transaction.atomic
def entry_update(
    *,
    entry: Entry,
    actor,
    title: str = _UNSET,
    occurred_on: date = _UNSET,
    body: str = _UNSET,
    impact: str = _UNSET,
    employer: str | None = _UNSET,
    project: str | None = _UNSET,
    skills: Iterable[str] | str = _UNSET,
    tags: Iterable[str] | str = _UNSET,
    metric_value: Decimal | None = _UNSET,
    metric_unit: str = _UNSET,
    metric_before: Decimal | None = _UNSET,
    metric_after: Decimal | None = _UNSET,
    confidential: bool = _UNSET,
    outcome_pending: bool = _UNSET,
    follow_up_on: date | None = _UNSET,
    source: ChangeSource = EDIT,
) -> Entry:
    """Change the given fields of an entry; fields not passed stay as they are.

    When the text (title, details, impact, measurable result) changes, the text it had is kept first as a
    version, marked with `source`: an edit, an accepted suggestion or a restore.
    """
    if entry.deleted_at is not None:
        raise ValidationFailed("This entry was deleted. Undo the delete before changing it.")
    given = {
        name: value
        for name, value in {
            "title": title,
            "occurred_on": occurred_on,
            "body": body,
            "impact": impact,
            "metric_value": metric_value,
            "metric_unit": metric_unit,
            "metric_before": metric_before,
            "metric_after": metric_after,
            "confidential": confidential,
            "outcome_pending": outcome_pending,
            "follow_up_on": follow_up_on,
        }.items()
        if value is not _UNSET
    }
    if given.get("occurred_on", 0) is None:
        raise ValidationFailed("Give the entry a date.", field="occurred_on")
    values = _validated(given, today=_today_for(actor))
    previous_text = entry_text(entry)
    for name, value in values.items():
        setattr(entry, name, value)
    _check_follow_up(entry)
    _apply_references(entry, employer=employer, project=project, actor=actor)
    entry.save()
    if text_changed(previous_text, entry_text(entry)):
        entry_version_record(entry=entry, previous=previous_text, actor=actor, source=source)
    if skills is not _UNSET:
        entry.skills.set(_skills_for(tenant=entry.tenant, names=skills, actor=actor))
    if tags is not _UNSET:
        entry.tags.set(_tags_for(tenant=entry.tenant, names=tags))
    related = {"employer": employer, "project": project, "skills": skills, "tags": tags}
    changed = sorted([*values, *(name for name, value in related.items() if value is not _UNSET)])
    emit_event("entry.updated", tenant=entry.tenant, actor=actor, entry_id=entry.pk, fields=changed)
    return entry


@transaction.atomic
def entry_version_restore(*, entry: Entry, version: EntryVersion, actor) -> Entry:
    """Put a kept version's text back. The text it replaces is kept as a version too: nothing is lost."""
    if version.entry_id != entry.pk:
        raise ValidationFailed("That version belongs to another entry.")
    if not text_changed(entry_text(entry), entry_text(version)):
        raise ValidationFailed("The entry already reads like this version; there is nothing to restore.")
    restored = entry_update(
        entry=entry,
        actor=actor,
        **entry_text(version),
        source=ChangeSource(kind=EntryVersion.Source.RESTORE, restored_version=version),
    )
    emit_event(
        "entry.version_restored", tenant=entry.tenant, actor=actor, entry_id=entry.pk, version=version.pk
    )
    return restored


@transaction.atomic
def entry_delete(*, entry: Entry, actor) -> Entry:
    """Hide an entry from every list; `entry_restore` brings it back until it is purged."""
    if entry.deleted_at is None:
        entry.deleted_at = timezone.now()
        entry.save(update_fields=["deleted_at", "updated_at"])
        emit_event("entry.deleted", tenant=entry.tenant, actor=actor, entry_id=entry.pk)
    return entry


@transaction.atomic
def entry_restore(*, entry: Entry, actor) -> Entry:
    if entry.deleted_at is not None:
        entry.deleted_at = None
        entry.save(update_fields=["deleted_at", "updated_at"])
        emit_event("entry.restored", tenant=entry.tenant, actor=actor, entry_id=entry.pk)
    return entry


def entry_purge_deleted(*, older_than: timedelta = PURGE_AFTER) -> int:
    """Remove for good the entries deleted more than `older_than` ago, with their evidence files."""
    cutoff = timezone.now() - older_than
    purged = 0
    for entry in Entry.objects.filter(deleted_at__lt=cutoff).select_related("tenant").iterator():
        with transaction.atomic():
            file_names = [name for name in entry.evidence.values_list("file", flat=True) if name]
            entry_id, tenant = entry.pk, entry.tenant
            entry.delete()
            emit_event("entry.purged", tenant=tenant, entry_id=entry_id, files=len(file_names))
            transaction.on_commit(lambda names=file_names: _delete_stored_files(names))
        purged += 1
    return purged


# ------------------------------------------------------------------------ evidence


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
