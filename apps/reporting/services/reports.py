"""Writes for reports: create (with the estimate and the money check), generate, save versions, edit,
arrange, fix a claim, restore, regenerate a section, share and revoke, export, delete.

Every write is keyword-only and atomic; errors are ApplicationErrors a person can act on. Version numbers
are taken under the report's row lock, so two saves never get the same number.
"""

import copy
import logging
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.billing import selectors as billing_selectors
from apps.billing import services as billing
from apps.billing.errors import InsufficientFunds
from apps.core.errors import NotFound, ValidationFailed
from apps.core.events import emit_event
from apps.core.jobs import job_enqueue
from apps.core.money import format_micros
from apps.llm.gateway import llm_provider_info
from apps.reporting import citations, kinds, render
from apps.reporting.generate import Inputs, estimate, plan, uses_model
from apps.reporting.models import Report, ReportVersion
from apps.reporting.requirements import requirements_parse
from apps.worklog import selectors as worklog_selectors
from apps.worklog.skills import skill_normalise

logger = logging.getLogger("afterresume.reporting")

NAMES_MAX = 50
JOB_DESCRIPTION_MAX = 20_000
TITLE_MAX = 200
SECTION_TITLE_MAX = 120
ROLE_MAX = 120


# ------------------------------------------------------------------------------ inputs


