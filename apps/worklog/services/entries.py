"""Entries: log, change, delete (soft, with undo), restore and purge. Every change that gives a skill a live
entry or takes one away moves the skill's counters in the same transaction (services/counters.py)."""

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.core.errors import ValidationFailed
from apps.core.events import emit_event
from apps.worklog.models import Entry, EntryVersion
from apps.worklog.services.common import (
    _UNSET,
    BODY_MAX,
    EARLIEST_DATE,
    FUTURE_SLACK,
    IMPACT_MAX,
    LOG_AHEAD_SLACK,
    METRIC_LIMIT,
    METRIC_UNIT_MAX,
    PURGE_AFTER,
    TITLE_MAX,
    _today_for,
)
from apps.worklog.services.counters import entry_skill_ids, skill_counts_move
from apps.worklog.services.evidence import (
    _delete_stored_files,
    _store_files,
    evidence_add_link,
    evidence_check_files,
    evidence_check_link,
)
from apps.worklog.services.reference import (
    _skills_for,
    _tags_for,
    employer_get_or_create,
    project_get_or_create,
)
from apps.worklog.versions import EDIT, ChangeSource, entry_text, entry_version_record, text_changed


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
    skill_counts_move(gained=[(skill.pk, entry.occurred_on) for skill in entry_skills])
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
    stored = _lock(entry)
    if entry.deleted_at is not None or stored is None or stored[1] is not None:
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
    _update_skills(entry, old_date=stored[0], skills=skills, actor=actor)
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
    stored = _lock(entry)
    if stored is not None and stored[1] is None:
        entry.occurred_on = stored[0]
        entry.deleted_at = timezone.now()
        entry.save(update_fields=["deleted_at", "updated_at"])
        skill_counts_move(lost=[(pk, entry.occurred_on) for pk in entry_skill_ids(entry.pk)])
        emit_event("entry.deleted", tenant=entry.tenant, actor=actor, entry_id=entry.pk)
    elif stored is not None:
        entry.deleted_at = stored[1]
    return entry


@transaction.atomic
def entry_restore(*, entry: Entry, actor) -> Entry:
    stored = _lock(entry)
    if stored is not None and stored[1] is not None:
        entry.occurred_on = stored[0]
        entry.deleted_at = None
        entry.save(update_fields=["deleted_at", "updated_at"])
        skill_counts_move(gained=[(pk, entry.occurred_on) for pk in entry_skill_ids(entry.pk)])
        emit_event("entry.restored", tenant=entry.tenant, actor=actor, entry_id=entry.pk)
    elif stored is not None:
        entry.deleted_at = None
    return entry


def _lock(entry: Entry) -> tuple[date, Any] | None:
    """Lock the entry's row and read its stored date and deletion time (None when it is gone), so that two
    changes of one entry run one after the other and each moves the skill counters from what is stored."""
    return (
        Entry.objects.select_for_update(no_key=True)
        .filter(pk=entry.pk)
        .values_list("occurred_on", "deleted_at")
        .first()
    )


def _update_skills(entry: Entry, *, old_date: date, skills, actor) -> None:
    """Set the entry's skills (when given) and move the counters for the skills it lost and gained, and,
    when its date moved, for the skills it kept."""
    if skills is _UNSET and entry.occurred_on == old_date:
        return
    before = set(entry_skill_ids(entry.pk))
    after = before
    if skills is not _UNSET:
        wanted = _skills_for(tenant=entry.tenant, names=skills, actor=actor)
        after = {skill.pk for skill in wanted}
        through = Entry.skills.through
        if before - after:
            through.objects.filter(entry_id=entry.pk, skill_id__in=before - after).delete()
        if after - before:
            through.objects.bulk_create(
                [through(entry_id=entry.pk, skill_id=pk) for pk in sorted(after - before)],
                ignore_conflicts=True,
            )
        if hasattr(entry, "_prefetched_objects_cache"):
            entry._prefetched_objects_cache.pop("skills", None)
    moved = entry.occurred_on != old_date
    skill_counts_move(
        lost=[(pk, old_date) for pk in (before if moved else before - after)],
        gained=[(pk, entry.occurred_on) for pk in (after if moved else after - before)],
    )


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
