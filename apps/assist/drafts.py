"""What an enhancement reads and writes, whoever drafts it (the builtin enhancer or a model).

`EntrySnapshot` is the entry's own words, frozen when the work starts: the drafter reads it, and the
fabrication guard checks every proposal against it. A draft has one shape, `DRAFT_SCHEMA` (asked of an
external model as JSON, and produced by the builtin enhancer): title, body, impact, the measurable
result (value, unit, before, after) and skills. `draft_validate` turns a model's JSON into that shape or
says why not.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from apps.worklog import services as worklog_services
from apps.worklog.versions import value_text

TEXT_FIELDS = ("title", "body", "impact")
METRIC_FIELDS = ("metric_value", "metric_unit", "metric_before", "metric_after")
DRAFT_FIELDS = (*TEXT_FIELDS, *METRIC_FIELDS)
FIELD_LABELS = {
    "title": "Title",
    "body": "Details",
    "impact": "Impact",
    "metric_value": "Result",
    "metric_unit": "Unit",
    "metric_before": "Before",
    "metric_after": "After",
}
LIMITS = {"title": 200, "body": 20_000, "impact": 5_000, "metric_unit": 30}
METRIC_LIMIT = worklog_services.METRIC_LIMIT
MAX_SKILLS = 12

_NUMBER_OR_NULL = {"anyOf": [{"type": "number"}, {"type": "string"}, {"type": "null"}]}
DRAFT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "title",
        "body",
        "impact",
        "metric_value",
        "metric_unit",
        "metric_before",
        "metric_after",
        "skills",
    ],
    "properties": {
        "title": {"type": "string", "maxLength": LIMITS["title"]},
        "body": {"type": "string"},
        "impact": {"type": "string"},
        "metric_value": _NUMBER_OR_NULL,
        "metric_unit": {"type": "string", "maxLength": LIMITS["metric_unit"]},
        "metric_before": _NUMBER_OR_NULL,
        "metric_after": _NUMBER_OR_NULL,
        "skills": {"type": "array", "items": {"type": "string"}, "maxItems": MAX_SKILLS},
    },
}


class DraftInvalid(ValueError):
    """A drafter's answer is not a usable draft; the message says what is wrong (for a repair prompt)."""


@dataclass(frozen=True)
class EntrySnapshot:
    """An entry's own words and facts, as the drafter and the fabrication guard see them."""

    entry_id: int
    title: str
    body: str = ""
    impact: str = ""
    metric_value: Decimal | None = None
    metric_unit: str = ""
    metric_before: Decimal | None = None
    metric_after: Decimal | None = None
    employer: str = ""
    project: str = ""
    skills: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    occurred_on: date | None = None
    confidential: bool = False
    extra: dict = field(default_factory=dict)

    @classmethod
    def of(cls, entry) -> "EntrySnapshot":
        return cls(
            entry_id=entry.pk,
            title=entry.title,
            body=entry.body,
            impact=entry.impact,
            metric_value=entry.metric_value,
            metric_unit=entry.metric_unit,
            metric_before=entry.metric_before,
            metric_after=entry.metric_after,
            employer=entry.employer.name if entry.employer_id else "",
            project=entry.project.name if entry.project_id else "",
            skills=tuple(skill.name for skill in entry.skills.all()),
            tags=tuple(tag.name for tag in entry.tags.all()),
            occurred_on=entry.occurred_on,
            confidential=entry.confidential,
        )

    def value(self, name: str) -> str:
        """A draft field's current text: "" for an empty metric, 12 for Decimal("12.0000")."""
        return value_text(getattr(self, name))

    def source_texts(self) -> list[str]:
        """Everything the entry says, for the fabrication guard: its text, metrics, names and date."""
        texts = [self.title, self.body, self.impact, self.employer, self.project, *self.skills, *self.tags]
        texts += [self.value(name) for name in METRIC_FIELDS]
        if self.occurred_on is not None:
            day = self.occurred_on
            texts.append(f"{day.isoformat()} {day:%B} {day.day}, {day.year}")
        return [text for text in texts if text]


def _text(data: dict, name: str) -> str:
    value = data.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise DraftInvalid(f"`{name}` must be a string.")
    value = value.strip()
    limit = LIMITS.get(name)
    if limit and len(value) > limit:
        raise DraftInvalid(f"`{name}` is {len(value)} characters; keep it to {limit}.")
    return value


def _number(data: dict, name: str) -> Decimal | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise DraftInvalid(f"`{name}` must be a number or null.")
    try:
        number = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation as exc:
        raise DraftInvalid(f"`{name}` must be a number or null, not {value!r}.") from exc
    if not number.is_finite() or abs(number) >= METRIC_LIMIT:
        raise DraftInvalid(f"`{name}` is not a number we can keep.")
    return number.quantize(Decimal("0.0001"))


def draft_validate(data: Any) -> dict[str, Any]:
    """A drafter's JSON as a clean draft: strings trimmed, numbers as Decimals, skills as unique names."""
    if not isinstance(data, dict):
        raise DraftInvalid("The answer must be one JSON object.")
    title = _text(data, "title")
    if not title:
        raise DraftInvalid("`title` must not be empty.")
    skills = data.get("skills") or []
    if not isinstance(skills, list) or not all(isinstance(skill, str) for skill in skills):
        raise DraftInvalid("`skills` must be a list of strings.")
    unique: list[str] = []
    for skill in skills:
        name = " ".join(skill.split())[:80]
        if name and name.casefold() not in {known.casefold() for known in unique}:
            unique.append(name)
    return {
        "title": title,
        "body": _text(data, "body"),
        "impact": _text(data, "impact"),
        "metric_value": _number(data, "metric_value"),
        "metric_unit": _text(data, "metric_unit"),
        "metric_before": _number(data, "metric_before"),
        "metric_after": _number(data, "metric_after"),
        "skills": unique[:MAX_SKILLS],
    }


def draft_as_json(draft: dict[str, Any]) -> dict[str, Any]:
    """A clean draft as JSON-safe values (metric numbers as strings), for storing and the builtin's answer."""
    return {name: value_text(value) if name in METRIC_FIELDS else value for name, value in draft.items()}