def _date(value, field: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValidationFailed(f"“{value}” is not a date; use YYYY-MM-DD.", field=field) from exc


def _names(value, field: str) -> list[str]:
    if value in (None, ""):
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    names = list(dict.fromkeys(" ".join(str(item).split()) for item in items if str(item).strip()))
    if len(names) > NAMES_MAX:
        raise ValidationFailed(f"Choose at most {NAMES_MAX} {field}.", field=field)
    return names


def _check_known(names: list[str], known: list[str], *, field: str, what: str, key=str.casefold) -> None:
    known_keys = {key(name) for name in known}
    unknown = [name for name in names if key(name) not in known_keys]
    if unknown:
        listed = ", ".join(f"“{name}”" for name in unknown[:5])
        raise ValidationFailed(f"Your log has no {what} {listed}. Pick from the list.", field=field)


def report_inputs_clean(
    *,
    tenant,
    kind: str,
    since=None,
    until=None,
    employers=(),
    projects=(),
    skills=(),
    tags=(),
    audience: str = "private",
    job_description: str = "",
    variant: str = "",
    sections: list[dict] | None = None,
    roles: dict | None = None,
    send_confidential: bool = False,
) -> Inputs:
    """The report's inputs checked: a known kind and audience, dates in order, names that exist."""
    if kind not in kinds.KINDS:
        raise ValidationFailed(f"Choose a kind of report: {', '.join(kinds.KINDS)}.", field="kind")
    if audience not in kinds.AUDIENCES:
        raise ValidationFailed("The audience is private or shareable.", field="audience")
    since, until = _date(since, "since"), _date(until, "until")
    if since and until and since > until:
        raise ValidationFailed("The start date is after the end date; swap them.", field="since")
    employers, projects = _names(employers, "employers"), _names(projects, "projects")
    skills, tags = _names(skills, "skills"), [name.lstrip("#") for name in _names(tags, "tags")]
    known = worklog_selectors.reference_names(tenant=tenant)
    _check_known(employers, known["employer_names"], field="employers", what="employer")
    _check_known(projects, known["project_names"], field="projects", what="project")
    _check_known(
        skills, known["skill_names"], field="skills", what="skill", key=lambda n: skill_normalise(n)[1]
    )
    _check_known(tags, known["tag_names"], field="tags", what="tag", key=lambda n: n.strip().lower())
    job_description = (job_description or "").strip()
    if kind == "tailored_resume":
        if not job_description:
            raise ValidationFailed(
                "Paste the job description to tailor the resume to.", field="job_description"
            )
        if len(job_description) > JOB_DESCRIPTION_MAX:
            raise ValidationFailed(
                f"Keep the job description to {JOB_DESCRIPTION_MAX:,} characters.", field="job_description"
            )
        if not requirements_parse(job_description)[0]:
            raise ValidationFailed(
                "We found no requirements in that job description; paste its list of requirements.",
                field="job_description",
            )
    else:
        job_description = ""
    if kind == "summary":
        if variant and variant not in kinds.SUMMARY_VARIANTS:
            raise ValidationFailed(f"A summary is {', '.join(kinds.SUMMARY_VARIANTS)}.", field="variant")
        variant = kinds.summary_variant_for(variant, since, until)
    else:
        variant = ""
    options: dict = {}
    if kinds.default_sections(kind, variant):
        options["sections"] = kinds.section_arrangement(kind, variant, sections)
        if not any(item["enabled"] for item in options["sections"]):
            raise ValidationFailed("Keep at least one section switched on.", field="sections")
    if kind in ("resume_bullets", "tailored_resume") and roles:
        options["roles"] = {
            " ".join(str(employer).split()): " ".join(str(role).split())[:ROLE_MAX]
            for employer, role in roles.items()
            if str(role).strip()
        }
    if send_confidential and audience == "private":
        options["send_confidential"] = True
    filters = {
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "employers": employers,
        "projects": projects,
        "skills": skills,
        "tags": tags,
    }
    return Inputs(
        tenant=tenant,
        kind=kind,
        variant=variant,
        audience=audience,
        filters=filters,
        job_description=job_description,
        options=options,
    )


def inputs_for(report: Report) -> Inputs:
    return Inputs(
        tenant=report.tenant,
        kind=report.kind,
        variant=report.variant,
        audience=report.audience,
        filters=report.filters,
        job_description=report.job_description,
        options=report.options,
    )


# ---------------------------------------------------------------------------- estimate


@dataclass(frozen=True)
class Estimate:
    entry_count: int
    estimate_micros: int
    uses_model: bool
    provider: str
    model: str
    map_reduce: bool
    request_count: int
    confidential_left_out: int
    confidential_held_back: int
    available_micros: int
    affordable: bool
    currency: str = "usd"


def report_estimate(*, inputs: Inputs) -> Estimate:
    """How many entries the report will use and the most writing it can cost, before anything is spent."""
    the_plan = plan(inputs)
    micros = estimate(inputs, the_plan)
    account = billing_selectors.reserve_account_for(tenant=inputs.tenant)
    left_out = 0
    if inputs.shareable:
        left_out = worklog_selectors.entry_report_count(
            tenant=inputs.tenant,
            since=inputs.since(),
            until=inputs.until(),
            employers=inputs.filters["employers"],
            projects=inputs.filters["projects"],
            skills=inputs.filters["skills"],
            tags=inputs.filters["tags"],
            confidential=True,
        )
    info = llm_provider_info()
    model = uses_model()
    return Estimate(
        entry_count=the_plan.entry_count,
        estimate_micros=micros,
        uses_model=model,
        provider=info["name"],
        model=info["model"],
        map_reduce=model and not the_plan.single,
        request_count=(1 if the_plan.single else the_plan.chunk_count + 1)
        if model and the_plan.entry_count
        else 0,
        confidential_left_out=left_out,
        confidential_held_back=the_plan.confidential_held_back,
        available_micros=account.available_micros,
        affordable=billing_selectors.reserve_policy_allows(account=account, amount_micros=micros),
        currency=account.currency,
    )


def refuse_unaffordable(est: Estimate) -> None:
    if not est.affordable:
        raise InsufficientFunds(
            f"Writing this report may cost up to {format_micros(est.estimate_micros, est.currency)}, and "
            f"{format_micros(est.available_micros, est.currency)} is available. Top up to write it, or "
            "narrow the filters.",
            extra={
                "needed_micros": est.estimate_micros,
                "available_micros": est.available_micros,
                "topup_url": reverse("billing_home"),
            },
        )


# ------------------------------------------------------------------------------ create


def default_title(inputs: Inputs) -> str:
    label = kinds.report_label(inputs.kind, inputs.variant)
    return f"{label}, {render.period_words(inputs.since(), inputs.until())}"[:TITLE_MAX]


def report_url(report: Report) -> str:
    return reverse("reporting_detail", args=[report.pk])


@billing.refusals_recorded  # a refusal rolls this back; it is recorded after
@transaction.atomic
def report_create(*, tenant, user, title: str = "", **fields) -> Report:
    """Check the inputs, estimate the cost, refuse what the reserve cannot cover, then queue the writing."""
    inputs = report_inputs_clean(tenant=tenant, **fields)
    est = report_estimate(inputs=inputs)
    if est.entry_count == 0:
        raise ValidationFailed(
            "No entries match these filters"
            + (
                " (confidential entries are left out of shareable reports)"
                if est.confidential_left_out
                else ""
            )
            + ". Widen the dates or remove a filter.",
            field="since",
        )
    refuse_unaffordable(est)
    report = Report.objects.create(
        tenant=tenant,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        kind=inputs.kind,
        variant=inputs.variant,
        title=" ".join((title or "").split())[:TITLE_MAX] or default_title(inputs),
        audience=inputs.audience,
        filters=inputs.filters,
        job_description=inputs.job_description,
        options=inputs.options,
        estimate_micros=est.estimate_micros,
    )
    report.job = job_enqueue(
        kind="report.generate",
        tenant=tenant,
        user=user,
        func_path="apps.reporting.tasks.report_generate_task",
        label=f"Writing “{report.title}”",
        next_url=report_url(report),
        estimate_micros=est.estimate_micros,
        report_id=report.pk,
    )
    report.save(update_fields=["job", "updated_at"])
    emit_event(
        "report.created",
        tenant=tenant,
        actor=user,
        report=report.pk,
        report_kind=report.kind,
        entries=est.entry_count,
    )
    return report


# ---------------------------------------------------------------------------- versions


def current_sections(report: Report) -> list[dict]:
    version = ReportVersion.objects.filter(report=report, number=report.version).first()
    return copy.deepcopy(version.sections) if version else []


def _appendix(report: Report) -> list[tuple[str, list[str]]]:
    if report.kind != "tailored_resume" or not report.requirements:
        return []
    matched = [
        f"{item['text']} — {', '.join(f'E{pk}' for pk in item['entry_ids'])}"
        for item in report.requirements
        if item["entry_ids"]
    ]
    missing = [item["text"] for item in report.requirements if not item["entry_ids"]]
    return [
        ("Requirements and the entries that show them", matched),
        ("Requirements without evidence in the log", missing),
    ]


def markdown_for(report: Report, sections: list[dict]) -> str:
    return render.report_markdown(
        title=report.title,
        subtitle=render.subtitle_for(report),
        sections=sections,
        link=render.entry_url,
        appendix=_appendix(report),
    )


@transaction.atomic
def report_version_save(*, report: Report, sections: list[dict], note: str, user=None) -> ReportVersion:
    """Check every bullet (citations and claims) and save the sections as the report's next version."""
    locked = Report.objects.select_for_update().get(pk=report.pk)
    checked = citations.bullets_check(sections, tenant=locked.tenant, allowed=set(locked.selected_entry_ids))
    number = locked.version + 1
    version = ReportVersion.objects.create(
        tenant=locked.tenant,
        report=locked,
        number=number,
        sections=checked,
        markdown=markdown_for(locked, checked),
        note=note[:200],
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    Report.objects.filter(pk=locked.pk).update(
        version=number, status=Report.Status.READY, error="", updated_at=timezone.now()
    )
    report.version, report.status, report.error = number, Report.Status.READY, ""
    emit_event(
        "report.version_saved", tenant=locked.tenant, actor=user, report=locked.pk, version=number, note=note
    )
    return version


def ready_check(report: Report) -> None:
    if report.is_busy:
        raise ValidationFailed("The report is still being written; wait for it to finish.")
    if report.version == 0:
        raise ValidationFailed("This report has no saved content; write it again.")


def section_find(sections: list[dict], key: str) -> dict:
    for section in sections:
        if section["key"] == key:
            return section
    raise NotFound("That section is not in the report any more; reload the page.")


def report_section_update(
    *, report: Report, key: str, markdown: str, title: str = "", user=None
) -> ReportVersion:
    """Save the person's edit of one section (Markdown bullets with [E12] citations) as a new version."""
    ready_check(report)
    sections = current_sections(report)
    section = section_find(sections, key)
    title = " ".join((title or "").split())
    if len(title) > SECTION_TITLE_MAX:
        raise ValidationFailed(f"Keep section titles to {SECTION_TITLE_MAX} characters.", field="title")
    section["title"] = title or section["title"]
    section["bullets"] = citations.bullets_from_markdown(markdown)
    return report_version_save(
        report=report, sections=sections, note=f"Edited “{section['title']}”", user=user
    )


def report_sections_arrange(
    *, report: Report, order: list[str], titles: dict, enabled: set[str], user=None
) -> ReportVersion:
    """Reorder, rename and switch sections on or off; saved as a new version."""
    ready_check(report)
    sections = current_sections(report)
    by_key = {section["key"]: section for section in sections}
    ordered = [by_key.pop(key) for key in dict.fromkeys(order) if key in by_key] + list(by_key.values())
    for section in ordered:
        title = " ".join(str(titles.get(section["key"], "")).split())
        if len(title) > SECTION_TITLE_MAX:
            raise ValidationFailed(f"Keep section titles to {SECTION_TITLE_MAX} characters.", field="title")
        section["title"] = title or section["title"]
        section["enabled"] = section["key"] in enabled
    if not any(section["enabled"] for section in ordered):
        raise ValidationFailed("Keep at least one section switched on.", field="enabled")
    return report_version_save(report=report, sections=ordered, note="Arranged the sections", user=user)


def report_claim_remove(*, report: Report, key: str, index: int, claim: str, user=None) -> ReportVersion:
    """The one-click fix: take a flagged claim out of its bullet."""
    ready_check(report)
    sections = current_sections(report)
    section = section_find(sections, key)
    if not 0 <= index < len(section["bullets"]):
        raise NotFound("That bullet is not in the section any more; reload the page.")
    item = section["bullets"][index]
    flagged = {
        flag["text"] for flag in item.get("flags", []) if flag["reason"] == citations.REASON_NOT_IN_SOURCES
    }
    if claim not in flagged:
        raise ValidationFailed("That claim is no longer flagged; reload the page.")
    item["text"] = citations.claim_remove(item["text"], claim)
    return report_version_save(report=report, sections=sections, note=f"Removed “{claim}”", user=user)


def report_version_restore(*, report: Report, number: int, user=None) -> ReportVersion:
    ready_check(report)
    old = ReportVersion.objects.filter(report=report, number=number).first()
    if old is None:
        raise NotFound("That version does not exist.")
    if number == report.version:
        raise ValidationFailed(f"Version {number} is already the current one.")
    return report_version_save(
        report=report, sections=copy.deepcopy(old.sections), note=f"Restored version {number}", user=user
    )


@transaction.atomic
def report_rename(*, report: Report, title: str, user=None) -> Report:
    title = " ".join((title or "").split())
    if not title:
        raise ValidationFailed("Give the report a title.", field="title")
    if len(title) > TITLE_MAX:
        raise ValidationFailed(f"Keep the title to {TITLE_MAX} characters.", field="title")
    report.title = title
    report.save(update_fields=["title", "updated_at"])
    if report.version:
        sections = current_sections(report)
        report_version_save(report=report, sections=sections, note="Renamed the report", user=user)
    return report


@transaction.atomic
def report_delete(*, report: Report, user=None) -> None:
    emit_event("report.deleted", tenant=report.tenant, actor=user, report=report.pk)
    report.delete()
