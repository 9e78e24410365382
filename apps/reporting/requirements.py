"""Tailored resumes: a job description's requirements, and how well an entry answers each.

Requirements are the description's list items when it has them, else its sentences. Matching is by the
words that carry meaning (no stop words), with the entry's skills and tags counting more than its text,
so "Kubernetes" in a requirement finds the entries tagged with that skill.
"""

import re

MAX_REQUIREMENTS = 60
MAX_REQUIREMENT_CHARS = 300
_MARKER = re.compile(r"^\s*(?:[-*•·▪◦‣]|\d{1,2}[.)])\s+(?P<text>.+)$")
_SENTENCE = re.compile(r"(?<=[.!?;])\s+")
_WORD = re.compile(r"[a-z0-9][a-z0-9+#./-]*[a-z0-9+#]|[a-z0-9]")
_STOP_WORDS_TEXT = """
    a about above across after again against all also am an and any are as at be because been being both
    but by can could did do does doing done during each either etc few for from further had has have having
    he her here hers him his how i if in into is it its itself just like ll me more most must my no nor not
    now of off on once only or other our ours out over own per plus preferred required requirements
    responsibilities role same she should so some strong such than that the their them then there these
    they this those through to too under until up us very via was we well were what when where which while
    who whom why will with within would you your yours years year experience experienced ability able
    proven solid good great excellent knowledge understanding familiarity familiar working work works
    using use used including include includes team teams skills skill nice bonus e.g i.e looking join help
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


def requirements_parse(text: str) -> tuple[list[str], bool]:
    """(requirements, whether some were left out because there were more than MAX_REQUIREMENTS)."""
    lines = [line.strip() for line in (text or "").splitlines()]
    items = [match.group("text").strip() for line in lines if (match := _MARKER.match(line))]
    if len(items) < 2:
        items = []
        for line in lines:
            items += [part.strip() for part in _SENTENCE.split(line) if len(part.split()) >= 3]
    cleaned: list[str] = []
    seen: set[str] = set()
    for item in items:
        item = " ".join(item.split()).rstrip(".;,")
        if len(item) > MAX_REQUIREMENT_CHARS:
            item = item[:MAX_REQUIREMENT_CHARS].rsplit(" ", 1)[0] + "…"
        if len(requirement_terms(item)) == 0 or item.lower() in seen:
            continue
        seen.add(item.lower())
        cleaned.append(item)
    return cleaned[:MAX_REQUIREMENTS], len(cleaned) > MAX_REQUIREMENTS


def _stem(word: str) -> str:
    for ending in ("ing", "ed", "es", "s"):
        if len(word) > len(ending) + 3 and word.endswith(ending):
            return word[: -len(ending)]
    return word


def requirement_terms(text: str) -> frozenset[str]:
    words = _WORD.findall((text or "").lower())
    return frozenset(_stem(word) for word in words if word not in STOP_WORDS and not word.isdigit())


def entry_terms(row: dict) -> tuple[frozenset[str], frozenset[str]]:
    """(words of the entry's text, words of its skills and tags)."""
    text = " ".join(
        [row["title"], row.get("impact") or "", (row.get("body") or "")[:2000], row.get("project") or ""]
    )
    labels = " ".join([*(row.get("skills") or ()), *(row.get("tags") or ())])
    return requirement_terms(text), requirement_terms(labels)


def match_score(wanted: frozenset[str], terms: tuple[frozenset[str], frozenset[str]]) -> int:
    """0 when the entry does not answer the requirement; higher is a better match."""
    text_terms, label_terms = terms
    labels = len(wanted & label_terms)
    words = len(wanted & text_terms)
    score = 3 * labels + words
    return score if labels or words >= 2 else 0
