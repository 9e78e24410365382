"""Imported entries: checking one row of input, and writing checked rows to a workspace in one go.

Every import format (CSV, jrnl JSON, the AfterResume ZIP) turns its input into plain dicts of the same
field names, checks each with `entry_row_parse` (collecting every problem with its row number, nothing
written), and writes the result with `entries_write`, which the caller runs inside one transaction.
"""

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.dateparse import parse_datetime

from apps.core.errors import ValidationFailed
from apps.core.filenames import filename_clean
from apps.worklog.models import Employer, Entry, Evidence, Project, Skill, Tag
from apps.worklog.services import (
    BODY_MAX,
    IMPACT_MAX,
    METRIC_INTEGER_DIGITS,
    entry_dates_check,
    skill_counts_move,
    tag_normalise,
)
from apps.worklog.skills import MAX_SKILL_LENGTH, skill_normalise

TITLE_MAX = 200
EMPLOYER_MAX = 120
PROJECT_MAX = 120
TAG_MAX = 50
METRIC_UNIT_MAX = 30
NAMES_PER_ENTRY_MAX = 30
EVIDENCE_TITLE_MAX = 200
EVIDENCE_URL_MAX = 2000
METRIC_DIGITS = METRIC_INTEGER_DIGITS

TRUE_WORDS = {"true", "yes", "y", "1"}
FALSE_WORDS = {"false", "no", "n", "0", ""}
BATCH_SIZE = 500
_SPACES = re.compile(r"\s+")
# What a database text column cannot hold: NUL (PostgreSQL refuses it) and lone UTF-16 surrogates (a JSON
# "\ud800" decodes to one; it cannot be encoded as UTF-8 for any database).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = (
    "contains a character that cannot be stored (a NUL byte or half of an emoji's code); remove it."
)


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    message: str


@dataclass
class EvidenceRow:
    kind: str
    title: str = ""
    url: str = ""
    original_name: str = ""
    content_type: str = ""
    size_bytes: int = 0
    path: str = ""  # the file inside the archive, for kind "file"
    stored_name: str = ""  # set once the file has been copied to storage


@dataclass
class EntryRow:
    row: int
    occurred_on: date
    title: str
    body: str = ""
    impact: str = ""
    employer: str = ""
    project: str = ""
    skills: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    metric_value: Decimal | None = None
    metric_unit: str = ""
    metric_before: Decimal | None = None
    metric_after: Decimal | None = None
    confidential: bool = False
    outcome_pending: bool = False
    follow_up_on: date | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    evidence: list[EvidenceRow] = field(default_factory=list)


@dataclass
class Reference:
    """Names to create even when no entry uses them (a workspace export carries its whole vocabulary)."""

    employers: list[str] = field(default_factory=list)
    projects: list[tuple[str, str]] = field(default_factory=list)  # (project, employer or "")
    skills: list[tuple[str, str]] = field(default_factory=list)  # (name, key or "" to normalise the name)
    tags: list[str] = field(default_factory=list)


def storable(text: str) -> bool:
    return _UNSTORABLE.search(text) is None


