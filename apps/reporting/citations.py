"""Citations and the fabrication check, and the confidentiality re-check at render time.

A bullet stands on the entries it cites. Cited ids that are not among the report's entries (unknown,
deleted, another workspace's, or confidential in a shareable report) are removed and the bullet is
flagged; a bullet left citing nothing is flagged too. Every number, percentage, money amount, date and
proper name in a bullet must appear in the entries it cites (apps/llm/claims.py), or it is flagged
"not in the cited entries".
"""

import re
from collections.abc import Iterable

from django.utils.text import slugify

from apps.llm.claims import claim_flags
from apps.reporting.sources import source_text
from apps.worklog import selectors as worklog_selectors

REASON_NOT_IN_SOURCES = "not in the cited entries"
REASON_BAD_CITATION = "cited an entry that is not among this report's entries; the citation was removed"
REASON_NO_CITATION = "cites no entry"
MAX_BULLET_CHARS = 1200
MAX_SECTIONS = 60
MAX_BULLETS_PER_SECTION = 200

_MARKER = re.compile(r"\s*\[E(\d{1,12})\](?:\([^)\s]*\))?")
_ID = re.compile(r"^\s*E?(\d{1,12})\s*$", re.IGNORECASE)


class ModelFormatError(ValueError):
    """The model's answer does not have the sections -> bullets shape."""


def _citation_ids(value) -> list[int]:
    ids: list[int] = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, bool):
            continue
        if isinstance(item, int):
            ids.append(item)
        elif isinstance(item, str) and (match := _ID.match(item)):
            ids.append(int(match.group(1)))
    return ids


def split_markers(text: str) -> tuple[str, list[int]]:
    """("text without [E12] markers", [12, ...]) — markers the model or the person wrote inline."""
    ids = [int(match.group(1)) for match in _MARKER.finditer(text)]
    cleaned = _MARKER.sub("", text)
    return " ".join(cleaned.split()), ids


def sections_from_data(data, *, expected: list[dict] | None = None) -> list[dict]:
    """The model's JSON as our sections: [{"key", "title", "enabled", "bullets": [{"text", "citations"}]}].

    Titles are matched to the expected sections (by key or title, ignoring case) so the person's names and
    order win; sections the model added keep their own title. Raises ModelFormatError on another shape.
    """
    raw_sections = data.get("sections") if isinstance(data, dict) else None
    if not isinstance(raw_sections, list):
        raise ModelFormatError("The answer has no list of sections.")
    by_name = {}
    for spec in expected or []:
        by_name[spec["key"].lower()] = spec
        by_name[spec["title"].lower()] = spec
    sections: list[dict] = []
    used_keys: set[str] = set()
    for raw in raw_sections[:MAX_SECTIONS]:
        if not isinstance(raw, dict):
            raise ModelFormatError("A section is not an object.")
        title = " ".join(str(raw.get("title") or "").split())[:200]
        bullets = raw.get("bullets")
        if not isinstance(bullets, list):
            raise ModelFormatError("A section has no list of bullets.")
        spec = by_name.get(str(raw.get("key") or "").lower()) or by_name.get(title.lower())
        key = spec["key"] if spec else (slugify(title)[:60] or "section")
        while key in used_keys:
            key = f"{key}-2"
        used_keys.add(key)
        section = {"key": key, "title": spec["title"] if spec else title or "Section", "enabled": True}
        if spec:
            section.update({name: value for name, value in spec.items() if name not in ("bullets",)})
        section["bullets"] = []
        for item in bullets[:MAX_BULLETS_PER_SECTION]:
            if isinstance(item, str):
                text, citations = item, []
            elif isinstance(item, dict):
                text, citations = str(item.get("text") or ""), _citation_ids(item.get("citations"))
            else:
                raise ModelFormatError("A bullet is neither text nor an object.")
            text, inline = split_markers(text)
            if text:
                section["bullets"].append({"text": text[:MAX_BULLET_CHARS], "citations": citations + inline})
        sections.append(section)
    if expected:
        order = {spec["key"]: index for index, spec in enumerate(expected)}
        sections.sort(key=lambda section: order.get(section["key"], len(order)))
        present = {section["key"] for section in sections}
        sections += [{**spec, "bullets": []} for spec in expected if spec["key"] not in present]
    return sections


def cited_ids(sections: Iterable[dict]) -> set[int]:
    return {
        int(pk)
        for section in sections
        for item in section.get("bullets", [])
        for pk in item.get("citations", [])
    }


def bullets_check(
    sections: list[dict], *, tenant, allowed: set[int], facts: dict[int, dict] | None = None
) -> list[dict]:
    """Check each bullet's citations and claims: the sections with `citations` cleaned and `flags` set.

    `allowed` is the set of entry ids this report may cite (its selected entries). `facts` may be given
    (rows by id) to save the lookup; ids missing from it are treated as gone.
    """
    if facts is None:
        inline = {
            pk
            for s in sections
            for item in s.get("bullets", [])
            for pk in split_markers(str(item.get("text") or ""))[1]
        }
        facts = worklog_selectors.entry_report_facts(
            tenant=tenant, ids=(cited_ids(sections) | inline) & allowed
        )
    checked = []
    for section in sections:
        bullets = []
        for item in section.get("bullets", []):
            text, inline = split_markers(str(item.get("text") or ""))
            if not text:
                continue
            wanted = list(dict.fromkeys([*(int(pk) for pk in item.get("citations", [])), *inline]))
            good = [pk for pk in wanted if pk in allowed and pk in facts]
            flags = [{"text": f"E{pk}", "reason": REASON_BAD_CITATION} for pk in wanted if pk not in good]
            if not good:
                flags.append({"text": "", "reason": REASON_NO_CITATION})
            else:
                flags += claims_unsupported(text, [facts[pk] for pk in good])
            bullets.append({"text": text, "citations": good, "flags": flags})
        checked.append({**section, "bullets": bullets})
    return checked


