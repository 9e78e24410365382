"""Reference data (employers, projects, skills, tags): matched case-insensitively, created on first use;
the unique constraints in the database settle races (a losing insert re-reads the winner's row). Skills can
be renamed and merged; a merge keeps the target's counters exact."""

from collections.abc import Iterable

from django.db import IntegrityError, transaction

from apps.core.errors import Conflict, ValidationFailed
from apps.core.events import emit_event
from apps.worklog.models import Employer, Entry, Project, Skill, Tag
from apps.worklog.services.common import (
    NAME_MAX,
    SKILLS_PER_ENTRY,
    TAG_MAX,
    TAGS_PER_ENTRY,
    _clean_name,
    split_names,
)
from apps.worklog.services.counters import skill_counts_refresh
from apps.worklog.skills import MAX_SKILL_LENGTH, skill_normalise


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
    # Both rows locked in id order first, like every counter move, so no writer waits in a cycle.
    list(
        Skill.objects.filter(pk__in=[source.pk, target.pk])
        .order_by("pk")
        .select_for_update(no_key=True)
        .values("pk")
    )
    through = Entry.skills.through
    entry_ids = list(through.objects.filter(skill_id=source.pk).values_list("entry_id", flat=True))
    through.objects.bulk_create(
        [through(entry_id=entry_id, skill_id=target.pk) for entry_id in entry_ids], ignore_conflicts=True
    )
    source_id, source_name = source.pk, source.name
    source.delete()
    # Entries that had both skills count once: the target is recounted from its links.
    skill_counts_refresh(skill_ids=[target.pk])
    target.refresh_from_db(fields=["entry_count", "last_used_on"])
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
