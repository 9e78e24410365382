"""The builtin writer: a real report from the entries' own words, without a model, for free.

It reads the entries once, as a stream, and keeps only bounded "best so far" lists (a heap per section or
group), so its memory does not grow with the number of entries. Every bullet is built from one entry's
title, impact and measured result and cites that entry; entries with metrics and impact come first.
The same writer drafts a single group in map-reduce when the model's answer cannot be used.
"""

import heapq
import itertools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils.text import slugify

from apps.reporting import kinds
from apps.reporting.requirements import entry_terms, match_score, requirement_terms
from apps.reporting.sources import (
    action_first,
    bullet_text,
    category,
    date_words,
    group_key,
    has_result,
    impact_score,
)

KEEP = (
    "id", "occurred_on", "title", "impact", "employer", "project", "metric_value", "metric_unit",
    "metric_before", "metric_after", "outcome_pending", "follow_up_on", "skills", "score",
)  # fmt: skip
_tiebreak = itertools.count()


def compact(row: dict) -> dict:
    """What a bullet needs of an entry (the body is left behind)."""
    small = {name: row.get(name) for name in KEEP}
    small["score"] = impact_score(row)
    return small


class Best:
    """The `size` highest-ranked items seen so far (rank: score, then the most recent, then the id)."""

    def __init__(self, size: int):
        self.size = size
        self._heap: list = []

    def push(self, item: dict, rank: tuple | None = None) -> None:
        rank = rank if rank is not None else (item["score"], item["occurred_on"], item["id"])
        entry = (rank, next(_tiebreak), item)
        if len(self._heap) < self.size:
            heapq.heappush(self._heap, entry)
        elif entry[0] > self._heap[0][0]:
            heapq.heapreplace(self._heap, entry)

    def items(self) -> list[dict]:
        return [item for _rank, _n, item in sorted(self._heap, key=lambda e: (e[0], e[1]), reverse=True)]

    def __len__(self) -> int:
        return len(self._heap)


def bullet(text: str, *ids: int) -> dict:
    return {"text": text, "citations": list(dict.fromkeys(ids)), "flags": []}


def section(key: str, title: str, bullets: list[dict], **extra) -> dict:
    return {"key": key, "title": title, "enabled": True, "bullets": bullets, **extra}


def _take(items: list[dict], used: set[int], limit: int, when=lambda item: True) -> list[dict]:
    chosen = []
    for item in items:
        if len(chosen) >= limit:
            break
        if item["id"] in used or not when(item):
            continue
        used.add(item["id"])
        chosen.append(item)
    return chosen


