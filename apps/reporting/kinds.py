"""What each kind of report is: its name, its sections and how a summary's period is chosen.

The API's kinds are fixed (`self_review`, `brag_document`, `resume_bullets`, `summary`, `tailored_resume`);
a manager update is a summary with the variant `manager_update` and its own sections. Resume bullets and
tailored resumes have one section per employer (and the role the person gives for it), made as they are
written, so their section list here is empty.
"""

from dataclasses import dataclass
from datetime import date

KINDS = ("self_review", "brag_document", "resume_bullets", "summary", "tailored_resume")
AUDIENCES = ("private", "shareable")
SUMMARY_VARIANTS = ("weekly", "monthly", "quarterly", "manager_update")

KIND_LABELS = {
    "self_review": "Self-review",
    "brag_document": "Brag document",
    "resume_bullets": "Resume bullets",
    "summary": "Summary",
    "tailored_resume": "Tailored resume",
}
VARIANT_LABELS = {
    "weekly": "Weekly summary",
    "monthly": "Monthly summary",
    "quarterly": "Quarterly summary",
    "manager_update": "Manager update",
}
KIND_DESCRIPTIONS = {
    "self_review": "For review season: what you did, its impact, how you worked with others, where you grew.",
    "brag_document": "The running record of your wins: projects, collaboration, design, company building.",
    "resume_bullets": "Action-first bullets with their results, grouped by employer and role.",
    "summary": "A weekly, monthly or quarterly summary, or an update for your manager.",
    "tailored_resume": "Paste a job description: its requirements mapped to your entries, and the gaps.",
}


@dataclass(frozen=True)
class SectionSpec:
    key: str
    title: str
    guidance: str  # what the model is asked to put there


SELF_REVIEW_SECTIONS = (
    SectionSpec("summary", "Summary", "Two or three sentences on the period: where the work went."),
    SectionSpec("key_accomplishments", "Key accomplishments", "The most important things delivered."),
    SectionSpec("impact_and_results", "Impact and results", "Measurable results: numbers, before and after."),
    SectionSpec(
        "collaboration_and_mentoring",
        "Collaboration and mentoring",
        "Helping, reviewing, pairing, mentoring.",
    ),
    SectionSpec(
        "skills_and_growth", "Skills and growth", "Skills used and learned, with the work that shows it."
    ),
    SectionSpec("next_goals", "Next goals", "What is still in flight and what comes next."),
)
BRAG_SECTIONS = (
    SectionSpec("projects", "Projects", "Work delivered, grouped by project, with its results."),
    SectionSpec(
        "collaboration_and_mentoring",
        "Collaboration and mentoring",
        "Helping, reviewing, pairing, mentoring.",
    ),
    SectionSpec(
        "design_and_documentation", "Design and documentation", "Designs, RFCs, docs, specs written."
    ),
    SectionSpec("company_building", "Company building", "Hiring, interviews, process, talks, community."),
    SectionSpec("what_i_learned", "What I learned", "Courses, new tools, lessons."),
)
MANAGER_UPDATE_SECTIONS = (
    SectionSpec("highlights", "Highlights", "The two or three things your manager should know first."),
    SectionSpec("shipped", "Shipped", "Finished work and its results."),
    SectionSpec(
        "in_progress", "In progress", "Work whose result is still pending, with when it is expected."
    ),
    SectionSpec("help_and_collaboration", "Help and collaboration", "Who you worked with or helped."),
)
SUMMARY_HIGHLIGHTS = SectionSpec("highlights", "Highlights", "The most important things of the period.")


def default_sections(kind: str, variant: str = "") -> tuple[SectionSpec, ...]:
    if kind == "self_review":
        return SELF_REVIEW_SECTIONS
    if kind == "brag_document":
        return BRAG_SECTIONS
    if kind == "summary" and variant == "manager_update":
        return MANAGER_UPDATE_SECTIONS
    return ()


def summary_variant_for(variant: str, since: date | None, until: date | None) -> str:
    """The summary's period: as asked, else by the length of the date range."""
    if variant in SUMMARY_VARIANTS:
        return variant
    if since and until:
        days = (until - since).days
        if days <= 14:
            return "weekly"
        if days <= 120:
            return "monthly"
    return "quarterly"


def report_label(kind: str, variant: str = "") -> str:
    if kind == "summary" and variant in VARIANT_LABELS:
        return VARIANT_LABELS[variant]
    return KIND_LABELS.get(kind, kind)


def section_arrangement(kind: str, variant: str, asked: list[dict] | None) -> list[dict]:
    """The sections the person chose: [{"key", "title", "enabled"}] in their order. Unknown keys are ignored,
    sections left out keep their default place at the end, and a blank title falls back to the default."""
    specs = {spec.key: spec for spec in default_sections(kind, variant)}
    arranged: list[dict] = []
    seen: set[str] = set()
    for item in asked or []:
        key = str(item.get("key", ""))
        if key not in specs or key in seen:
            continue
        seen.add(key)
        title = " ".join(str(item.get("title") or "").split())[:120] or specs[key].title
        arranged.append({"key": key, "title": title, "enabled": bool(item.get("enabled", True))})
    for key, spec in specs.items():
        if key not in seen:
            arranged.append({"key": key, "title": spec.title, "enabled": True})
    return arranged
