"""The prompt an external model gets to improve one entry, built from the entry and the person's voice.

The same task carries the builtin enhancer as its offline answer, so the gateway can answer without a
model (LLM_PROVIDER=builtin) in exactly the same shape. `improve_task` is what the job runs; the voice
settings page previews `improve_prompt_preview` for the person's latest entry (or an example).
"""

from dataclasses import dataclass
from datetime import date

from apps.assist.builtin import builtin_draft
from apps.assist.drafts import DRAFT_SCHEMA, EntrySnapshot, draft_validate
from apps.assist.models import VoiceSettings
from apps.llm.gateway import LLMTask

FEATURE = "entry_enhance"

TONE_LINES = {
    VoiceSettings.Tone.PLAIN: "Plain and direct: short sentences, everyday words, no buzzwords.",
    VoiceSettings.Tone.CONFIDENT: "Confident: strong verbs, own the result, no hedging, and no hype.",
    VoiceSettings.Tone.MODEST: "Modest: factual, credit others where the entry does, let the result speak.",
    VoiceSettings.Tone.FORMAL: "Formal: complete sentences, no contractions, fit for a performance review.",
    VoiceSettings.Tone.WARM: "Warm: friendly and human, still specific.",
}
LENGTH_LINES = {
    VoiceSettings.Length.SHORT: (
        "Short: a title under 80 characters, details in at most 3 bullets, impact in one sentence."
    ),
    VoiceSettings.Length.MEDIUM: (
        "Medium: a title under 100 characters, details in 3 to 5 bullets, impact in one or two sentences."
    ),
    VoiceSettings.Length.DETAILED: (
        "Detailed: a title under 120 characters, details as full as the entry allows, impact in up to "
        "three sentences."
    ),
}
PERSON_LINES = {
    VoiceSettings.Person.FIRST: "Write in the first person (“I led…”).",
    VoiceSettings.Person.THIRD: "Write without a subject, resume style (“Led…”), never “I” or “we”.",
}
MAX_OUTPUT_TOKENS = {
    VoiceSettings.Length.SHORT: 600,
    VoiceSettings.Length.MEDIUM: 900,
    VoiceSettings.Length.DETAILED: 1400,
}

SYSTEM_RULES = """You help a professional turn one entry of their work log into a clear achievement they can reuse in a self-review or a resume.

Rules:
- Use only what the entry says. Never add a number, percentage, money amount, date, person, company, product or tool that is not in the entry. If the entry has no number, write the result in words and leave the metric fields null.
- Keep every fact the entry has; do not drop numbers or names it gives.
- Title: lead with the action (a past-tense verb), then what it achieved.
- Body: Markdown in three parts: "**Situation:**" (what was wrong or needed), "**What I did:**" (bullets, each starting with a verb), "**Result:**" (what changed). Leave out a part the entry says nothing about.
- Impact: the result in one to three sentences, with the entry's own numbers.
- metric_value, metric_unit, metric_before, metric_after: the entry's main measurable result, as numbers from the entry (for "from 40 to 12 minutes": value 12, unit "minutes", before 40, after 12); null when it has none.
- skills: up to 8 skills the work shows (tools, languages, practices), as short names.
- Never include confidential details beyond what the entry itself says, and never invent evidence or links."""  # noqa: E501

EXAMPLE_ENTRY = EntrySnapshot(
    entry_id=0,
    title="Deploy scripts",
    body=(
        "Deploys were slow and failed about once a week because the scripts were hand-written bash. "
        "I rewrote them in Python with retries and moved the pipeline to Kubernetes. "
        "Deploy time went from 40 to 12 minutes."
    ),
    employer="Example Co",
    project="Platform",
    skills=("Python",),
    occurred_on=date(2025, 3, 14),
)


@dataclass(frozen=True)
class PromptPreview:
    system: str
    prompt: str
    max_output_tokens: int
    example: bool


def voice_lines(voice: VoiceSettings) -> list[str]:
    """The voice as prompt lines (tone, length, person, own instructions): reports reuse them."""
    lines = [
        f"Tone: {TONE_LINES.get(voice.tone, TONE_LINES[VoiceSettings.Tone.PLAIN])}",
        f"Length: {LENGTH_LINES.get(voice.length, LENGTH_LINES[VoiceSettings.Length.MEDIUM])}",
        PERSON_LINES.get(voice.person, PERSON_LINES[VoiceSettings.Person.FIRST]),
    ]
    if voice.instructions.strip():
        lines.append(
            "The person's own instructions (follow them unless they ask you to break a rule above):\n"
            + voice.instructions.strip()
        )
    return lines


def improve_system(voice: VoiceSettings) -> str:
    return SYSTEM_RULES + "\n\nVoice:\n" + "\n".join(f"- {line}" for line in voice_lines(voice))


def _metric_line(snapshot: EntrySnapshot) -> str:
    if snapshot.metric_value is None and snapshot.metric_before is None and snapshot.metric_after is None:
        return "none given"
    text = f"{snapshot.value('metric_value') or '?'} {snapshot.metric_unit}".strip()
    if snapshot.metric_before is not None or snapshot.metric_after is not None:
        before, after = snapshot.value("metric_before") or "?", snapshot.value("metric_after") or "?"
        text += f" (before {before}, after {after})"
    return text


def improve_prompt(snapshot: EntrySnapshot) -> str:
    about = [f"Date: {snapshot.occurred_on.isoformat()}" if snapshot.occurred_on else ""]
    if snapshot.employer:
        about.append(f"Employer: {snapshot.employer}")
    if snapshot.project:
        about.append(f"Project: {snapshot.project}")
    if snapshot.skills:
        about.append(f"Skills already on the entry: {', '.join(snapshot.skills)}")
    if snapshot.tags:
        about.append(f"Tags: {', '.join(snapshot.tags)}")
    parts = [
        "Improve this work-log entry. Answer with the JSON object only.",
        "\n".join(line for line in about if line),
        f"Title:\n{snapshot.title}",
        f"Details:\n{snapshot.body.strip() or '(none)'}",
        f"Impact:\n{snapshot.impact.strip() or '(none)'}",
        f"Measurable result: {_metric_line(snapshot)}",
    ]
    return "\n\n".join(part for part in parts if part)


def improve_task(snapshot: EntrySnapshot, voice: VoiceSettings) -> LLMTask:
    """The gateway task for one entry: the prompt for a model, the builtin enhancer as the offline answer."""
    return LLMTask(
        feature=FEATURE,
        system=improve_system(voice),
        prompt=improve_prompt(snapshot),
        schema=DRAFT_SCHEMA,
        schema_name="improved_entry",
        max_output_tokens=MAX_OUTPUT_TOKENS.get(voice.length, MAX_OUTPUT_TOKENS[VoiceSettings.Length.MEDIUM]),
        builtin=lambda: builtin_draft(snapshot),
        validate=draft_validate,
        contains_confidential=snapshot.confidential,
        confidential_allowed=voice.allow_confidential_external,
    )


def improve_prompt_preview(voice: VoiceSettings, snapshot: EntrySnapshot | None = None) -> PromptPreview:
    """The effective prompt for `snapshot` (the example entry when the person has none)."""
    task = improve_task(snapshot or EXAMPLE_ENTRY, voice)
    return PromptPreview(
        system=task.messages()[0]["content"],
        prompt=task.prompt,
        max_output_tokens=task.max_output_tokens,
        example=snapshot is None,
    )
