"""Writes for AI help on entries: voice settings, improve jobs, and the person's decisions on suggestions.

Nothing here changes an entry without the person's consent: a job only records `Suggestion`s; accepting
one applies the chosen fields through worklog's `entry_update`, which keeps the replaced text as a version
(source "suggestion <id>"), so the original is always there to restore.

Privacy: an entry marked confidential is drafted by the builtin enhancer (on this server, free) whenever the
provider is external and the person has not allowed sending confidential entries; the gateway refuses such
a task anyway (its safety net), so it is never sent.
"""

import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.assist import selectors
from apps.assist.builtin import builtin_draft
from apps.assist.drafts import (
    DRAFT_FIELDS,
    FIELD_LABELS,
    DraftInvalid,
    EntrySnapshot,
    draft_validate,
)
from apps.assist.models import Suggestion, VoiceSettings
from apps.assist.prompts import improve_task
from apps.billing import services as billing
from apps.billing.errors import InsufficientFunds
from apps.core.errors import ApplicationError, Conflict, ValidationFailed
from apps.core.events import emit_event
from apps.core.jobs import job_check_cancelled, job_enqueue, job_progress, job_succeed
from apps.core.models import Job
from apps.llm.claims import claim_flags
from apps.llm.errors import LLMStepAlreadyRun
from apps.llm.gateway import llm_estimate, llm_provider_info, llm_run, llm_step_key
from apps.worklog import services as worklog_services
from apps.worklog.models import Entry
from apps.worklog.selectors import entry_get
from apps.worklog.skills import skill_normalise
from apps.worklog.versions import ChangeSource, value_text

logger = logging.getLogger("afterresume.assist")

JOB_KIND = "assist.improve"
JOB_TASK = "apps.assist.tasks.improve_entries"
INSTRUCTIONS_MAX = 1_000
MAX_NEW_SKILLS = 8
NUMBER_FIELDS = ("metric_value", "metric_before", "metric_after")
CONFIDENTIAL_NOTE = (
    "This entry is confidential, so it was drafted without AI, on this server: your voice settings keep "
    "confidential entries away from external models."
)


# ----------------------------------------------------------------------- voice


@transaction.atomic
def voice_settings_update(
    *,
    tenant,
    user,
    tone: str,
    length: str,
    person: str,
    instructions: str = "",
    allow_confidential_external: bool = False,
) -> VoiceSettings:
    """Save how this person wants their entries written (one row per person and workspace)."""
    choices = {
        "tone": (tone, VoiceSettings.Tone),
        "length": (length, VoiceSettings.Length),
        "person": (person, VoiceSettings.Person),
    }
    for name, (value, kind) in choices.items():
        if value not in kind.values:
            raise ValidationFailed(
                f"Choose one of: {', '.join(str(label) for label in kind.labels)}.", field=name
            )
    instructions = (instructions or "").strip()
    if len(instructions) > INSTRUCTIONS_MAX:
        raise ValidationFailed(
            f"Keep the instructions to {INSTRUCTIONS_MAX:,} characters (they have {len(instructions):,}).",
            field="instructions",
        )
    voice, _created = VoiceSettings.objects.update_or_create(
        tenant=tenant,
        user=user,
        defaults={
            "tone": tone,
            "length": length,
            "person": person,
            "instructions": instructions,
            "allow_confidential_external": bool(allow_confidential_external),
        },
    )
    emit_event(
        "assist.voice_updated",
        tenant=tenant,
        actor=user,
        allow_confidential_external=voice.allow_confidential_external,
    )
    return voice


# ---------------------------------------------------------------- improve jobs


@dataclass(frozen=True)
class ImprovePlan:
    """What improving these entries will do and cost, shown before the person starts it."""

    entries: list[Entry]
    estimate_micros: int
    provider: dict
    kept_local: int  # confidential entries the builtin enhancer drafts instead of the external model
    affordability: selectors.Affordability

    @property
    def drafted_without_ai(self) -> bool:
        return not self.provider["external"] or self.kept_local == len(self.entries)


def _kept_local(snapshot: EntrySnapshot, voice: VoiceSettings, provider: dict) -> bool:
    return bool(provider["external"] and snapshot.confidential and not voice.allow_confidential_external)


def improve_plan(*, tenant, user, entries: list[Entry]) -> ImprovePlan:
    voice = selectors.voice_settings_get(tenant=tenant, user=user)
    provider = llm_provider_info()
    tasks, kept_local = [], 0
    for entry in entries:
        snapshot = EntrySnapshot.of(entry)
        if _kept_local(snapshot, voice, provider):
            kept_local += 1
        else:
            tasks.append(improve_task(snapshot, voice))
    estimate = llm_estimate(tenant=tenant, tasks=tasks) if tasks else 0
    return ImprovePlan(
        entries=entries,
        estimate_micros=estimate,
        provider=provider,
        kept_local=kept_local,
        affordability=selectors.improve_affordability(tenant=tenant, estimate_micros=estimate),
    )


