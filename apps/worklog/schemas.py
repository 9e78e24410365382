"""Shapes of the work-log API. Employers, projects, skills and tags travel as names."""

from datetime import date, datetime

from ninja import Field, Schema

from apps.worklog import services


class EntryOut(Schema):
    id: int
    occurred_on: date
    title: str
    body: str
    impact: str
    employer: str | None
    project: str | None
    skills: list[str]
    tags: list[str]
    confidential: bool
    outcome_pending: bool
    follow_up_on: date | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_employer(entry) -> str | None:
        return entry.employer.name if entry.employer_id else None

    @staticmethod
    def resolve_project(entry) -> str | None:
        return entry.project.name if entry.project_id else None

    @staticmethod
    def resolve_skills(entry) -> list[str]:
        return [skill.name for skill in entry.skills.all()]

    @staticmethod
    def resolve_tags(entry) -> list[str]:
        return [tag.name for tag in entry.tags.all()]


class EntryPageOut(Schema):
    items: list[EntryOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page; null at the end.")


class EntryIn(Schema):
    title: str = Field(..., max_length=services.TITLE_MAX)
    occurred_on: date | None = Field(None, description="Defaults to today in your time zone.")
    body: str = Field("", max_length=services.BODY_MAX, description="Markdown.")
    impact: str = Field("", max_length=services.IMPACT_MAX)
    employer: str | None = Field(None, max_length=services.NAME_MAX)
    project: str | None = Field(None, max_length=services.NAME_MAX)
    skills: list[str] = Field(default_factory=list, max_length=services.SKILLS_PER_ENTRY)
    tags: list[str] = Field(default_factory=list, max_length=services.TAGS_PER_ENTRY)
    confidential: bool = False
    outcome_pending: bool = False
    follow_up_on: date | None = None


class EntryPatch(Schema):
    title: str | None = Field(None, max_length=services.TITLE_MAX)
    occurred_on: date | None = None
    body: str | None = Field(None, max_length=services.BODY_MAX)
    impact: str | None = Field(None, max_length=services.IMPACT_MAX)
    employer: str | None = Field(None, max_length=services.NAME_MAX)
    project: str | None = Field(None, max_length=services.NAME_MAX)
    skills: list[str] | None = Field(None, max_length=services.SKILLS_PER_ENTRY)
    tags: list[str] | None = Field(None, max_length=services.TAGS_PER_ENTRY)
    confidential: bool | None = None
    outcome_pending: bool | None = None
    follow_up_on: date | None = None


class EntryListQuery(Schema):
    q: str = Field("", max_length=200, description="Free text; every word must match (prefixes count).")
    since: date | None = Field(None, description="Entries on or after this date.")
    until: date | None = Field(None, description="Entries on or before this date.")
    employer: str = Field("", max_length=services.NAME_MAX)
    project: str = Field("", max_length=services.NAME_MAX)
    skill: str = Field("", max_length=services.NAME_MAX)
    tag: str = Field("", max_length=services.TAG_MAX)
    cursor: str = Field("", max_length=200)
    limit: int = Field(50, ge=1, le=200)


class EmployerOut(Schema):
    id: int
    name: str
    entry_count: int


class ProjectOut(Schema):
    id: int
    name: str
    employer: str | None
    entry_count: int

    @staticmethod
    def resolve_employer(project) -> str | None:
        return project.employer.name if project.employer_id else None


class SkillOut(Schema):
    id: int
    name: str
    entry_count: int
    last_used_on: date | None


class TagOut(Schema):
    id: int
    name: str
    entry_count: int
