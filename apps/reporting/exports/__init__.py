"""Exports: Markdown, PDF, DOCX and JSON Resume, all built from `outside_view` — the report as it may
leave the workspace. For a shareable report that view has passed the confidentiality re-check
(citations.ShareFilter) at the moment of export; citations are plain markers and a "Sources" list says which
entry each one is.
"""

from dataclasses import dataclass, field

from apps.reporting import render
from apps.reporting.citations import ShareFilter, cited_ids
from apps.reporting.models import Report, ReportVersion
from apps.worklog import selectors as worklog_selectors

FORMATS = {
    "md": ("text/markdown; charset=utf-8", "md"),
    "pdf": ("application/pdf", "pdf"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "json-resume": ("application/json", "json"),
}
FORMAT_LABELS = {"md": "Markdown", "pdf": "PDF", "docx": "Word (DOCX)", "json-resume": "JSON Resume"}


@dataclass
class Outside:
    report: Report
    version: int
    title: str
    subtitle: str
    sections: list[dict]
    sources: dict[int, dict]
    appendix: list[tuple[str, list[str]]] = field(default_factory=list)
    withheld: int = 0


def _requirements_appendix(report: Report, allowed: set[int]) -> list[tuple[str, list[str]]]:
    if report.kind != "tailored_resume" or not report.requirements:
        return []
    matched, missing = [], []
    for item in report.requirements:
        ids = [pk for pk in item["entry_ids"] if pk in allowed]
        if ids:
            matched.append(f"{item['text']} — {', '.join(f'E{pk}' for pk in ids)}")
        else:
            missing.append(item["text"])
    return [
        ("Requirements and the entries that show them", matched),
        ("Requirements without evidence in the log", missing),
    ]


def outside_view(report: Report, version: ReportVersion | None = None) -> Outside:
    """The report's current (or given) version as it may leave the workspace."""
    version = version or ReportVersion.objects.get(report=report, number=report.version)
    sections = render.enabled_sections(version.sections)
    withheld = 0
    title = report.title
    if report.is_shareable:
        guard = ShareFilter(tenant=report.tenant, sections=sections)
        sections, withheld = guard.sections(sections)
        facts = guard.facts
        if guard.text_is_secret(title):
            title = report.get_kind_display()
    else:
        facts = worklog_selectors.entry_report_facts(tenant=report.tenant, ids=cited_ids(sections))
        sections = [
            {
                **s,
                "bullets": [
                    {**b, "citations": [pk for pk in b["citations"] if pk in facts]} for b in s["bullets"]
                ],
            }
            for s in sections
        ]
    used = cited_ids(sections)
    sources = {pk: facts[pk] for pk in sorted(used) if pk in facts}
    return Outside(
        report=report,
        version=version.number,
        title=title,
        subtitle=render.subtitle_for(report),
        sections=[section for section in sections if section["bullets"]],
        sources=sources,
        appendix=_requirements_appendix(report, set(sources)),
        withheld=withheld,
    )


def outside_markdown(view: Outside) -> str:
    return render.report_markdown(
        title=view.title,
        subtitle=view.subtitle,
        sections=view.sections,
        appendix=view.appendix,
        sources=view.sources,
    )


def export_build(view: Outside, fmt: str, *, person=None) -> bytes:
    """The file's bytes for one format."""
    if fmt == "md":
        return outside_markdown(view).encode("utf-8")
    if fmt == "pdf":
        from apps.reporting.exports.pdf import pdf_bytes

        return pdf_bytes(view)
    if fmt == "docx":
        from apps.reporting.exports.docx import docx_bytes

        return docx_bytes(view)
    if fmt == "json-resume":
        from apps.reporting.exports.jsonresume import json_resume_bytes

        return json_resume_bytes(view, person=person)
    raise ValueError(fmt)