@billing.refusals_recorded  # a refusal rolls this back; it is recorded after
@transaction.atomic
def improve_start(*, tenant, user, entries: list[Entry], next_url: str = "") -> tuple[Job, ImprovePlan]:
    """Queue one job that drafts a suggestion for each entry. Refused (402) before anything is sent when
    the reserve's policy cannot cover the estimate."""
    entries = [entry for entry in entries if entry.deleted_at is None]
    if not entries:
        raise ValidationFailed("Choose at least one entry to improve.", field="entries")
    if len(entries) > selectors.BULK_LIMIT:
        raise ValidationFailed(
            f"Improve up to {selectors.BULK_LIMIT} entries at a time; narrow the filters.", field="entries"
        )
    plan = improve_plan(tenant=tenant, user=user, entries=entries)
    if not plan.affordability.covered:
        raise selectors.improve_refusal(plan.affordability)
    label = f"Improve “{entries[0].title[:80]}”" if len(entries) == 1 else f"Improve {len(entries)} entries"
    job = job_enqueue(
        kind=JOB_KIND,
        tenant=tenant,
        user=user,
        func_path=JOB_TASK,
        label=label,
        next_url=next_url,
        estimate_micros=plan.estimate_micros,
        entry_ids=[entry.pk for entry in entries],
    )
    emit_event(
        "assist.improve_started",
        tenant=tenant,
        actor=user,
        job=job.pk,
        entries=len(entries),
        estimate_micros=plan.estimate_micros,
    )
    return job, plan


def improve_run(job: Job) -> None:
    """The job's work: one suggestion per entry, one gateway call each (keyed by job, attempt and entry).

    Entries that already have a suggestion from this job are skipped, so a retry pays only for the rest.
    The job stops between entries when it is cancelled. A failure on one entry does not stop the others;
    the job then fails with what went wrong, and a retry picks up where it stopped.
    """
    tenant, user = job.tenant, job.created_by
    voice = selectors.voice_settings_get(tenant=tenant, user=user)
    entries = selectors.improve_entries(tenant=tenant, ids=job.params.get("entry_ids") or [])
    done = set(Suggestion.objects.filter(job=job).values_list("entry_id", flat=True))
    total, failures, stopped = len(entries), [], ""
    job_progress(job, 0, total, step="Starting")
    for index, entry in enumerate(entries):
        job_check_cancelled(job)
        if entry.pk in done:
            job_progress(job, index + 1, total)
            continue
        job_progress(job, index, total, step=f"Improving “{entry.title[:60]}”")
        try:
            suggestion_create_for_entry(job=job, entry=entry, voice=voice, user=user)
        except InsufficientFunds as exc:
            stopped = exc.message
            break
        except LLMStepAlreadyRun:
            failures.append((entry, "it was already sent in this run, and its answer was not kept"))
        except ApplicationError as exc:
            failures.append((entry, exc.message))
        job_progress(job, index + 1, total)
    made = Suggestion.objects.filter(job=job)
    ids = list(made.order_by("pk").values_list("pk", flat=True))
    if stopped or failures:
        raise ApplicationError(
            _failure_message(total=total, done=len(ids), failures=failures, stopped=stopped)
        )
    waiting = made.filter(status=Suggestion.Status.PENDING).count()
    lines = [
        f"{waiting} suggestion{'s' if waiting != 1 else ''} ready for review."
        if waiting
        else "Nothing to change: the entries already read well."
    ]
    job_succeed(job, summary={"suggestion_ids": ids, "lines": lines, "next_label": "Review suggestions"})


def _failure_message(*, total: int, done: int, failures: list, stopped: str) -> str:
    parts = []
    if total > 1:
        parts.append(f"Improved {done} of {total} entries.")
    if stopped:
        parts.append(f"Then the reserve ran out: {stopped}")
    for entry, message in failures[:3]:
        parts.append(f"“{entry.title[:60]}” could not be improved: {message}")
    if len(failures) > 3:
        parts.append(f"{len(failures) - 3} more entries could not be improved.")
    if done:
        parts.append("The suggestions made are ready to review.")
    parts.append("Retry to try the rest again; entries already improved are skipped and not charged again.")
    return " ".join(parts)


# ------------------------------------------------------------------ suggestions


def _norm(text: str) -> str:
    return " ".join((text or "").split())


