"""Shapes of the reports API (see DESIGN.md). Optional fields beyond the contract are marked as such."""

from ninja import Field, Schema

from apps.core.apicontract import IsoDate


class SectionChoice(Schema):
    key: str
    title: str = ""
    enabled: bool = True


class ReportIn(Schema):
    kind: str = Field(
        ..., description="self_review, brag_document, resume_bullets, summary or tailored_resume"
    )
    since: IsoDate | None = Field(None, description="Entries on or after this date.")
    until: IsoDate | None = Field(None, description="Entries on or before this date.")
    employers: list[str] = Field(default_factory=list, description="Any of these employers (names).")
    projects: list[str] = Field(default_factory=list)
    skills: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    audience: str = Field(
        "private", description="private (everything) or shareable (no confidential entries)"
    )
    job_description: str = Field("", description="Required for tailored_resume.")
    # Optional, beyond the contract:
    title: str = Field("", max_length=200)
    variant: str = Field("", description="Summaries: weekly, monthly, quarterly or manager_update.")
    sections: list[SectionChoice] | None = Field(
        None, description="Self-review and brag document: order, titles, on/off."
    )
    roles: dict[str, str] | None = Field(None, description="Resumes: your role at each employer.")
    send_confidential: bool = Field(
        False, description="Private reports: send confidential entries to the AI model."
    )


class ReportCreatedOut(Schema):
    id: int
    job_id: int
    estimate_micros: int


class FlagOut(Schema):
    text: str
    reason: str


class BulletOut(Schema):
    text: str
    citations: list[int]
    flags: list[FlagOut]


class SectionOut(Schema):
    title: str
    bullets: list[BulletOut]


class ReportOut(Schema):
    id: int
    kind: str
    status: str
    audience: str
    version: int
    cost_micros: int
    markdown: str
    sections: list[SectionOut]
    unused_entry_ids: list[int]


class ShareIn(Schema):
    expires_in_days: int | None = Field(None, description="Optional: the link ends after this many days.")


class ShareOut(Schema):
    url: str
