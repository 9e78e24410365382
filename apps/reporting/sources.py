"""What a report knows about one entry: its words, its score, its category, its line in a prompt.

Entries arrive as plain dicts from `apps.worklog.selectors.entry_report_rows` (id, occurred_on, title,
body, impact, employer, project, metric_*, confidential, outcome_pending, follow_up_on, skills, tags,
evidence_count). Nothing here reads the database.
"""

import re
from decimal import Decimal

# Words that put an entry in a brag document's non-project sections (tags and skills count first).
CATEGORY_WORDS = {
    "collaboration": (
        "mentor", "mentored", "mentoring", "coached", "coaching", "paired", "pairing", "pair programming",
        "onboarded", "onboarding", "code review", "reviewed", "helped", "unblocked", "collaborated",
        "collaboration", "taught", "teaching", "supported",
    ),
    "design": (
        "design doc", "designed", "rfc", "adr", "documentation", "documented", "docs", "spec", "runbook",
        "architecture", "proposal", "wrote up", "write-up", "diagram", "playbook",
    ),
    "company": (
        "hiring", "interview", "interviewed", "recruit", "recruiting", "culture", "hackathon", "meetup",
        "conference", "talk", "blog post", "community", "offsite", "process", "all-hands", "brown bag",
    ),
    "learning": (
        "learned", "learning", "course", "certification", "certified", "studied", "training", "workshop",
        "read", "book", "tutorial",
    ),
}  # fmt: skip
CATEGORY_ORDER = ("collaboration", "design", "company", "learning")
_CATEGORY_WORDS = {
    name: frozenset(w for w in words if " " not in w) for name, words in CATEGORY_WORDS.items()
}
_CATEGORY_PHRASES = {name: tuple(w for w in words if " " in w) for name, words in CATEGORY_WORDS.items()}
_WORDS = re.compile(r"[a-z][a-z-]*")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_LEADING_PRONOUN = re.compile(r"^(?:i|we)\s+(?=[a-z])", re.IGNORECASE)


def number_text(value: Decimal | None) -> str:
    """4 decimals as stored, shown as written: 40.0000 -> "40", 12.5000 -> "12.5", 2000 -> "2,000"."""
    if value is None:
        return ""
    normal = value.normalize()
    if normal == normal.to_integral_value():
        return f"{int(normal):,}"
    return f"{normal:f}"


def metric_phrase(row: dict) -> str:
    """The measurable result in words: "40 → 8 minutes", "12 releases" or ""."""
    unit = (row.get("metric_unit") or "").strip()
    before, after = row.get("metric_before"), row.get("metric_after")
    if before is not None and after is not None:
        return f"{number_text(before)} → {number_text(after)}{' ' + unit if unit else ''}"
    value = row.get("metric_value")
    if value is not None:
        return f"{number_text(value)}{' ' + unit if unit else ''}"
    return ""


def date_words(day) -> str:
    return f"{day:%B} {day.day}, {day.year}" if day else ""


def source_text(row: dict, *, with_body: bool = True) -> str:
    """Everything the entry says, for the fabrication check: a bullet may only claim what is here.

    Without the body it is the short form: what a bullet built from the entry's title, impact and result can
    claim. A claim the short form supports is supported by the whole entry too.
    """
    parts = [
        row["title"],
        (row.get("body") or "") if with_body else "",
        row.get("impact") or "",
        metric_phrase(row),
        row.get("employer") or "",
        row.get("project") or "",
        ", ".join(row.get("skills") or ()),
        ", ".join(row.get("tags") or ()),
        row["occurred_on"].isoformat(),
        date_words(row["occurred_on"]),
    ]
    for name in ("metric_value", "metric_before", "metric_after"):
        if row.get(name) is not None:
            parts.append(number_text(row[name]))
    if row.get("follow_up_on"):
        parts += [row["follow_up_on"].isoformat(), date_words(row["follow_up_on"])]
    return "\n".join(part for part in parts if part)


def impact_score(row: dict) -> int:
    """Entries with a measured result and an impact statement come first."""
    score = 0
    if row.get("metric_value") is not None:
        score += 4
    if row.get("metric_before") is not None and row.get("metric_after") is not None:
        score += 2
    if (row.get("impact") or "").strip():
        score += 3
    if row.get("evidence_count"):
        score += 1
    if len(row.get("body") or "") > 80:
        score += 1
    if row.get("outcome_pending"):
        score -= 1
    return score


