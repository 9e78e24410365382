"""Reads for reports, always scoped by tenant: lists, one report, its versions, what its page shows and the
API's shape of it."""

import difflib
from dataclasses import dataclass, field

from django.db.models import QuerySet

from apps.core.errors import NotFound
from apps.reporting import render
from apps.reporting.citations import REASON_NOT_IN_SOURCES, ShareFilter, cited_ids
from apps.reporting.models import Report, ReportShare, ReportVersion
from apps.worklog import selectors as worklog_selectors

UNUSED_SHOWN = 100


def report_list(*, tenant) -> QuerySet[Report]:
    return Report.objects.for_tenant(tenant).select_related("job").order_by("-created_at", "-id")


def report_get(*, tenant, pk: int) -> Report:
    report = (
        Report.objects.for_tenant(tenant).select_related("tenant", "created_by", "job").filter(pk=pk).first()
    )
    if report is None:
        raise NotFound("We couldn't find that report. It may have been deleted.")
    return report


def version_get(*, report: Report, number: int | None = None) -> ReportVersion | None:
    number = report.version if number is None else number
    return ReportVersion.objects.filter(report=report, number=number).select_related("created_by").first()


def version_list(*, report: Report) -> QuerySet[ReportVersion]:
    return ReportVersion.objects.filter(report=report).select_related("created_by").order_by("-number")


def version_diff(*, report: Report, old: int, new: int) -> list[dict]:
    """Line by line, what changed in the Markdown from version `old` to `new`: [{"kind", "text"}]."""
    versions = {v.number: v for v in ReportVersion.objects.filter(report=report, number__in=[old, new])}
    if old not in versions or new not in versions:
        raise NotFound("That version does not exist.")
    lines = []
    diff = difflib.unified_diff(
        versions[old].markdown.splitlines(), versions[new].markdown.splitlines(), lineterm="", n=2
    )
    for line in diff:
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            lines.append({"kind": "hunk", "text": line})
        elif line.startswith("+"):
            lines.append({"kind": "added", "text": line[1:]})
        elif line.startswith("-"):
            lines.append({"kind": "removed", "text": line[1:]})
        else:
            lines.append({"kind": "same", "text": line[1:]})
    return lines


def share_open(*, report: Report) -> ReportShare | None:
    return ReportShare.objects.filter(report=report, revoked_at__isnull=True).first()


def unused_entry_ids(*, report: Report, sections: list[dict]) -> list[int]:
    """The report's selected entries (still in the log) that no bullet cites, newest id first."""
    selected = set(report.selected_entry_ids)
    live = worklog_selectors.entry_report_live_ids(tenant=report.tenant, ids=selected)
    used = cited_ids(render.enabled_sections(sections))
    return sorted(live - used, reverse=True)


@dataclass
class ReportPage:
    report: Report
    version: ReportVersion | None
    sections: list[dict] = field(default_factory=list)
    facts: dict[int, dict] = field(default_factory=dict)
    unused_ids: list[int] = field(default_factory=list)
    unused_rows: list[dict] = field(default_factory=list)
    flag_count: int = 0
    claim_count: int = 0
    withheld: set[tuple[str, int]] = field(default_factory=set)
    share: ReportShare | None = None
    requirements: list[dict] = field(default_factory=list)

    @property
    def cited_count(self) -> int:
        return len(cited_ids(render.enabled_sections(self.sections)))


def report_page(*, report: Report) -> ReportPage:
    """Everything the report's page shows: sections with citation facts, flags, coverage, share state."""
    version = version_get(report=report)
    page = ReportPage(
        report=report, version=version, share=share_open(report=report) if report.is_shareable else None
    )
    if version is None:
        return page
    page.sections = version.sections
    page.facts = worklog_selectors.entry_report_facts(tenant=report.tenant, ids=cited_ids(version.sections))
    page.unused_ids = unused_entry_ids(report=report, sections=version.sections)
    unused_facts = worklog_selectors.entry_report_facts(
        tenant=report.tenant, ids=page.unused_ids[:UNUSED_SHOWN]
    )
    page.unused_rows = [unused_facts[pk] for pk in page.unused_ids[:UNUSED_SHOWN] if pk in unused_facts]
    for section in render.enabled_sections(version.sections):
        for item in section["bullets"]:
            if item.get("flags"):
                page.flag_count += 1
            page.claim_count += sum(
                1 for flag in item.get("flags", []) if flag["reason"] == REASON_NOT_IN_SOURCES
            )
    if report.is_shareable:
        guard = ShareFilter(tenant=report.tenant, sections=version.sections, facts=page.facts)
        for section in version.sections:
            for index, item in enumerate(section["bullets"]):
                if not guard.bullet_allowed(item):
                    page.withheld.add((section["key"], index))
    if report.kind == "tailored_resume":
        page.requirements = [
            {
                **item,
                "rows": [
                    page.facts.get(pk) or {"id": pk, "title": f"Entry {pk}"} for pk in item["entry_ids"]
                ],
            }
            for item in report.requirements
        ]
    return page


def report_api(*, report: Report) -> dict:
    """The report in the API's shape (see DESIGN.md): enabled sections, their bullets, flags, coverage."""
    version = version_get(report=report)
    sections = render.enabled_sections(version.sections) if version else []
    return {
        "id": report.pk,
        "kind": report.kind,
        "status": report.status,
        "audience": report.audience,
        "version": report.version,
        "cost_micros": report.cost_micros,
        "markdown": version.markdown if version else "",
        "sections": [
            {
                "title": section["title"],
                "bullets": [
                    {"text": item["text"], "citations": item["citations"], "flags": item.get("flags", [])}
                    for item in section["bullets"]
                ],
            }
            for section in sections
        ],
        "unused_entry_ids": unused_entry_ids(report=report, sections=version.sections) if version else [],
    }
