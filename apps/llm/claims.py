"""The fabrication guard: what a proposed text claims that its source does not say.

Pure text functions (no Django, no model): a feature asks `claim_flags(proposed, source)` and gets back
`[{"text": ..., "reason": "not in your entry"}]` for every number, percentage, money amount, date, link and
proper name in `proposed` that the source does not contain. Reports reuse it for their bullets.

What counts as "the same":
- numbers are compared by value: "2,000" = "2000" = "2k"; "1.50" = "1.5"; "3" = "three" (number words are
  read in the source only, so "one of the" in a proposal is never a claim);
- percentages by value and kind: "40 %" = "40%" = "40 percent", but "40%" is not supported by "40 users";
- money by value: "$2M" = "2 million dollars" = "$2,000,000"; a money amount is also supported by the same
  value written without a currency ("2 million"), but not by the same value in another currency;
- dates by what they name: "2024-03-01" supports "March 2024", "March", "2024" and "Q1"; "March 2024" does
  not support "March 1, 2024" (the day is new);
- proper names (capitalised words not at the start of a sentence, words with inner capitals such as
  "PostgreSQL", acronyms such as "AWS") when each of their words appears in the source, in any case.

Known limit: a plain capitalised word at the very start of a sentence is not taken for a name ("Globex
signed the deal."), because without a dictionary it cannot be told from an ordinary first word.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

REASON = "not in your entry"

_NUM = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
_SCALE_WORDS = {
    "thousand": 10**3,
    "k": 10**3,
    "m": 10**6,
    "mm": 10**6,
    "mn": 10**6,
    "million": 10**6,
    "b": 10**9,
    "bn": 10**9,
    "billion": 10**9,
    "t": 10**12,
    "tn": 10**12,
    "trillion": 10**12,
}
_MONEY_SCALE = r"(?:thousand|million|billion|trillion|mm|mn|bn|tn|k|m|b|t)"
_PLAIN_SCALE = r"(?:thousand|million|billion|trillion|bn|k|K|M|B)"
_CURRENCY_SYMBOLS = {"$": "USD", "us$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR"}
_CURRENCY_WORDS = {
    "usd": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "bucks": "USD",
    "eur": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "gbp": "GBP",
    "pound": "GBP",
    "pounds": "GBP",
    "cad": "CAD",
    "aud": "AUD",
    "chf": "CHF",
    "jpy": "JPY",
    "yen": "JPY",
    "inr": "INR",
    "rupees": "INR",
}
_PREFIX_CURRENCY = r"(?:US\$|[$€£¥₹]|USD|EUR|GBP|CAD|AUD|CHF|JPY|INR)"
_SUFFIX_CURRENCY = r"(?:USD|EUR|GBP|CAD|AUD|CHF|JPY|INR|dollars?|euros?|pounds?|bucks|yen|rupees)"

_MONEY_BEFORE = re.compile(
    rf"(?<![\w$€£¥₹])(?P<cur>{_PREFIX_CURRENCY})\s?(?P<num>{_NUM})(?:\s?(?P<scale>{_MONEY_SCALE})\b)?",
    re.IGNORECASE,
)
_MONEY_AFTER = re.compile(
    rf"(?<![\w.,])(?P<num>{_NUM})(?:\s?(?P<scale>{_MONEY_SCALE}))?\s?(?P<cur>{_SUFFIX_CURRENCY})\b",
    re.IGNORECASE,
)
_PERCENT = re.compile(rf"(?<![\w.,])[+-]?(?P<num>{_NUM})\s?(?:%|percent\b|per\s?cent\b|pct\b)", re.IGNORECASE)
_URL = re.compile(r"\bhttps?://[^\s<>()\"']+|\bwww\.[^\s<>()\"']+", re.IGNORECASE)
_LIST_MARKER = re.compile(r"^[ \t]*\d{1,3}[.)][ \t]+", re.MULTILINE)

_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9,
    "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}  # fmt: skip
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)(?![a-z])\.?"
)
_ORD = r"(?:st|nd|rd|th)?"
_DATE_ISO = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})-(?P<m>0?[1-9]|1[0-2])(?:-(?P<d>0?[1-9]|[12]\d|3[01]))?(?!\d)"
)
_DATE_SLASH = re.compile(r"(?<!\d)(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>(?:19|20)\d{2})(?!\d)")
_DATE_MONTH_FIRST = re.compile(
    rf"\b(?P<mon>{_MONTH})(?:\s+(?P<d>[12]\d|3[01]|0?[1-9]){_ORD}\b)?(?:,?\s+(?P<y>(?:19|20)\d{{2}})\b)?"
)
_DATE_DAY_FIRST = re.compile(
    rf"\b(?P<d>[12]\d|3[01]|0?[1-9]){_ORD}\s+(?:of\s+)?(?P<mon>{_MONTH})(?:,?\s+(?P<y>(?:19|20)\d{{2}})\b)?"
)
_QUARTER = re.compile(r"\b(?P<q>[QH])(?P<n>[1-4])(?:\s*(?:FY\s?)?'?(?P<y>(?:19|20)\d{2}|\d{2}))?\b")
_FISCAL_YEAR = re.compile(r"\bFY\s?'?(?P<y>(?:19|20)\d{2}|\d{2})\b")
_YEAR = re.compile(r"(?<![\w.,$€£])(?P<y>(?:19|20)\d{2})(?![\w%])")
_NUMBER = re.compile(
    rf"(?<![\w.,])[+-]?(?P<num>{_NUM})(?:\s?(?P<scale>{_PLAIN_SCALE})\b|(?P<unit>[A-Za-z]{{1,3}})\b)?"
)

_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
    "thousand": 1000, "dozen": 12, "half": Decimal("0.5"), "double": 2, "twice": 2, "triple": 3,
    "tripled": 3, "doubled": 2, "halved": Decimal("0.5"), "quarter": Decimal("0.25"),
}  # fmt: skip

# Words that are capitalised without being names of anything the person did not write.
_COMMON = """
    i i'm i've i'd i'll ok okay mr mrs ms dr prof st etc eg ie vs
    monday tuesday wednesday thursday friday saturday sunday
    january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec
    ai api apis ui ux ci cd pr prs qa kpi kpis roi sla slas slo slos sli okr okrs mvp eta faq id ids url urls
    tl dr n/a asap fyi
    situation action actions result results impact what why how task summary note notes context outcome