def _names(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


@dataclass
class Result:
    sections: list[dict]
    requirements: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------- kinds


class SelfReview:
    def __init__(self, **_):
        self.top = Best(16)
        self.collaboration = Best(14)
        self.learning = Best(10)
        self.pending = Best(8)
        self.projects: Counter = Counter()
        self.project_best: dict[str, Best] = {}
        self.skills: Counter = Counter()
        self.skill_best: dict[str, Best] = {}

    def add(self, row: dict) -> None:
        item = compact(row)
        kind = category(row)
        if item["outcome_pending"]:
            soon = item["follow_up_on"] or date.max
            self.pending.push(item, rank=(-soon.toordinal(), item["score"], item["id"]))
        elif kind == "collaboration":
            self.collaboration.push(item)
        elif kind == "learning":
            self.learning.push(item)
        else:
            self.top.push(item)
        if item["project"]:
            self.projects[item["project"]] += 1
            self.project_best.setdefault(item["project"], Best(1)).push(item)
        for skill in item["skills"] or ():
            self.skills[skill] += 1
            self.skill_best.setdefault(skill, Best(2)).push(item)

    def finish(self) -> Result:
        used: set[int] = set()
        summary = []
        top_projects = [name for name, _n in self.projects.most_common(3)]
        if top_projects:
            ids = [self.project_best[name].items()[0]["id"] for name in top_projects]
            summary.append(bullet(f"Most of the work went into {_names(top_projects)}.", *ids))
        top_skills = [name for name, _n in self.skills.most_common(3)]
        if top_skills:
            ids = [self.skill_best[name].items()[0]["id"] for name in top_skills]
            summary.append(bullet(f"The skills used most were {_names(top_skills)}.", *ids))
        ranked = self.top.items()
        key = _take(ranked, used, 6)
        impact = _take(ranked, used, 8, when=has_result)
        collaboration = _take(self.collaboration.items(), used, 6)
        growth = [bullet(bullet_text(item), item["id"]) for item in _take(self.learning.items(), used, 4)]
        for name, _n in self.skills.most_common(4):
            items = self.skill_best[name].items()
            titles = "; ".join(action_first(item["title"]) for item in items)
            growth.append(bullet(f"{name}: {titles}", *(item["id"] for item in items)))
        goals = []
        for item in self.pending.items()[:6]:
            when = f", result expected by {date_words(item['follow_up_on'])}" if item["follow_up_on"] else ""
            goals.append(bullet(f"Follow up on “{action_first(item['title'])}”{when}", item["id"]))
        by_key = {
            "summary": summary,
            "key_accomplishments": [bullet(bullet_text(item), item["id"]) for item in key],
            "impact_and_results": [bullet(bullet_text(item), item["id"]) for item in impact],
            "collaboration_and_mentoring": [bullet(bullet_text(item), item["id"]) for item in collaboration],
            "skills_and_growth": growth,
            "next_goals": goals,
        }
        return Result(
            [section(spec.key, spec.title, by_key[spec.key]) for spec in kinds.SELF_REVIEW_SECTIONS]
        )


class BragDocument:
    PER_GROUP = 5

    def __init__(self, **_):
        self.groups: dict[tuple[str, str], Best] = {}
        self.other = {name: Best(8) for name in ("collaboration", "design", "company", "learning")}

    def add(self, row: dict) -> None:
        item = compact(row)
        kind = category(row)
        if kind == "work":
            self.groups.setdefault(group_key(row), Best(self.PER_GROUP)).push(item)
        else:
            self.other[kind].push(item)

    def finish(self) -> Result:
        groups = sorted(
            self.groups.items(), key=lambda pair: max(item["score"] for item in pair[1].items()), reverse=True
        )
        projects = []
        for (employer, project), best in groups:
            prefix = f"{project or employer}: " if (project or employer) else ""
            projects += [bullet(bullet_text(item, prefix=prefix), item["id"]) for item in best.items()]
        other_keys = {
            "collaboration_and_mentoring": "collaboration",
            "design_and_documentation": "design",
            "company_building": "company",
            "what_i_learned": "learning",
        }
        sections = []
        for spec in kinds.BRAG_SECTIONS:
            if spec.key == "projects":
                bullets = projects
            else:
                bullets = [
                    bullet(bullet_text(item), item["id"]) for item in self.other[other_keys[spec.key]].items()
                ]
            sections.append(section(spec.key, spec.title, bullets))
        return Result(sections)


def _period_start(day: date, variant: str) -> date:
    if variant == "weekly":
        return day - timedelta(days=day.weekday())
    if variant == "monthly":
        return day.replace(day=1)
    return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)


def _period_title(start: date, variant: str) -> str:
    if variant == "weekly":
        return f"Week of {date_words(start)}"
    if variant == "monthly":
        return f"{start:%B %Y}"
    return f"Q{(start.month - 1) // 3 + 1} {start.year}"


class Summary:
    def __init__(self, *, variant: str = "", since=None, until=None, **_):
        self.variant = kinds.summary_variant_for(variant, since, until)
        self.top = Best(3)
        self.periods: dict[date, Best] = {}

    def add(self, row: dict) -> None:
        item = compact(row)
        self.top.push(item)
        self.periods.setdefault(_period_start(item["occurred_on"], self.variant), Best(8)).push(item)

    def finish(self) -> Result:
        used: set[int] = set()
        highlights = _take(self.top.items(), used, 3)
        sections = [
            section(
                kinds.SUMMARY_HIGHLIGHTS.key,
                kinds.SUMMARY_HIGHLIGHTS.title,
                [bullet(bullet_text(item), item["id"]) for item in highlights],
            )
        ]
        for start in sorted(self.periods):
            items = _take(self.periods[start].items(), used, 5)
            sections.append(
                section(
                    f"period-{start.isoformat()}",
                    _period_title(start, self.variant),
                    [bullet(bullet_text(item), item["id"]) for item in items],
                )
            )
        return Result(sections)