def has_result(row: dict) -> bool:
    return row.get("metric_value") is not None or bool((row.get("impact") or "").strip())


def _category_of(text: str) -> str | None:
    lowered = text.lower()
    words = set(_WORDS.findall(lowered))
    for name in CATEGORY_ORDER:
        if words & _CATEGORY_WORDS[name] or any(phrase in lowered for phrase in _CATEGORY_PHRASES[name]):
            return name
    return None


def category(row: dict) -> str:
    """One of collaboration, design, company, learning, or "work" (everything else). Tags and skills decide
    first, then the words of the title and the impact."""
    labels = " ".join([*(row.get("tags") or ()), *(row.get("skills") or ())])
    return _category_of(labels) or _category_of(f"{row['title']}\n{row.get('impact') or ''}") or "work"


def first_sentence(text: str, limit: int = 220) -> str:
    text = " ".join((text or "").split())
    if not text:
        return ""
    sentence = _SENTENCE.split(text, maxsplit=1)[0]
    if len(sentence) > limit:
        sentence = sentence[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return sentence.rstrip(".")


def _lower_first(text: str) -> str:
    # Keep acronyms and names ("API", "Stripe") as written; lower an ordinary first word ("Customers").
    first = text.split(" ", 1)[0]
    if len(first) > 1 and first[0].isupper() and first[1:].islower():
        return first[0].lower() + text[1:]
    return text


def action_first(title: str) -> str:
    """ "I fixed the flaky test." -> "Fixed the flaky test"."""
    title = " ".join(title.split()).rstrip(".")
    title = _LEADING_PRONOUN.sub("", title)
    return title[:1].upper() + title[1:]


def bullet_text(row: dict, *, prefix: str = "") -> str:
    """A bullet in the entry's own words: title, then its impact, then its measured result."""
    text = action_first(row["title"])
    impact = first_sentence(row.get("impact") or "")
    if impact and impact.lower() not in text.lower():
        text = f"{text} — {_lower_first(impact)}"
    metric = metric_phrase(row)
    numbers = [number_text(row.get(name)) for name in ("metric_value", "metric_before", "metric_after")]
    if metric and not all(_has_number(text, number) for number in numbers if number):
        text = f"{text} ({metric})"
    return f"{prefix}{text}" if prefix else text


def _has_number(text: str, number: str) -> bool:
    return re.search(rf"(?<![\d.,]){re.escape(number)}(?![\d]|[.,]\d)", text) is not None


def prompt_line(row: dict, body_chars: int = 400) -> str:
    """The entry as the model sees it: one line, with its id label."""
    parts = [f"[E{row['id']}] {row['occurred_on'].isoformat()}"]
    where = " / ".join(part for part in (row.get("employer"), row.get("project")) if part)
    if where:
        parts.append(where)
    parts.append(row["title"])
    if row.get("impact"):
        parts.append(f"impact: {' '.join(row['impact'].split())[:300]}")
    metric = metric_phrase(row)
    if metric:
        parts.append(f"result: {metric}")
    if row.get("body"):
        parts.append(f"details: {' '.join(row['body'].split())[:body_chars]}")
    if row.get("skills"):
        parts.append(f"skills: {', '.join(row['skills'])}")
    if row.get("tags"):
        parts.append(f"tags: {', '.join(row['tags'])}")
    if row.get("outcome_pending"):
        parts.append(
            f"result pending until {row['follow_up_on'].isoformat()}"
            if row.get("follow_up_on")
            else "result pending"
        )
    return " | ".join(parts)


def token_estimate(text: str) -> int:
    """About four characters a token: good enough to decide when entries no longer fit in one request."""
    return len(text) // 4 + 1


def group_key(row: dict) -> tuple[str, str]:
    return (row.get("employer") or "", row.get("project") or "")


def group_label(key: tuple[str, str]) -> str:
    employer, project = key
    if employer and project:
        return f"{employer} / {project}"
    return employer or project or "No employer or project"