def suggestion_fields(snapshot: EntrySnapshot, draft: dict) -> list[dict]:
    """The fields a draft changes, each with the entry's text, the proposal and its fabrication flags."""
    source = snapshot.source_texts()
    items = []
    for name in DRAFT_FIELDS:
        original = snapshot.value(name)
        proposed = value_text(draft.get(name))
        if not _norm(proposed) or _norm(proposed) == _norm(original):
            continue  # an empty proposal never clears what the person wrote
        items.append(
            {
                "name": name,
                "label": FIELD_LABELS[name],
                "original": original,
                "proposed": proposed,
                "flags": claim_flags(proposed, source),
                "decision": None,
                "applied": None,
            }
        )
    return items


def _new_skills(snapshot: EntrySnapshot, names: list[str]) -> list[str]:
    own = {skill_normalise(name)[1] for name in snapshot.skills}
    found: dict[str, str] = {}
    for name in names:
        display, key = skill_normalise(name)
        if key and key not in own and key not in found:
            found[key] = display
    return list(found.values())[:MAX_NEW_SKILLS]


def suggestion_create_for_entry(*, job: Job, entry: Entry, voice: VoiceSettings, user) -> Suggestion:
    """Draft a suggestion for one entry, through the gateway (one call, paid through a hold) or, for a
    confidential entry the person keeps away from external models, with the builtin enhancer."""
    snapshot = EntrySnapshot.of(entry)
    provider = llm_provider_info()
    if _kept_local(snapshot, voice, provider):
        draft = draft_validate(builtin_draft(snapshot))
        made = {
            "provider": "builtin",
            "model": "builtin",
            "drafted_without_ai": True,
            "note": CONFIDENTIAL_NOTE,
        }
    else:
        result = llm_run(
            tenant=job.tenant,
            task=improve_task(snapshot, voice),
            idempotency_key=llm_step_key(job, f"entry-{entry.pk}"),
            job=job,
        )
        try:
            draft = draft_validate(result.data)
        except DraftInvalid as exc:  # the gateway validated it already; this is a second line
            raise ApplicationError(f"The answer could not be used: {exc}") from exc
        made = {
            "provider": result.provider,
            "model": result.model,
            "drafted_without_ai": result.drafted_without_ai,
            "cost_micros": result.cost_micros,
            "usage_event_id": result.usage_event_id,
        }
    return _suggestion_save(job=job, entry=entry, user=user, snapshot=snapshot, draft=draft, **made)


@transaction.atomic
def _suggestion_save(*, job, entry: Entry, user, snapshot: EntrySnapshot, draft: dict, **made) -> Suggestion:
    fields = suggestion_fields(snapshot, draft)
    skills = _new_skills(snapshot, draft.get("skills") or [])
    status = Suggestion.Status.PENDING if fields or skills else Suggestion.Status.NO_CHANGES
    try:
        with transaction.atomic():
            suggestion = Suggestion.objects.create(
                tenant_id=entry.tenant_id,
                entry=entry,
                job=job,
                fields=fields,
                skills=skills,
                source_texts=snapshot.source_texts(),
                status=status,
                created_by=user if getattr(user, "is_authenticated", False) else None,
                **made,
            )
    except IntegrityError:
        return Suggestion.objects.get(job=job, entry=entry)  # a twin delivery of the job made it first
    Suggestion.objects.filter(
        tenant_id=entry.tenant_id, entry=entry, status=Suggestion.Status.PENDING
    ).exclude(pk=suggestion.pk).update(status=Suggestion.Status.SUPERSEDED, updated_at=timezone.now())
    emit_event(
        "assist.suggestion_created",
        tenant=entry.tenant,
        actor=suggestion.created_by,
        suggestion=suggestion.pk,
        entry_id=entry.pk,
        provider=suggestion.provider,
        fields=[item["name"] for item in fields],
        flagged=suggestion.flagged_count,
    )
    return suggestion


def _field_value(name: str, text: str):
    if name not in NUMBER_FIELDS:
        return text.strip()
    text = text.strip().replace(",", "")
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise ValidationFailed(f"{FIELD_LABELS[name]} must be a number, like 12 or 3.5.", field=name) from exc


def _quoted(flags: list[dict]) -> str:
    return ", ".join(f"“{flag['text']}”" for flag in flags)


def _lock_pending(suggestion: Suggestion) -> Suggestion:
    locked = Suggestion.objects.select_for_update().get(pk=suggestion.pk)
    if locked.status != Suggestion.Status.PENDING:
        raise Conflict(
            f"This suggestion was already decided ({locked.get_status_display().lower()}); nothing changed.",
            extra={"status": locked.status},
        )
    return locked


def _decide(suggestion: Suggestion, *, actor, status: str) -> None:
    suggestion.status = status
    suggestion.decided_by = actor if getattr(actor, "is_authenticated", False) else None
    suggestion.decided_at = timezone.now()
    suggestion.save(
        update_fields=["fields", "accepted_skills", "status", "decided_by", "decided_at", "updated_at"]
    )


