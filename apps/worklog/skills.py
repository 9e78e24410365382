"""Skill names: normalisation, known aliases, and suggestions from entry text.

The vocabulary is data (apps/worklog/data/skills.json): canonical names with their aliases. A skill typed
as "js", "Javascript " or "JS" is stored once, as "JavaScript".
"""

import json
import re
from functools import cache
from pathlib import Path

VOCABULARY_FILE = Path(__file__).parent / "data" / "skills.json"
MAX_SKILL_LENGTH = 80
_SPACES = re.compile(r"\s+")
_WORDS = re.compile(r"[A-Za-z0-9][A-Za-z0-9+#./-]*")


@cache
def vocabulary() -> dict[str, str]:
    """alias key -> canonical name, canonical names included."""
    entries = json.loads(VOCABULARY_FILE.read_text(encoding="utf-8"))
    table: dict[str, str] = {}
    for canonical, aliases in entries.items():
        for name in [canonical, *aliases]:
            table[skill_key(name)] = canonical
    return table


def skill_key(name: str) -> str:
    """The identity of a skill: case-folded with single spaces."""
    return _SPACES.sub(" ", name).strip().casefold()


def skill_normalise(name: str) -> tuple[str, str]:
    """(display name, key) for a typed skill. Known aliases map to their canonical name."""
    cleaned = _SPACES.sub(" ", name).strip()[:MAX_SKILL_LENGTH]
    canonical = vocabulary().get(skill_key(cleaned))
    display = canonical or cleaned
    return display, skill_key(display)


def skill_suggest(text: str, *, limit: int = 8) -> list[str]:
    """Canonical skills the text mentions, in order of first mention (one-, two- and three-word phrases)."""
    table = vocabulary()
    words = _WORDS.findall(text)
    found: list[str] = []
    for size in (3, 2, 1):
        for start in range(len(words) - size + 1):
            phrase = " ".join(words[start : start + size]).rstrip(".,")
            canonical = table.get(skill_key(phrase))
            if canonical and canonical not in found:
                found.append(canonical)
    order = {name: text.casefold().find(name.casefold()) for name in found}
    return sorted(found, key=lambda name: (order[name] < 0, order[name]))[:limit]


def skill_complete(prefix: str, *, limit: int = 8) -> list[str]:
    """Canonical vocabulary skills whose name or alias starts with `prefix`, for type-ahead."""
    key = skill_key(prefix)
    if not key:
        return []
    found: list[str] = []
    for alias, canonical in vocabulary().items():
        if alias.startswith(key) and canonical not in found:
            found.append(canonical)
    return sorted(found, key=lambda name: (not skill_key(name).startswith(key), len(name), name))[:limit]