class ManagerUpdate:
    def __init__(self, **_):
        self.top = Best(14)
        self.pending = Best(6)
        self.help = Best(10)

    def add(self, row: dict) -> None:
        item = compact(row)
        if item["outcome_pending"]:
            soon = item["follow_up_on"] or date.max
            self.pending.push(item, rank=(-soon.toordinal(), item["score"], item["id"]))
            return
        self.top.push(item)
        if category(row) == "collaboration":
            self.help.push(item)

    def finish(self) -> Result:
        used: set[int] = set()
        ranked = self.top.items()
        highlights = _take(ranked, used, 3)
        shipped = _take(ranked, used, 8, when=has_result)
        help_items = _take(self.help.items(), used, 5)
        in_progress = []
        for item in self.pending.items():
            when = f", result expected by {date_words(item['follow_up_on'])}" if item["follow_up_on"] else ""
            in_progress.append(bullet(f"{action_first(item['title'])}{when}", item["id"]))
        by_key = {
            "highlights": [bullet(bullet_text(item), item["id"]) for item in highlights],
            "shipped": [bullet(bullet_text(item), item["id"]) for item in shipped],
            "in_progress": in_progress,
            "help_and_collaboration": [bullet(bullet_text(item), item["id"]) for item in help_items],
        }
        return Result(
            [section(spec.key, spec.title, by_key[spec.key]) for spec in kinds.MANAGER_UPDATE_SECTIONS]
        )


def employer_section_key(employer: str) -> str:
    return f"employer-{slugify(employer)[:60] or 'other'}"


def employer_title(employer: str, role: str) -> str:
    name = employer or "Other work"
    return f"{name} — {role}" if role else name


class _Employers:
    """One bounded list per employer, with the span of dates the employer's entries cover."""

    def __init__(self, per_employer: int):
        self.per_employer = per_employer
        self.best: dict[str, Best] = {}
        self.span: dict[str, list[date]] = {}

    def push(self, item: dict, rank: tuple | None = None) -> None:
        employer = item["employer"] or ""
        self.best.setdefault(employer, Best(self.per_employer)).push(item, rank)
        span = self.span.setdefault(employer, [item["occurred_on"], item["occurred_on"]])
        span[0], span[1] = min(span[0], item["occurred_on"]), max(span[1], item["occurred_on"])

    def sections(self, roles: dict) -> list[dict]:
        roles = {name.lower(): role for name, role in (roles or {}).items()}
        ordered = sorted(self.best, key=lambda name: self.span[name][1], reverse=True)
        result = []
        for employer in ordered:
            role = roles.get(employer.lower(), "")
            start, end = self.span[employer]
            result.append(
                section(
                    employer_section_key(employer),
                    employer_title(employer, role),
                    [bullet(bullet_text(item), item["id"]) for item in self.best[employer].items()],
                    employer=employer,
                    role=role,
                    start=start.isoformat(),
                    end=end.isoformat(),
                )
            )
        return result


class ResumeBullets:
    def __init__(self, *, options: dict | None = None, **_):
        self.roles = (options or {}).get("roles") or {}
        self.employers = _Employers(6)

    def add(self, row: dict) -> None:
        self.employers.push(compact(row))

    def finish(self) -> Result:
        return Result(self.employers.sections(self.roles))


class TailoredResume:
    PER_REQUIREMENT = 3

    def __init__(self, *, options: dict | None = None, requirements: list[str] | None = None, **_):
        self.roles = (options or {}).get("roles") or {}
        self.requirements = list(requirements or [])
        self.terms = [requirement_terms(text) for text in self.requirements]
        self.best = [Best(self.PER_REQUIREMENT) for _ in self.requirements]

    def add(self, row: dict) -> None:
        terms = entry_terms(row)
        item = None
        for index, wanted in enumerate(self.terms):
            strength = match_score(wanted, terms)
            if strength:
                item = item or compact(row)
                self.best[index].push(item, rank=(strength, item["score"], item["occurred_on"], item["id"]))

    def finish(self) -> Result:
        requirements = []
        employers = _Employers(8)
        seen: set[int] = set()
        for text, best in zip(self.requirements, self.best, strict=True):
            items = best.items()
            requirements.append({"text": text, "entry_ids": [item["id"] for item in items]})
            for rank, item in enumerate(items):
                if item["id"] not in seen:
                    seen.add(item["id"])
                    employers.push(item, rank=(-rank, item["score"], item["occurred_on"], item["id"]))
        return Result(employers.sections(self.roles), requirements=requirements)


WRITERS = {
    "self_review": SelfReview,
    "brag_document": BragDocument,
    "resume_bullets": ResumeBullets,
    "summary": Summary,
    "tailored_resume": TailoredResume,
}


def builtin_write(
    *,
    kind: str,
    rows: Iterable[dict],
    variant: str = "",
    options: dict | None = None,
    requirements: list[str] | None = None,
    since=None,
    until=None,
) -> Result:
    """The whole report from a stream of entry rows, in one pass."""
    writer_class = ManagerUpdate if kind == "summary" and variant == "manager_update" else WRITERS[kind]
    writer = writer_class(
        variant=variant, options=options, requirements=requirements, since=since, until=until
    )
    for row in rows:
        writer.add(row)
    return writer.finish()