@transaction.atomic
def suggestion_accept(
    *,
    suggestion: Suggestion,
    actor,
    fields: list[str] | None = None,
    edits: dict[str, str] | None = None,
    confirm_flagged: list[str] | tuple = (),
    skills: list[str] | None = None,
) -> Suggestion:
    """Apply the chosen fields (all unflagged ones by default, plus any edited) and skills to the entry.

    A flagged field is applied only when its text was edited so that nothing new is left (the edit is
    checked again) or its name is in `confirm_flagged`. A field the entry changed since the suggestion was
    made is refused, so a newer edit is never overwritten. The rest of the suggestion counts as rejected.
    """
    suggestion = _lock_pending(suggestion)
    edits = {name: str(text) for name, text in (edits or {}).items()}
    by_name = {item["name"]: item for item in suggestion.fields}
    unknown = sorted((set(fields or []) | set(edits) | set(confirm_flagged)) - set(by_name))
    if unknown:
        raise ValidationFailed(
            f"This suggestion has no {', '.join(unknown)}; it proposes {', '.join(by_name) or 'no fields'}.",
            extra={"unknown": unknown, "fields": list(by_name)},
        )
    if fields is None:
        fields = [
            name
            for name, item in by_name.items()
            if not item["flags"] or name in edits or name in confirm_flagged
        ]
    chosen = [name for name in by_name if name in set(fields)]
    if skills is None:
        skills = list(suggestion.skills)
    unknown_skills = [name for name in skills if name not in suggestion.skills]
    if unknown_skills:
        raise ValidationFailed(
            f"This suggestion did not propose {', '.join(unknown_skills)}.",
            field="skills",
            extra={"unknown": unknown_skills},
        )
    entry = entry_get(tenant=suggestion.tenant, pk=suggestion.entry_id)
    changes = {}
    for name in chosen:
        item = by_name[name]
        text = edits.get(name, item["proposed"])
        flags = claim_flags(text, suggestion.source_texts) if name in edits else item["flags"]
        if flags and name not in confirm_flagged:
            raise ValidationFailed(
                f"{item['label']} has {_quoted(flags)}, not in your entry. Edit it, or confirm it is true, "
                "to accept it.",
                field=name,
                extra={"field": name, "flags": flags},
            )
        if _norm(value_text(getattr(entry, name))) != _norm(item["original"]):
            raise Conflict(
                f"{item['label']} changed after this suggestion was made, so it was not applied. Improve the "
                "entry again for a fresh suggestion.",
                field=name,
                extra={"field": name},
            )
        changes[name] = _field_value(name, text)
    for name, item in by_name.items():
        if name in changes:
            item["decision"] = "edited" if name in edits and edits[name] != item["proposed"] else "accepted"
            item["applied"] = value_text(changes[name])
        else:
            item["decision"] = "rejected"
    if changes or skills:
        names = [skill.name for skill in entry.skills.all()]
        worklog_services.entry_update(
            entry=entry,
            actor=actor,
            **changes,
            **({"skills": [*names, *skills]} if skills else {}),
            source=ChangeSource(kind="suggestion", suggestion_id=suggestion.pk),
        )
    suggestion.accepted_skills = list(skills)
    everything = len(changes) == len(by_name) and len(skills) == len(suggestion.skills)
    if not changes and not skills:
        status = Suggestion.Status.REJECTED
    else:
        status = Suggestion.Status.ACCEPTED if everything else Suggestion.Status.PARTIAL
    _decide(suggestion, actor=actor, status=status)
    emit_event(
        "assist.suggestion_decided",
        tenant=suggestion.tenant,
        actor=actor,
        suggestion=suggestion.pk,
        entry_id=suggestion.entry_id,
        status=status,
        fields=sorted(changes),
        skills=len(skills),
        confirmed=sorted(set(confirm_flagged) & set(changes)),
    )
    return suggestion


@transaction.atomic
def suggestion_reject(*, suggestion: Suggestion, actor) -> Suggestion:
    """Turn the whole suggestion down; the entry stays exactly as it is."""
    suggestion = _lock_pending(suggestion)
    for item in suggestion.fields:
        item["decision"] = "rejected"
    suggestion.accepted_skills = []
    _decide(suggestion, actor=actor, status=Suggestion.Status.REJECTED)
    emit_event(
        "assist.suggestion_decided",
        tenant=suggestion.tenant,
        actor=actor,
        suggestion=suggestion.pk,
        entry_id=suggestion.entry_id,
        status=suggestion.status,
        fields=[],
        skills=0,
    )
    return suggestion