_DANGLING = re.compile(
    r"\b(?:by|to|from|of|in|on|at|with|about|around|over|under|than|nearly|almost|roughly|up|down|some)\s*$",
    re.IGNORECASE,
)


def claims_unsupported(text: str, rows: list[dict]) -> list[dict]:
    """The claims of `text` that none of `rows` (the cited entries) supports, as flags.

    Checked against the entries' short form first (title, impact, result, names, dates: cheap), and only
    when something is missing there against their whole text, bodies included. Same answer, less work.
    """
    if not claim_flags(text, [source_text(row, with_body=False) for row in rows]):
        return []
    return claim_flags(text, [source_text(row) for row in rows], reason=REASON_NOT_IN_SOURCES)


def claim_remove(text: str, claim: str) -> str:
    """The bullet without the flagged claim, and the little words that led up to it ("by 30%")."""
    if not claim or claim not in text:
        return text
    start = text.index(claim)
    before, after = text[:start].rstrip(), text[start + len(claim) :]
    for _ in range(2):
        before = _DANGLING.sub("", before).rstrip()
    result = f"{before} {after.lstrip()}" if after.strip() and after[:1] not in ",.;:)" else before + after
    result = re.sub(r"\(\s*\)", "", result)
    result = re.sub(r"\s+([,.;:)])", r"\1", result)
    result = re.sub(r"([,;:])\s*([,;:.)]|$)", r"\2", result)
    return " ".join(result.split()).strip(" ,;:") or text


# ------------------------------------------------------------------ shared copies


class ShareFilter:
    """What may appear in a copy that leaves the workspace (exports and the share link of a shareable report).

    Built once per render: the cited entries as they are now, and the workspace's confidential entries. A
    bullet is withheld when it cites an entry that is now confidential or gone, names a confidential
    entry's title, or claims something its cited entries do not say that a confidential entry does.
    """

    def __init__(self, *, tenant, sections: list[dict], facts: dict | None = None):
        # `facts`: the caller's own entry_report_facts of these sections' citations, when it has them.
        self.facts = (
            facts
            if facts is not None
            else worklog_selectors.entry_report_facts(tenant=tenant, ids=cited_ids(sections))
        )
        self.secret_titles: list[str] = []
        self.secret_texts: list[str] = []
        for row in worklog_selectors.entry_report_rows(tenant=tenant, confidential=True):
            title = " ".join(row["title"].split()).casefold()
            if len(title) >= 4:
                self.secret_titles.append(title)
            self.secret_texts.append(source_text(row).casefold())

    def text_is_secret(self, text: str) -> bool:
        folded = " ".join(text.split()).casefold()
        return any(title in folded for title in self.secret_titles)

    def bullet_allowed(self, item: dict) -> bool:
        citations = item.get("citations") or []
        if not citations:
            return False
        if any(pk not in self.facts or self.facts[pk]["confidential"] for pk in citations):
            return False
        if self.text_is_secret(item["text"]):
            return False
        sources = [source_text(self.facts[pk]) for pk in citations]
        for flag in claim_flags(item["text"], sources):
            needle = flag["text"].casefold()
            if any(needle in text for text in self.secret_texts):
                return False
        return True

    def sections(self, sections: list[dict]) -> tuple[list[dict], int]:
        """(the sections with only the bullets allowed out, how many bullets were withheld)."""
        withheld = 0
        result = []
        for section in sections:
            kept = [item for item in section.get("bullets", []) if self.bullet_allowed(item)]
            withheld += len(section.get("bullets", [])) - len(kept)
            title = section["title"]
            if self.text_is_secret(title):
                title = "Section"
            result.append({**section, "title": title, "bullets": kept})
        return result, withheld


# ------------------------------------------------------------------ the editor

_BULLET_LINE = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+(?P<text>.*)$")


def section_markdown(section: dict) -> str:
    """A section's bullets as the editor shows them: one "- text [E12]" line each."""
    lines = []
    for item in section.get("bullets", []):
        cites = " ".join(f"[E{pk}]" for pk in item.get("citations", []))
        lines.append(f"- {item['text']}{' ' + cites if cites else ''}")
    return "\n".join(lines)


def bullets_from_markdown(text: str) -> list[dict]:
    """The editor's Markdown back as bullets: each list item (or paragraph) is one; [E12] markers cite."""
    bullets: list[dict] = []
    current: list[str] = []

    def close():
        if current:
            joined, ids = split_markers(" ".join(current))
            if joined:
                bullets.append({"text": joined[:MAX_BULLET_CHARS], "citations": ids})
            current.clear()

    for line in (text or "").splitlines():
        match = _BULLET_LINE.match(line)
        if match:
            close()
            current.append(match.group("text"))
        elif not line.strip():
            close()
        else:
            current.append(line.strip().lstrip("#> "))
    close()
    return bullets[:MAX_BULLETS_PER_SECTION]
