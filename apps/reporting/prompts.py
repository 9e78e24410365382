"""What the model is asked, and the JSON shape it must answer in."""

from apps.reporting import kinds

SECTIONS_SCHEMA = {
    "type": "object",
    "required": ["sections"],
    "properties": {
        "sections": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["title", "bullets"],
                "properties": {
                    "title": {"type": "string"},
                    "bullets": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["text", "citations"],
                            "properties": {
                                "text": {"type": "string"},
                                "citations": {"type": "array", "items": {"type": "integer"}},
                            },
                        },
                    },
                },
            },
        }
    },
}

SYSTEM = (
    "You write a {label} for one person from their own work log. Use only what the entries say. Never "
    "invent numbers, percentages, money amounts, dates, names or results: if an entry gives no result, do "
    "not give it one, and copy numbers exactly as written. Start each bullet with a strong verb in the past "
    'tense (no "I"), and end it with the result when the entry gives one. Every bullet cites the entries it '
    'rests on: put their numbers (the digits after E in [E123]) in "citations". Answer with JSON only, in '
    'this shape: {{"sections": [{{"title": "...", "bullets": [{{"text": "...", "citations": [123]}}]}}]}}.'
)
SHAREABLE_NOTE = " The result will be shared outside the person's company: keep it free of internal secrets."


def system_prompt(*, kind: str, variant: str, shareable: bool) -> str:
    label = kinds.report_label(kind, variant).lower()
    return SYSTEM.format(label=label) + (SHAREABLE_NOTE if shareable else "")


def section_instructions(*, kind: str, variant: str, sections: list[dict], roles: dict) -> str:
    if sections:
        guidance = {spec.key: spec.guidance for spec in kinds.default_sections(kind, variant)}
        lines = ["Write these sections, in this order, with these titles:"]
        lines += [f'- "{item["title"]}": {guidance.get(item["key"], "")}'.rstrip(": ") for item in sections]
        return "\n".join(lines)
    if kind in ("resume_bullets", "tailored_resume"):
        text = (
            'Write one section per employer, most recent first, titled "Employer — role" (or just the '
            "employer when no role is given), with at most six bullets each."
        )
        if roles:
            text += " Roles: " + "; ".join(f"{employer}: {role}" for employer, role in roles.items()) + "."
        return text
    period = {"weekly": "week", "monthly": "month"}.get(
        kinds.summary_variant_for(variant, None, None), "quarter"
    )
    return (
        f'Write a section "Highlights" with the two or three most important things, then one section per '
        f"{period} in date order, with at most five bullets each."
    )


def write_prompt(*, instructions: str, lines: list[str], extra: str = "") -> str:
    head = f"{instructions}\n{extra}\n" if extra else f"{instructions}\n"
    return f"{head}\nEntries ({len(lines)}):\n" + "\n".join(lines)


def map_prompt(*, group: str, lines: list[str], kind: str, variant: str, limit: int) -> str:
    label = kinds.report_label(kind, variant).lower()
    return (
        f"These are {len(lines)} entries from {group}. Draft at most {limit} bullets for a {label} from "
        f'them, each citing its entries, in one section titled "{group}". Keep the most important work and '
        f"every measured result.\n\nEntries ({len(lines)}):\n" + "\n".join(lines)
    )


def reduce_prompt(*, instructions: str, drafts: list[str], final: bool) -> str:
    goal = (
        instructions if final else 'Combine them into fewer, stronger bullets in one section titled "Drafts".'
    )
    return (
        "Below are draft bullets, each followed by the entries it cites. "
        f"{goal}\nKeep every bullet's citations (merge them when you merge bullets), keep numbers exactly as "
        "written, and drop repetition.\n\nDrafts:\n" + "\n".join(drafts)
    )


def draft_line(item: dict) -> str:
    ids = ", ".join(f"E{pk}" for pk in item["citations"])
    return f"- {item['text']} [{ids}]"
