"""The builtin enhancer: offline, deterministic, and honest. It rearranges the entry's own words.

What it does, from nothing but the entry:
- the title leads with the action ("I fixed the build" -> "Fixed the build"; a title without a verb takes
  the body's first action sentence that shares its words);
- the details become "Situation / What I did / Result", each made of the entry's own sentences, sorted by
  simple cues (results carry numbers or words like "reduced" or "now"; situations say what was wrong);
- an empty impact gets the body's result sentences;
- the first measurable result it finds moves into the metric fields: a before -> after pair ("from 40 to
  12 minutes"), a percentage, a money amount, or a count with its unit;
- skills are proposed from the vocabulary (`skill_suggest`), leaving out the entry's own.

It never writes a number, name or date the entry does not have: each field is checked with the
fabrication guard and falls back to the entry's text if the check finds anything.
"""

import re
from decimal import Decimal, InvalidOperation

from apps.assist.drafts import LIMITS, METRIC_LIMIT, EntrySnapshot, draft_as_json
from apps.llm.claims import claim_flags
from apps.worklog.skills import skill_normalise, skill_suggest

SECTION_LABELS = ("Situation", "What I did", "Result")
_LABEL_LINE = re.compile(
    r"^\s*(?:\*\*)?\s*(?:situation|what i did|result|action|task|context)\s*:?\s*(?:\*\*)?\s*:?\s*", re.I
)
_BULLET = re.compile(r"^\s*(?:[-*\u2022+]|\d{1,3}[.)])\s+")
_HEADING = re.compile(r"^\s*#{1,6}\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "mr.", "mrs.", "ms.", "dr.", "approx.", "incl.")
_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_SCALES = {
    "k": 10**3,
    "thousand": 10**3,
    "m": 10**6,
    "million": 10**6,
    "bn": 10**9,
    "b": 10**9,
    "billion": 10**9,
}
_CURRENCY_WORDS = {"$": "dollars", "€": "euros", "£": "pounds"}
_STOP = {
    "a", "an", "the", "and", "or", "to", "for", "in", "on", "with", "by", "of", "at", "which", "so", "that",
    "than", "from", "this", "it", "is", "was", "were", "are", "be", "as", "after", "before", "into", "per",
}  # fmt: skip
_UNIT_WORD = r"[A-Za-z][A-Za-z/-]*"
_PAIR = re.compile(
    rf"\bfrom\s+(?P<before>{_NUM})\s*(?P<unit_before>%|{_UNIT_WORD}(?:\s+(?:per|a)\s+{_UNIT_WORD})?)?\s+"
    rf"(?:down\s+|up\s+)?to\s+(?P<after>{_NUM})\s*(?P<unit>%|{_UNIT_WORD}(?:\s+(?:per|a)\s+{_UNIT_WORD})?)?",
    re.I,
)
_ARROW = re.compile(
    rf"(?P<before>{_NUM})\s*(?P<unit_before>%|{_UNIT_WORD})?\s*(?:->|\u2192|=>|\u27f6)\s*"
    rf"(?P<after>{_NUM})\s*(?P<unit>%|{_UNIT_WORD}(?:\s+(?:per|a)\s+{_UNIT_WORD})?)?",
)
_PERCENT = re.compile(rf"(?<![\w.,])(?P<value>{_NUM})\s?(?:%|percent\b|per cent\b)", re.I)
_MONEY = re.compile(
    rf"(?P<cur>[$€£])\s?(?P<value>{_NUM})\s?(?P<scale>k|m|bn|b|thousand|million|billion)?\b"
    r"(?:\s+(?P<per>(?:a|per)\s+(?:year|month|week|day|quarter)))?",
    re.I,
)
_COUNT = re.compile(
    rf"(?<![\w.,$€£/:-])(?P<value>{_NUM})(?:\s?(?P<scale>k|thousand|million|billion)\b)?\s+"
    rf"(?P<unit>{_UNIT_WORD}(?:\s+(?:per|a)\s+{_UNIT_WORD})?)",
    re.I,
)
_YEAR = re.compile(r"^(?:19|20)\d{2}$")

RESULT_WORDS = re.compile(
    r"\b(?:reduc\w*|cut|saved?|saving\w*|improv\w*|increas\w*|decreas\w*|grew|grown|growth|dropp\w*|fell|rose|"
    r"halved|doubled|tripled|faster|quicker|slower|fewer|less|lower|higher|now|no longer|result\w*|so that|"
    r"which meant|meaning|down to|up to|freed|unblock\w*|won|launched|shipped|adopted|went from)\b",
    re.I,
)
SITUATION_WORDS = re.compile(
    r"\b(?:was|were|had been|kept|used to|because|since|problem\w*|issue\w*|slow|flaky|broken|fail\w*|"
    r"manual\w*|painful|couldn'?t|could not|wasn'?t|weren'?t|didn'?t|nobody|no one|every time|complain\w*|"
    r"needed|required|risk\w*|outage\w*|incident\w*|backlog|bottleneck\w*|blocked|stuck|error\w*|bug\w*)\b",
    re.I,
)
IRREGULAR_ACTIONS = {
    "built", "wrote", "rewrote", "led", "ran", "made", "set", "drove", "brought", "found", "began", "chose",
    "taught", "sold", "won", "gave", "held", "met", "put", "rebuilt", "split", "cut", "paired", "spun",
    "took", "got", "shut", "sped", "dug", "fought", "undertook", "oversaw", "saw", "spoke", "thought",
    "went", "did",
}  # fmt: skip
BASE_ACTIONS = {
    "fix", "build", "ship", "migrate", "lead", "launch", "add", "cut", "reduce", "improve", "automate",
    "design", "write", "create", "run", "move", "rewrite", "refactor", "implement", "deploy", "speed",
    "introduce", "replace", "remove", "set", "mentor", "review", "plan", "organise", "organize", "document",
    "test", "debug", "investigate", "upgrade", "onboard", "hire", "negotiate", "present", "publish",
    "release",
}  # fmt: skip
_SUBJECTS = re.compile(r"^(?:I|We|i|we)\s+(?=[a-z])")


# --------------------------------------------------------------------- sentences


def sentences(text: str) -> list[str]:
    """The sentences of a text, without bullets, headings or the section labels this enhancer writes."""
    found: list[str] = []
    for raw_line in (text or "").splitlines():
        line = _HEADING.sub("", _BULLET.sub("", raw_line))
        line = _LABEL_LINE.sub("", line).strip()
        if not line:
            continue
        pending = ""
        for piece in _SENTENCE_END.split(line):
            pending = f"{pending} {piece}".strip() if pending else piece.strip()
            if pending and not pending.lower().endswith(_ABBREVIATIONS):
                found.append(pending)
                pending = ""
        if pending:
            found.append(pending)
    return found


def _first_word(sentence: str) -> str:
    match = re.match(r"[A-Za-z']+", _SUBJECTS.sub("", sentence))
    return match.group(0).lower() if match else ""


def is_action(sentence: str) -> bool:
    word = _first_word(sentence)
    if not word:
        return False
    if word in IRREGULAR_ACTIONS or word in BASE_ACTIONS:
        return True
    return len(word) > 4 and word.endswith("ed") and word not in {"needed", "used", "seemed", "wanted"}


def _has_measure(sentence: str) -> bool:
    return bool(
        _PAIR.search(sentence)
        or _ARROW.search(sentence)
        or _PERCENT.search(sentence)
        or _MONEY.search(sentence)
    )


def classify(sentence: str) -> str:
    """ "result", "situation" or "action" for one sentence of the entry."""
    if _has_measure(sentence):
        return "result"
    if is_action(sentence) and not re.search(r"\b(?:now|so that|which meant|no longer)\b", sentence, re.I):
        return "action"
    if RESULT_WORDS.search(sentence) and not SITUATION_WORDS.search(sentence):
        return "result"
    if SITUATION_WORDS.search(sentence):
        return "situation"
    return "action"


def _as_sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _action_first(text: str) -> str:
    """ "I fixed the build." -> "Fixed the build." (only when a verb follows the subject)."""
    stripped = _SUBJECTS.sub("", text, count=1)
    if stripped != text and is_action(stripped):
        return stripped[:1].upper() + stripped[1:]
    return text


# ------------------------------------------------------------------------- title


def _content_words(text: str) -> set[str]:
    return {word.lower() for word in re.findall(r"[A-Za-z][A-Za-z0-9+#.-]{2,}", text)} - _STOP


def improve_title(title: str, action_sentences: list[str]) -> str:
    cleaned = title.strip().rstrip(".").strip()
    cleaned = _action_first(cleaned)
    if is_action(cleaned):
        return cleaned[:1].upper() + cleaned[1:]
    words = _content_words(cleaned)
    candidates = [_action_first(sentence).rstrip(".!").strip() for sentence in action_sentences]
    candidates = [text for text in candidates if is_action(text) and len(text) <= 120]
    # Prefer the action that shares the title's words; otherwise the first action makes the better title.
    candidates.sort(key=lambda text: not (words & _content_words(text)))
    if candidates:
        return candidates[0][:1].upper() + candidates[0][1:]
    return cleaned[:1].upper() + cleaned[1:] if cleaned else title


# ----------------------------------------------------------------------- metrics


def _decimal(number: str, scale: str | None = None) -> Decimal | None:
    try:
        value = Decimal(number.replace(",", ""))
    except InvalidOperation:
        return None
    if scale:
        value *= _SCALES.get(scale.lower(), 1)
    return value if abs(value) < METRIC_LIMIT else None


def _unit(text: str | None) -> str:
    if not text:
        return ""
    words = text.split()
    if words and words[0].lower() in _STOP:
        return ""
    if len(words) >= 3 and words[1].lower() in ("per", "a") and words[2].lower() not in _STOP:
        unit = " ".join(words[:3])
    else:
        unit = words[0] if words else ""
    return unit[: LIMITS["metric_unit"]].rstrip(".,;:")


def find_metric(texts: list[str], *, count_texts: list[str] | None = None) -> dict:
    """The first measurable result in the texts: before/after pair, percentage, money, then a count.

    A plain count ("2,000 users") is only taken from `count_texts` (the result sentences) when given, so a
    duration of the work itself ("for 3 months") does not pass for its result.
    """
    joined = "\n".join(texts)
    for pattern in (_PAIR, _ARROW):
        match = pattern.search(joined)
        if match:
            before, after = _decimal(match.group("before")), _decimal(match.group("after"))
            unit = _unit(match.group("unit")) or _unit(match.group("unit_before"))
            if before is not None and after is not None:
                return {
                    "metric_value": after,
                    "metric_unit": unit,
                    "metric_before": before,
                    "metric_after": after,
                }
    match = _PERCENT.search(joined)
    if match and (value := _decimal(match.group("value"))) is not None:
        return {"metric_value": value, "metric_unit": "%"}
    match = _MONEY.search(joined)
    if match and (value := _decimal(match.group("value"), match.group("scale"))) is not None:
        unit = _CURRENCY_WORDS[match.group("cur")]
        if match.group("per"):
            unit = f"{unit} {match.group('per').lower()}"
        return {"metric_value": value, "metric_unit": unit}
    for match in _COUNT.finditer("\n".join(texts if count_texts is None else count_texts)):
        unit = _unit(match.group("unit"))
        if not unit or _YEAR.match(match.group("value")):
            continue
        value = _decimal(match.group("value"), match.group("scale"))
        if value is not None:
            return {"metric_value": value, "metric_unit": unit}
    return {}


# ------------------------------------------------------------------------ draft


def _structured_body(situation: list[str], actions: list[str], results: list[str]) -> str:
    parts = []
    if situation:
        parts.append("**Situation:** " + " ".join(_as_sentence(s) for s in situation))
    if actions:
        parts.append("**What I did:**\n" + "\n".join(f"- {_as_sentence(_action_first(s))}" for s in actions))
    if results:
        parts.append("**Result:** " + " ".join(_as_sentence(s) for s in results))
    return "\n\n".join(parts)


def builtin_draft(snapshot: EntrySnapshot) -> dict:
    """A draft in the shape of DRAFT_SCHEMA (JSON-safe), from the entry's own words only."""
    body_sentences = sentences(snapshot.body)
    kinds = {sentence: classify(sentence) for sentence in body_sentences}
    situation = [s for s in body_sentences if kinds[s] == "situation"]
    actions = [s for s in body_sentences if kinds[s] == "action"]
    results = [s for s in body_sentences if kinds[s] == "result"]

    title = improve_title(snapshot.title, actions)
    body = snapshot.body
    if len(body_sentences) >= 2 and sum(bool(group) for group in (situation, actions, results)) >= 2:
        body = _structured_body(situation, actions, results)
    impact = snapshot.impact
    if not impact.strip() and results:
        impact = " ".join(_as_sentence(s) for s in results)[: LIMITS["impact"]]

    draft = {
        "title": title[: LIMITS["title"]],
        "body": body[: LIMITS["body"]],
        "impact": impact,
        "metric_value": snapshot.metric_value,
        "metric_unit": snapshot.metric_unit,
        "metric_before": snapshot.metric_before,
        "metric_after": snapshot.metric_after,
    }
    if snapshot.metric_value is None:
        texts = [snapshot.title, snapshot.impact, snapshot.body]
        draft.update(find_metric(texts, count_texts=[snapshot.impact, *results]))

    # The guard, as a safety net: a field that would bring in anything new keeps the entry's own text.
    source = snapshot.source_texts()
    for name in ("title", "body", "impact"):
        if claim_flags(draft[name], source):
            draft[name] = getattr(snapshot, name)

    own = {skill_normalise(name)[1] for name in snapshot.skills}
    text = "\n".join([snapshot.title, snapshot.body, snapshot.impact])
    draft["skills"] = [name for name in skill_suggest(text) if skill_normalise(name)[1] not in own]
    return draft_as_json(draft)