"""
COMMON_WORDS = frozenset(_COMMON.split())
_CONNECTORS = frozenset({"of", "&", "de", "la", "van", "von", "der", "du"})
_WORD = re.compile(r"[^\W\d_](?:[\w'\u2019&+#/-]*[\w+#])?(?:\.[^\W\d_][\w+#]*)*")
_SENTENCE_END = set(".!?:;")
_SKIP_BACK = set(" \t*_#>-\u2022\"\u201c\u201d\u2018\u2019'([`|=")


@dataclass(frozen=True)
class Claim:
    """Something a text states: a number, percentage, money amount, date, link or proper name."""

    kind: str
    text: str
    start: int
    end: int
    value: Decimal | None = None
    currency: str | None = None
    keys: frozenset = frozenset()  # what the source must have (any of them, for dates)
    supports: frozenset = frozenset()  # what this claim, found in a source, vouches for (dates)


# ------------------------------------------------------------------ numbers


def _value(number: str, scale: str | None = None) -> Decimal | None:
    try:
        value = Decimal(number.replace(",", ""))
    except InvalidOperation:
        return None
    if scale:
        value *= _SCALE_WORDS.get(scale.lower(), 1)
    return value


def value_key(value: Decimal) -> str:
    """A canonical spelling of a number: 2000 for "2,000", "2k" or "2000.00"."""
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _currency(text: str) -> str:
    lowered = text.lower()
    return _CURRENCY_SYMBOLS.get(lowered) or _CURRENCY_WORDS.get(lowered) or text.upper()


# -------------------------------------------------------------------- dates


def _two_digit_year(text: str) -> int:
    year = int(text)
    return year + 2000 if year < 100 else year


def _quarter_of(month: int) -> int:
    return (month - 1) // 3 + 1


def _date_keys(year: int | None, month: int | None, day: int | None) -> tuple[str, frozenset]:
    """(the key of what the date names, every key it supports)."""
    keys: set[str] = set()
    if year is not None:
        keys.add(f"y{year}")
    if month is not None:
        quarter, half = _quarter_of(month), 1 if month <= 6 else 2
        keys |= {f"m{month:02d}", f"Q{quarter}", f"H{half}"}
        if year is not None:
            keys |= {f"{year}-{month:02d}", f"{year}-Q{quarter}", f"{year}-H{half}"}
        if day is not None:
            keys.add(f"m{month:02d}-{day:02d}")
            if year is not None:
                keys.add(f"{year}-{month:02d}-{day:02d}")
    if year is not None and month is not None and day is not None:
        own = f"{year}-{month:02d}-{day:02d}"
    elif month is not None and day is not None:
        own = f"m{month:02d}-{day:02d}"
    elif year is not None and month is not None:
        own = f"{year}-{month:02d}"
    elif month is not None:
        own = f"m{month:02d}"
    else:
        own = f"y{year}"
    return own, frozenset(keys)


def _month_number(text: str) -> int:
    return _MONTHS[text.rstrip(".").lower()]


# ------------------------------------------------------------------- finding


class _Finder:
    """Finds claims left to right by kind, most specific first; a character belongs to one claim."""

    def __init__(self, text: str):
        self.text = text
        self.taken = [False] * len(text)
        self.claims: list[Claim] = []
        for match in _LIST_MARKER.finditer(text):
            self._take(match.start(), match.end())

    def _free(self, start: int, end: int) -> bool:
        return not any(self.taken[start:end])

    def _take(self, start: int, end: int) -> None:
        for index in range(start, end):
            self.taken[index] = True

    def add(self, claim: Claim) -> None:
        self.claims.append(claim)
        self._take(claim.start, claim.end)

    def matches(self, pattern: re.Pattern):
        for match in pattern.finditer(self.text):
            if self._free(match.start(), match.end()):
                yield match

    def find(self) -> list[Claim]:
        self._links()
        self._money()
        self._percentages()
        self._dates()
        self._numbers()
        self._names()
        return sorted(self.claims, key=lambda claim: claim.start)

    def _links(self) -> None:
        for match in self.matches(_URL):
            url = match.group(0).rstrip(".,;:!?")
            keys = frozenset({url.lower()})
            self.add(Claim("link", url, match.start(), match.start() + len(url), keys=keys))

    def _money(self) -> None:
        for pattern in (_MONEY_BEFORE, _MONEY_AFTER):
            for match in self.matches(pattern):
                value = _value(match.group("num"), match.group("scale"))
                if value is None:
                    continue
                self.add(
                    Claim(
                        "money",
                        match.group(0).strip(),
                        match.start(),
                        match.end(),
                        value=value,
                        currency=_currency(match.group("cur")),
                    )
                )

    def _percentages(self) -> None:
        for match in self.matches(_PERCENT):
            value = _value(match.group("num"))
            if value is not None:
                self.add(Claim("percent", match.group(0), match.start(), match.end(), value=value))

    def _date(self, match: re.Match, owns: set[str], supports: set[str]) -> None:
        text = match.group(0).strip()
        end = match.start() + len(match.group(0).rstrip())
        claim = Claim("date", text, match.start(), end, keys=frozenset(owns), supports=frozenset(supports))
        self.add(claim)

    def _calendar_date(self, match: re.Match, year, month, day) -> None:
        own, supports = _date_keys(year, month, day)
        self._date(match, {own}, supports | {own})

    def _dates(self) -> None:
        for match in self.matches(_DATE_ISO):
            day = int(match.group("d")) if match.group("d") else None
            self._calendar_date(match, int(match.group("y")), int(match.group("m")), day)
        for match in self.matches(_DATE_SLASH):
            first, second, year = int(match.group("a")), int(match.group("b")), int(match.group("y"))
            owns: set[str] = set()
            supports: set[str] = set()
            for month, day in ((first, second), (second, first)):  # month/day (US) or day/month
                if 1 <= month <= 12 and 1 <= day <= 31:
                    own, supported = _date_keys(year, month, day)
                    owns.add(own)
                    supports |= supported | {own}
            if owns:
                self._date(match, owns, supports)
        for pattern in (_DATE_DAY_FIRST, _DATE_MONTH_FIRST):
            for match in self.matches(pattern):
                year = int(match.group("y")) if match.group("y") else None
                day = int(match.group("d")) if match.group("d") else None
                self._calendar_date(match, year, _month_number(match.group("mon")), day)
        for match in self.matches(_QUARTER):
            kind, number = match.group("q"), int(match.group("n"))
            if kind == "H" and number > 2:
                continue
            own = f"{kind}{number}"
            supports = {own}
            if match.group("y"):
                year = _two_digit_year(match.group("y"))
                own = f"{year}-{own}"
                supports |= {own, f"y{year}"}
            self._date(match, {own}, supports)
        for match in self.matches(_FISCAL_YEAR):
            own = f"FY{_two_digit_year(match.group('y'))}"
            self._date(match, {own}, {own})
        for match in self.matches(_YEAR):
            # A bare year may be a count as well ("2000 users"): it keeps its value.
            own, supports = _date_keys(int(match.group("y")), None, None)
            text = match.group(0)
            self.add(
                Claim(
                    "date",
                    text,
                    match.start(),
                    match.end(),
                    value=Decimal(text),
                    keys=frozenset({own}),
                    supports=supports,
                )
            )

    def _numbers(self) -> None:
        for match in self.matches(_NUMBER):
            value = _value(match.group("num"), match.group("scale"))
            if value is None:
                continue
            end = match.end()
            self.add(Claim("number", self.text[match.start() : end].strip(), match.start(), end, value=value))

    def _sentence_start(self, start: int) -> bool:
        index = start - 1
        while index >= 0 and self.text[index] in _SKIP_BACK:
            index -= 1
        if index < 0 or self.text[index] in "\n\r":
            return True
        if self.text[index] in _SENTENCE_END:
            return True
        # A list marker such as "1." was taken; what follows it starts a sentence.
        return self.taken[index] and bool(re.match(r"\d", self.text[index]))

    def _name_like(self, word: str, start: int) -> bool:
        if not word[0].isupper():
            return False
        if _word_key(word) in COMMON_WORDS:
            return False
        inner_capitals = any(char.isupper() for char in word[1:])
        return inner_capitals or not self._sentence_start(start)

    def _names(self) -> None:
        words = [match for match in _WORD.finditer(self.text) if self._free(match.start(), match.end())]
        index = 0
        while index < len(words):
            match = words[index]
            if not self._name_like(match.group(0), match.start()):
                index += 1
                continue
            first = last = index
            probe = index + 1
            while probe < len(words):
                between = self.text[words[probe - 1].end() : words[probe].start()]
                if between.strip() not in ("", "&") or "\n" in between:
                    break
                candidate = words[probe]
                if self._name_like(candidate.group(0), candidate.start()):
                    last = probe
                    probe += 1
                elif candidate.group(0) in _CONNECTORS and probe + 1 < len(words):
                    probe += 1
                else:
                    break
            start, end = words[first].start(), words[last].end()
            phrase = self.text[start:end]
            keys = frozenset(_word_key(word) for word in _WORD.findall(phrase))
            self.add(Claim("name", phrase, start, end, keys=keys))
            index = last + 1


def _word_key(word: str) -> str:
    word = word.casefold().replace("\u2019", "'")
    for ending in ("'s", "s'"):
        if word.endswith(ending) and len(word) > len(ending) + 1:
            return word[: -len(ending)] if ending == "'s" else word[:-1]
    return word


def claims_find(text: str) -> list[Claim]:
    """Every claim in `text`, in order of appearance."""
    return _Finder(text or "").find()


# ----------------------------------------------------------------- checking


@dataclass
class _Source:
    values: set[str]
    percents: set[str]
    money: set[tuple[str | None, str]]
    date_keys: set[str]
    links: set[str]
    words: set[str]
    text: str


def _source(texts: Iterable[str]) -> _Source:
    text = "\n".join(part for part in texts if part)
    claims = claims_find(text)
    source = _Source(set(), set(), set(), set(), set(), set(), text.casefold())
    for claim in claims:
        if claim.kind in ("number", "percent", "money") and claim.value is not None:
            key = value_key(claim.value)
            source.values.add(key)
            if claim.kind == "percent":
                source.percents.add(key)
            if claim.kind == "money":
                source.money.add((claim.currency, key))
        elif claim.kind == "date":
            source.date_keys |= claim.supports
            if claim.value is not None:
                source.values.add(value_key(claim.value))
        elif claim.kind == "link":
            source.links |= claim.keys
    for word in _WORD.findall(text):
        key = _word_key(word)
        source.words.add(key)
        source.words.update(part for part in re.split(r"[-/.]", key) if part)
        if key in _NUMBER_WORDS:
            source.values.add(value_key(Decimal(_NUMBER_WORDS[key])))
    return source


def _supported(claim: Claim, source: _Source) -> bool:
    if claim.kind == "number":
        return value_key(claim.value) in source.values
    if claim.kind == "percent":
        return value_key(claim.value) in source.percents
    if claim.kind == "money":
        key = value_key(claim.value)
        same_value = {currency for currency, value in source.money if value == key}
        if same_value:
            return claim.currency in same_value or None in same_value
        return key in source.values
    if claim.kind == "date":
        if claim.value is not None and value_key(claim.value) in source.values:
            return True
        return bool(claim.keys & source.date_keys)
    if claim.kind == "link":
        return any(key in source.links or key.rstrip("/") in source.text for key in claim.keys)
    if claim.kind == "name":
        if claim.text.casefold() in source.text:
            return True
        significant = [key for key in claim.keys if key not in _CONNECTORS and key not in COMMON_WORDS]
        return all(key in source.words for key in significant)
    return True


def claim_check(proposed: str, source: str | Iterable[str]) -> list[Claim]:
    """The claims of `proposed` that `source` (a text, or several) does not support, in order."""
    texts = [source] if isinstance(source, str) else list(source)
    known = _source(texts)
    unsupported = []
    for claim in claims_find(proposed):
        if not _supported(claim, known):
            unsupported.append(claim)
    return unsupported


def claim_flags(proposed: str, source: str | Iterable[str], *, reason: str = REASON) -> list[dict[str, str]]:
    """[{"text", "reason"}] for each unsupported claim of `proposed`, each text once, in order."""
    flags: list[dict[str, str]] = []
    seen: set[str] = set()
    for claim in claim_check(proposed, source):
        if claim.text not in seen:
            seen.add(claim.text)
            flags.append({"text": claim.text, "reason": reason})
    return flags


def flag_spans(text: str, flags: Iterable[dict]) -> list[tuple[int, int]]:
    """Where the flagged texts occur in `text`: sorted, non-overlapping (start, end) pairs to highlight."""
    spans: list[tuple[int, int]] = []
    for flag in flags:
        needle = flag.get("text") or ""
        if not needle:
            continue
        for match in re.finditer(re.escape(needle), text):
            spans.append((match.start(), match.end()))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
