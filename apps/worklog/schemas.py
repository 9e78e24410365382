"""Shapes of the work-log API. Employers, projects, skills and tags travel as names.

Measured results (`metric_value`, `metric_before`, `metric_after`) travel as decimal strings with up to
4 decimals ("12.5", "-3", "0.0125"), never as JSON numbers, so no float ever rounds them.
"""

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.urls import reverse
from ninja import Field, Schema
from pydantic import AfterValidator

from apps.core.apicontract import IsoDate
from apps.worklog import services

# See services.METRIC_INTEGER_DIGITS: the same limit as the pages and imports.
METRIC_PATTERN = rf"^-?[0-9]{{1,{services.METRIC_INTEGER_DIGITS}}}(\.[0-9]{{1,4}})?$"
_METRIC = re.compile(METRIC_PATTERN)


def _check_metric_text(value: str) -> str:
    if not _METRIC.fullmatch(value):
        raise ValueError(
            'use a decimal number in a string, up to 11 digits and 4 decimals, like "12.5" or "-3"'
        )
    return value


MetricText = Annotated[
    str,
    AfterValidator(_check_metric_text),
    Field(
        description='A decimal number as a string, up to 4 decimals, e.g. "12.5".',
        examples=["12.5"],
        json_schema_extra={"pattern": METRIC_PATTERN},
    ),
]


def metric_text(value: Decimal | None) -> str | None:
    """12.5000 -> "12.5"; 100.0000 -> "100"; None stays None."""
    if value is None:
        return None
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def metric_decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


class EvidenceOut(Schema):
    id: int
    kind: Literal["file", "link"]
    title: str = Field(description="The link's title, or the file's name.")
    url: str = Field(description="The link, or the download path of the file (`/log/evidence/<id>/`).")
    size_bytes: int | None = Field(description="Files only.")
    content_type: str | None = Field(description="Files only: the type checked from the file's content.")
    created_at: datetime

    @staticmethod
    def resolve_title(evidence) -> str:
        return evidence.title or evidence.original_name or evidence.url

    @staticmethod
    def resolve_url(evidence) -> str:
        if evidence.kind == "file":
            return reverse("worklog_evidence_file", args=[evidence.pk])
        return evidence.url

    @staticmethod
    def resolve_size_bytes(evidence) -> int | None:
        return evidence.size_bytes if evidence.kind == "file" else None

    @staticmethod
    def resolve_content_type(evidence) -> str | None:
        return evidence.content_type if evidence.kind == "file" else None


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
    metric_value: MetricText | None
    metric_unit: str
    metric_before: MetricText | None
    metric_after: MetricText | None
    confidential: bool
    outcome_pending: bool
    follow_up_on: date | None
    evidence: list[EvidenceOut]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_metric_value(entry) -> str | None:
        return metric_text(entry.metric_value)

    @staticmethod
    def resolve_metric_before(entry) -> str | None:
        return metric_text(entry.metric_before)

    @staticmethod
    def resolve_metric_after(entry) -> str | None:
        return metric_text(entry.metric_after)

    @staticmethod
    def resolve_evidence(entry) -> list:
        return list(entry.evidence.all())

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
    occurred_on: IsoDate | None = Field(None, description="Defaults to today in your time zone.")
    body: str = Field("", max_length=services.BODY_MAX, description="Markdown.")
    impact: str = Field("", max_length=services.IMPACT_MAX)
    employer: str | None = Field(None, max_length=services.NAME_MAX)
    project: str | None = Field(None, max_length=services.NAME_MAX)
    skills: list[str] = Field(default_factory=list, max_length=services.SKILLS_PER_ENTRY)
    tags: list[str] = Field(default_factory=list, max_length=services.TAGS_PER_ENTRY)
    metric_value: MetricText | None = None
    metric_unit: str = Field("", max_length=services.METRIC_UNIT_MAX, description='e.g. "% more sign-ups".')
    metric_before: MetricText | None = None
    metric_after: MetricText | None = None
    confidential: bool = False
    outcome_pending: bool = False
    follow_up_on: IsoDate | None = None


class EntryPatch(Schema):
    title: str | None = Field(None, max_length=services.TITLE_MAX)
    occurred_on: IsoDate | None = None
    body: str | None = Field(None, max_length=services.BODY_MAX)
    impact: str | None = Field(None, max_length=services.IMPACT_MAX)
    employer: str | None = Field(None, max_length=services.NAME_MAX)
    project: str | None = Field(None, max_length=services.NAME_MAX)
    skills: list[str] | None = Field(None, max_length=services.SKILLS_PER_ENTRY)
    tags: list[str] | None = Field(None, max_length=services.TAGS_PER_ENTRY)
    metric_value: MetricText | None = None
    metric_unit: str | None = Field(None, max_length=services.METRIC_UNIT_MAX)
    metric_before: MetricText | None = None
    metric_after: MetricText | None = None
    confidential: bool | None = None
    outcome_pending: bool | None = None
    follow_up_on: IsoDate | None = None


class EntryListQuery(Schema):
    q: str = Field("", max_length=200, description="Free text; every word must match (prefixes count).")
    since: IsoDate | None = Field(None, description="Entries on or after this date.")
    until: IsoDate | None = Field(None, description="Entries on or before this date.")
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
