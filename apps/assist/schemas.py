"""API shapes of entry enhancement (the outside contract in DESIGN.md: keep names and types as they are)."""

from ninja import Field, Schema


class ImproveOut(Schema):
    job_id: int
    estimate_micros: int


class FlagOut(Schema):
    text: str
    reason: str


class SuggestionFieldOut(Schema):
    name: str
    original: str
    proposed: str
    flags: list[FlagOut]


class SuggestionOut(Schema):
    id: int
    entry_id: int
    fields: list[SuggestionFieldOut]
    skills: list[str]
    status: str
    provider: str
    model: str
    drafted_without_ai: bool
    cost_micros: int
    accepted_skills: list[str]


class AcceptIn(Schema):
    fields: list[str] | None = Field(
        None, description="Names of the fields to apply; default: every field without flags (and any edited)."
    )
    edits: dict[str, str] = Field(
        default_factory=dict, description="Your own text for a field, checked again."
    )
    confirm_flagged: list[str] = Field(
        default_factory=list, description="Flagged fields you confirm are true, applied as proposed."
    )
    skills: list[str] | None = Field(None, description="Proposed skills to add; default: all of them.")