def shown(value: Any, limit: int = 80) -> str:
    """A value quoted in a message or shown in the preview: text, shortened, never a character that would
    break the page; anything that is not text is named by its kind."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        text = str(value) if abs(value) < 10**15 else "a very large number"
    elif isinstance(value, str):
        text = value
    elif isinstance(value, list):
        text = "a list"
    elif isinstance(value, dict):
        text = "an object"
    else:
        text = "a value"
    text = _UNSTORABLE.sub("\ufffd", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clean_name(value: str) -> str:
    return _SPACES.sub(" ", value).strip()


def clean_tag(value: str) -> str:
    # Tags are kept as entry services keep them; jrnl's "@launch" is the tag "launch" too.
    return tag_normalise(clean_name(value).lstrip("@"))


class RowReader:
    """Reads typed values out of one raw row, recording a message per problem instead of stopping."""

    def __init__(self, row: int, raw: Mapping[str, Any]):
        self.row = row
        self.raw = raw
        self.errors: list[RowError] = []
        self.unstorable: set[str] = set()  # fields already reported: their later checks say nothing more

    def error(self, name: str, message: str) -> None:
        if name not in self.unstorable:
            self.errors.append(RowError(self.row, name, message))

    def _value(self, name: str) -> Any:
        value = self.raw.get(name)
        if value is None:
            return ""
        texts = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        if any(isinstance(text, str) and not storable(text) for text in texts):
            self.error(name, f"{name} {UNSTORABLE_MESSAGE}")
            self.unstorable.add(name)
            return ""
        return value

    def text(self, name: str, *, max_length: int, required: bool = False, label: str = "") -> str:
        value = self._value(name)
        if not isinstance(value, str):
            self.error(name, f"{label or name} must be text.")
            return ""
        value = value.strip()
        if required and not value:
            self.error(name, f"{label or name} is missing; every entry needs one.")
        elif len(value) > max_length:
            self.error(
                name, f"{label or name} is {len(value):,} characters long; the limit is {max_length:,}."
            )
        return value

    def day(self, name: str, *, required: bool = False, label: str = "") -> date | None:
        value = self._value(name)
        value = value.strip() if isinstance(value, str) else value
        if value in ("", None):
            if required:
                self.error(name, f"{label or name} is missing; use a date like 2024-03-31.")
            return None
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                self.error(name, f"“{value}” is not a real date.")
                return None
        self.error(name, f"“{shown(value)}” is not a date in the form YYYY-MM-DD, such as 2024-03-31.")
        return None

    def boolean(self, name: str) -> bool:
        value = self._value(name)
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word not in FALSE_WORDS:
            self.error(
                name,
                f"“{shown(value)}” is not true or false (also accepted: yes/no, 1/0, or empty for false).",
            )
        return False

    def decimal(self, name: str) -> Decimal | None:
        value = self._value(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        text = value.strip().replace(",", "") if isinstance(value, str) else "?"
        if text == "":
            return None
        try:
            number = Decimal(text) if len(text) <= 40 else None
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            self.error(name, f"“{shown(value)}” is not a number.")
            return None
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -4:
            self.error(name, f"{shown(value)} has more than 4 decimal places.")
            return None
        if number and number.adjusted() >= METRIC_DIGITS:
            self.error(name, f"{shown(value)} is too large; numbers can have up to {METRIC_DIGITS} digits.")
            return None
        return number

    def names(self, name: str, *, max_length: int, clean: Callable[[str], str] = clean_name) -> list[str]:
        """A list given as a JSON list or as text separated by semicolons; blanks and repeats dropped."""
        value = self._value(name)
        if isinstance(value, str):
            items = value.split(";")
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            items = value
        else:
            self.error(name, f"{name} must be a list of names separated by semicolons.")
            return []
        result: list[str] = []
        seen: set[str] = set()
        for item in items:
            cleaned = clean(item)
            if not cleaned or cleaned.lower() in seen:
                continue
            if len(cleaned) > max_length:
                self.error(
                    name, f"“{cleaned[:40]}…” is {len(cleaned)} characters; the limit is {max_length}."
                )
                continue
            seen.add(cleaned.lower())
            result.append(cleaned)
        if len(result) > NAMES_PER_ENTRY_MAX:
            self.error(name, f"{len(result)} {name} on one entry; the limit is {NAMES_PER_ENTRY_MAX}.")
        return result

    def moment(self, name: str) -> datetime | None:
        value = self._value(name)
        if value in ("", None):
            return None
        try:
            parsed = parse_datetime(value) if isinstance(value, str) and len(value) <= 40 else None
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            self.error(name, f"“{shown(value)}” is not a date and time with a time zone (ISO 8601).")
            return None
        return parsed


def entry_row_parse(
    row: int, raw: Mapping[str, Any], *, today: date
) -> tuple[EntryRow | None, list[RowError]]:
    """Check one raw row (field name -> value). Returns the entry to write, or None with the problems.

    `today` is the importing person's date in their time zone, for the one rule on entry dates.
    """
    read = RowReader(row, raw)
    occurred_on = read.day("occurred_on", required=True, label="occurred_on (the date it happened)")
    title = read.text("title", max_length=TITLE_MAX, required=True)
    entry = EntryRow(
        row=row,
        occurred_on=occurred_on or date.min,
        title=title,
        body=read.text("body", max_length=BODY_MAX),
        impact=read.text("impact", max_length=IMPACT_MAX),
        employer=clean_name(read.text("employer", max_length=EMPLOYER_MAX)),
        project=clean_name(read.text("project", max_length=PROJECT_MAX)),
        skills=read.names("skills", max_length=MAX_SKILL_LENGTH),
        tags=read.names("tags", max_length=TAG_MAX, clean=clean_tag),
        metric_value=read.decimal("metric_value"),
        metric_unit=read.text("metric_unit", max_length=METRIC_UNIT_MAX),
        metric_before=read.decimal("metric_before"),
        metric_after=read.decimal("metric_after"),
        confidential=read.boolean("confidential"),
        outcome_pending=read.boolean("outcome_pending"),
        follow_up_on=read.day("follow_up_on"),
        created_at=read.moment("created_at"),
        updated_at=read.moment("updated_at"),
    )
    if occurred_on is not None or entry.follow_up_on is not None:
        try:
            entry_dates_check(occurred_on=occurred_on, follow_up_on=entry.follow_up_on, today=today)
        except ValidationFailed as exc:
            read.error(exc.field or "occurred_on", exc.message)
    if entry.outcome_pending and entry.follow_up_on is None and not read.errors:
        read.error("follow_up_on", "outcome_pending is true, so a follow_up_on date is needed (YYYY-MM-DD).")
    evidence_items = raw.get("evidence") or []
    if not isinstance(evidence_items, list):
        read.error("evidence", "evidence must be a list.")
        evidence_items = []
    for position, item in enumerate(evidence_items, start=1):
        evidence = _evidence_parse(read, position, item)
        if evidence is not None:
            entry.evidence.append(evidence)
    if read.errors:
        return None, read.errors
    return entry, []


def _evidence_parse(read: RowReader, position: int, item: Any) -> EvidenceRow | None:
    label = f"evidence {position}"
    if not isinstance(item, dict):
        read.error("evidence", f"{label} is not an object.")
        return None
    sub = RowReader(read.row, item)
    kind = item.get("kind")
    evidence = EvidenceRow(
        kind=kind if isinstance(kind, str) else "",
        title=sub.text("title", max_length=EVIDENCE_TITLE_MAX),
        url=sub.text("url", max_length=EVIDENCE_URL_MAX),
        # The name is cleaned like an upload's; the declared type is not read at all: the bytes decide.
        original_name=filename_clean(name, default="")
        if isinstance(name := item.get("original_name"), str)
        else "",
        path=sub.text("path", max_length=1000),
    )
    if evidence.kind == Evidence.Kind.LINK:
        try:
            URLValidator(schemes=["http", "https"])(evidence.url)
        except ValidationError:
            sub.error("url", f"“{shown(evidence.url)}” is not a web address (http or https).")
    elif evidence.kind == Evidence.Kind.FILE:
        if not evidence.path and item.get("missing") is not True:
            sub.error("path", "the file's path inside the archive is missing.")
    else:
        sub.error("kind", f"kind must be “file” or “link”, not “{shown(kind, 30)}”.")
    for problem in sub.errors:
        read.error("evidence", f"{label}: {problem.field} — {problem.message}")
    return None if sub.errors else evidence


# ----------------------------------------------------------------------------------------------- writing


class _Names:
    """The workspace's employers, projects, skills and tags by identity, creating the missing ones."""

    def __init__(self, tenant):
        self.tenant = tenant
        self.employers = {e.name.lower(): e for e in Employer.objects.filter(tenant=tenant)}
        self.projects = {p.name.lower(): p for p in Project.objects.filter(tenant=tenant)}
        self.skills = {s.key: s for s in Skill.objects.filter(tenant=tenant)}
        self.skill_names = {s.name.lower(): s for s in self.skills.values()}
        self.tags = {t.name.lower(): t for t in Tag.objects.filter(tenant=tenant)}
        self.created = {"employers": 0, "projects": 0, "skills": 0, "tags": 0}

    def ensure(self, reference: Reference) -> None:
        """Create every missing name in a few bulk inserts."""
        new_employers = self._missing(self.employers, reference.employers, lambda n: n.lower())
        self._create(
            Employer,
            self.employers,
            "employers",
            [Employer(tenant=self.tenant, name=n) for n in new_employers],
        )
        new_projects: dict[str, Project] = {}
        for name, employer_name in reference.projects:
            if name.lower() not in self.projects and name.lower() not in new_projects:
                employer = self.employers.get(employer_name.lower()) if employer_name else None
                new_projects[name.lower()] = Project(tenant=self.tenant, name=name, employer=employer)
        self._create(Project, self.projects, "projects", list(new_projects.values()))
        # Skills with a known key (from an export) keep name and key as they were; typed names are found by
        # their exact name (a skill renamed by hand keeps its spelling) or their normalised key, else created.
        exact = {key: Skill(tenant=self.tenant, name=name, key=key) for name, key in reference.skills if key}
        self._create_skills([skill for key, skill in exact.items() if key not in self.skills])
        typed: dict[str, Skill] = {}
        for name, key in reference.skills:
            if key or self.skill(name) is not None:
                continue
            display, normal_key = skill_normalise(name)
            if normal_key and normal_key not in typed:
                typed[normal_key] = Skill(tenant=self.tenant, name=display, key=normal_key)
        self._create_skills(list(typed.values()))
        new_tags = self._missing(self.tags, reference.tags, lambda n: n.lower())
        self._create(Tag, self.tags, "tags", [Tag(tenant=self.tenant, name=n) for n in new_tags])

    def skill(self, name: str) -> Skill | None:
        return self.skill_names.get(clean_name(name).lower()) or self.skills.get(skill_normalise(name)[1])

    def _create_skills(self, skills: list[Skill]) -> None:
        self._create(Skill, self.skills, "skills", skills, key=lambda s: s.key)
        self.skill_names = {s.name.lower(): s for s in self.skills.values()}

    @staticmethod
    def _missing(known: dict, names: Iterable[str], key: Callable[[str], str]) -> list[str]:
        missing: dict[str, str] = {}
        for name in names:
            if name and key(name) not in known and key(name) not in missing:
                missing[key(name)] = name
        return list(missing.values())

    def _create(self, model, known: dict, label: str, objects: list, key=lambda o: o.name.lower()) -> None:
        if not objects:
            return
        for created in model.objects.bulk_create(objects, batch_size=BATCH_SIZE):
            known[key(created)] = created
        self.created[label] += len(objects)


