"""The history of an entry's text: what is kept, how to read it, and a word-level diff.

`entry_update` (apps/worklog/services.py) keeps the previous text as an `EntryVersion` whenever the title,
details, impact or measurable result change, naming what changed it: an edit, an accepted suggestion (by
its id) or a restore. Restoring (`entry_version_restore`, in services) is itself such a change, so nothing
is ever lost. This module holds the parts that do not write entries: recording, reading and diffing.
"""

import difflib
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from apps.core.errors import NotFound
from apps.worklog.models import Entry, EntryVersion

TEXT_FIELDS = ("title", "body", "impact", "metric_value", "metric_unit", "metric_before", "metric_after")
FIELD_LABELS = {
    "title": "Title",
    "body": "Details",
    "impact": "Impact",
    "metric_value": "Result",
    "metric_unit": "Unit",
    "metric_before": "Before",
    "metric_after": "After",
}
_TOKENS = re.compile(r"\s+|[\w'’%$€£.,-]+|[^\w\s]", re.UNICODE)  # noqa: RUF001 - a typographic apostrophe


@dataclass(frozen=True)
class ChangeSource:
    """What changed an entry's text, for the version that keeps the text it replaced."""

    kind: str = EntryVersion.Source.EDIT
    suggestion_id: int | None = None
    restored_version: EntryVersion | None = None


EDIT = ChangeSource()


def entry_text(entry: Entry | EntryVersion) -> dict[str, Any]:
    """The text fields of an entry (or of a version), as plain values."""
    return {name: getattr(entry, name) for name in TEXT_FIELDS}


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, Decimal) or isinstance(right, Decimal):
        if left is None or right is None:
            return left is right
        return Decimal(left) == Decimal(right)
    return (left or "") == (right or "")


def text_changed(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The names of the text fields that differ between two `entry_text` snapshots."""
    return [name for name in TEXT_FIELDS if not _same(before.get(name), after.get(name))]


def entry_version_record(
    *, entry: Entry, previous: dict[str, Any], actor, source: ChangeSource = EDIT
) -> EntryVersion:
    """Keep `previous` (the entry's text before the change just made) as a version. Call inside the change's
    transaction, so the change and the kept text stand or fall together."""
    return EntryVersion.objects.create(
        tenant_id=entry.tenant_id,
        entry=entry,
        author=actor if getattr(actor, "is_authenticated", False) else None,
        source=source.kind,
        suggestion_id=source.suggestion_id,
        restored_version=source.restored_version,
        **previous,
    )


# ---------------------------------------------------------------------- reading


def entry_version_list(*, tenant, entry: Entry) -> QuerySet[EntryVersion]:
    """The entry's kept versions, newest first."""
    return (
        EntryVersion.objects.for_tenant(tenant)
        .filter(entry=entry)
        .select_related("author", "restored_version")
        .order_by("-created_at", "-id")
    )


def entry_version_get(*, tenant, entry: Entry, pk: int) -> EntryVersion:
    version = entry_version_list(tenant=tenant, entry=entry).filter(pk=pk).first()
    if version is None:
        raise NotFound("We couldn't find that version of the entry.")
    return version


# ------------------------------------------------------------------------- diff


def _tokens(text: str) -> list[str]:
    return _TOKENS.findall(text or "")


def text_diff(old: str, new: str) -> list[tuple[str, str]]:
    """A word-level diff: [(op, text)] with op "=" (kept), "-" (only in `old`) or "+" (only in `new`).

    Joining the "=" and "-" parts gives `old` back; joining "=" and "+" gives `new`.
    """
    before, after = _tokens(old), _tokens(new)
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    parts: list[tuple[str, str]] = []

    def add(op: str, text: str) -> None:
        if not text:
            return
        if parts and parts[-1][0] == op:
            parts[-1] = (op, parts[-1][1] + text)
        else:
            parts.append((op, text))

    opcodes = matcher.get_opcodes()
    # A lone space kept between two changes reads as noise ("-I +A -migrated +worse"): fold it into them.
    blocks: list[tuple[str, str, str]] = []  # ("=", text, "") or ("~", removed, added)
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        kept = "".join(before[i1:i2])
        between_changes = 0 < index < len(opcodes) - 1 and not kept.strip()
        if tag == "equal" and not between_changes:
            blocks.append(("=", kept, ""))
            continue
        removed, added = "".join(before[i1:i2]), "".join(after[j1:j2])
        if blocks and blocks[-1][0] == "~":
            blocks[-1] = ("~", blocks[-1][1] + removed, blocks[-1][2] + added)
        else:
            blocks.append(("~", removed, added))
    for kind, first, second in blocks:
        if kind == "=":
            add("=", first)
        else:
            add("-", first)
            add("+", second)
    return parts


def value_text(value: Any) -> str:
    """A field's value as the text a person reads and compares: 12 for Decimal("12.0000"), "" for None."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)
