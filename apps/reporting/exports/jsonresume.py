"""JSON Resume (jsonresume.org, the schema published as @jsonresume/schema): basics, work[] with
highlights, skills[] with keywords. Work is grouped by the employer of each bullet's first cited entry;
dates are the span of the cited entries; skills are the cited entries' skills, most used first, each with
the projects it was used on as keywords."""

import json
from collections import Counter, defaultdict

from django.utils import timezone

from apps.reporting.exports import Outside

SCHEMA_URL = "https://raw.githubusercontent.com/jsonresume/resume-schema/v1.0.0/schema.json"
MAX_SKILLS = 30


def json_resume(view: Outside, *, person=None) -> dict:
    roles = {name.lower(): role for name, role in (view.report.options.get("roles") or {}).items()}
    highlights: dict[str, list[str]] = defaultdict(list)
    spans: dict[str, list] = {}
    section_roles: dict[str, str] = {}
    for section in view.sections:
        for item in section["bullets"]:
            rows = [view.sources[pk] for pk in item["citations"] if pk in view.sources]
            if not rows:
                continue
            employer = rows[0]["employer"] or ""
            highlights[employer].append(item["text"])
            if section.get("role"):
                section_roles.setdefault(employer.lower(), section["role"])
    for row in view.sources.values():
        employer = row["employer"] or ""
        span = spans.setdefault(employer, [row["occurred_on"], row["occurred_on"]])
        span[0], span[1] = min(span[0], row["occurred_on"]), max(span[1], row["occurred_on"])
    work = []
    for employer in sorted(
        highlights, key=lambda name: spans.get(name, [None, timezone.localdate()])[1], reverse=True
    ):
        item = {"name": employer or "Independent work", "highlights": highlights[employer]}
        role = roles.get(employer.lower()) or section_roles.get(employer.lower())
        if role:
            item["position"] = role
        if employer in spans:
            item["startDate"], item["endDate"] = (day.isoformat() for day in spans[employer])
        work.append(item)
    counts: Counter = Counter()
    where: dict[str, list[str]] = defaultdict(list)
    for row in view.sources.values():
        for skill in row["skills"]:
            counts[skill] += 1
            place = row["project"] or row["employer"]
            if place and place not in where[skill]:
                where[skill].append(place)
    skills = [{"name": name, "keywords": where[name][:6]} for name, _n in counts.most_common(MAX_SKILLS)]
    basics: dict = {"label": view.title, "summary": view.subtitle}
    if person is not None:
        basics["name"] = person.name or person.email
        basics["email"] = person.email
    return {
        "$schema": SCHEMA_URL,
        "basics": basics,
        "work": work,
        "skills": skills,
        "meta": {"version": "v1.0.0", "lastModified": timezone.now().replace(microsecond=0).isoformat()},
    }


def json_resume_bytes(view: Outside, *, person=None) -> bytes:
    return json.dumps(json_resume(view, person=person), ensure_ascii=False, indent=2).encode("utf-8")