def _reference_from_rows(rows: list[EntryRow], reference: Reference | None) -> Reference:
    combined = Reference(
        employers=list(reference.employers) if reference else [],
        projects=list(reference.projects) if reference else [],
        skills=list(reference.skills) if reference else [],
        tags=list(reference.tags) if reference else [],
    )
    for row in rows:
        if row.employer:
            combined.employers.append(row.employer)
        if row.project:
            combined.projects.append((row.project, row.employer))
        combined.skills.extend((name, "") for name in row.skills)
        combined.tags.extend(row.tags)
    return combined


def entries_write(
    *, tenant, author, rows: list[EntryRow], reference: Reference | None = None, keep_timestamps: bool = False
) -> dict[str, int]:
    """Write checked rows to the workspace. Call inside `transaction.atomic()`: all rows or none.

    Employers and projects are matched by name ignoring case, skills by their normalised key, tags by name
    ignoring case; what is missing is created. Entries are written in the order given.
    """
    names = _Names(tenant)
    names.ensure(_reference_from_rows(rows, reference))
    entries: list[Entry] = []
    for row in rows:
        employer = names.employers.get(row.employer.lower()) if row.employer else None
        project = names.projects.get(row.project.lower()) if row.project else None
        entries.append(
            Entry(
                tenant=tenant,
                author=author,
                occurred_on=row.occurred_on,
                title=row.title,
                body=row.body,
                impact=row.impact,
                employer=employer,
                project=project,
                metric_value=row.metric_value,
                metric_unit=row.metric_unit,
                metric_before=row.metric_before,
                metric_after=row.metric_after,
                confidential=row.confidential,
                outcome_pending=row.outcome_pending,
                follow_up_on=row.follow_up_on,
            )
        )
    Entry.objects.bulk_create(entries, batch_size=BATCH_SIZE)

    skill_links, tag_links, evidence = [], [], []
    SkillLink, TagLink = Entry.skills.through, Entry.tags.through
    for entry, row in zip(entries, rows, strict=True):
        for name in row.skills:
            skill = names.skill(name)
            skill_links.append(SkillLink(entry_id=entry.pk, skill_id=skill.pk))
        for name in row.tags:
            tag_links.append(TagLink(entry_id=entry.pk, tag_id=names.tags[name.lower()].pk))
        for item in row.evidence:
            evidence.append(
                Evidence(
                    tenant=tenant,
                    entry=entry,
                    kind=item.kind,
                    file=item.stored_name,
                    original_name=item.original_name,
                    content_type=item.content_type,
                    size_bytes=item.size_bytes,
                    url=item.url,
                    title=item.title,
                )
            )
    SkillLink.objects.bulk_create(skill_links, batch_size=BATCH_SIZE, ignore_conflicts=True)
    TagLink.objects.bulk_create(tag_links, batch_size=BATCH_SIZE, ignore_conflicts=True)
    Evidence.objects.bulk_create(evidence, batch_size=BATCH_SIZE)
    # Every imported entry is live: each of its skills (a name given twice counts once) gains it.
    skill_counts_move(
        gained=[
            (skill_id, entry.occurred_on)
            for entry, row in zip(entries, rows, strict=True)
            for skill_id in {names.skill(name).pk for name in row.skills}
        ]
    )

    if keep_timestamps:
        for entry, row in zip(entries, rows, strict=True):
            entry.created_at = row.created_at or entry.created_at
            entry.updated_at = row.updated_at or entry.updated_at
        Entry.objects.bulk_update(entries, ["created_at", "updated_at"], batch_size=BATCH_SIZE)
    return {"entries": len(entries), "evidence": len(evidence), **names.created}
