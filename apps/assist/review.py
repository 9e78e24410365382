"""What the review of a suggestion shows: field by field, a word diff, flagged text, and the choices made.

Pure presentation over a Suggestion (no writes): the entry page, the review queue and their HTMX fragments
all render `review_fields(...)` through templates/assist/partials/_suggestion_review.html.
"""

from dataclasses import dataclass, field

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from apps.assist.forms import METRICS
from apps.assist.models import Suggestion
from apps.llm.claims import flag_spans
from apps.worklog.versions import text_diff

FLAG_TITLE = "Not in your entry"
METRIC_LABELS = {
    "metric_value": "Result",
    "metric_unit": "Unit",
    "metric_before": "Before",
    "metric_after": "After",
}


def _marked(text: str, start: int, spans: list[tuple[int, int]]) -> str:
    """`text` (which starts at `start` in the proposal) escaped, flagged parts in <mark>."""
    out, position, end = [], start, start + len(text)
    for span_start, span_end in spans:
        if span_end <= position or span_start >= end:
            continue
        cut_start, cut_end = max(span_start, position), min(span_end, end)
        out.append(escape(text[position - start : cut_start - start]))
        flagged = escape(text[cut_start - start : cut_end - start])
        out.append(f'<mark class="ar-flag" title="{FLAG_TITLE}">{flagged}</mark>')
        position = cut_end
    out.append(escape(text[position - start :]))
    return "".join(out)


def diff_html(original: str, proposed: str, flags: list[dict]) -> tuple[SafeString, SafeString]:
    """(original with removed words in <del>, proposal with added words in <ins> and flags in <mark>)."""
    spans = flag_spans(proposed, flags)
    before, after, position = [], [], 0
    for op, text in text_diff(original, proposed):
        if op in ("=", "-"):
            before.append(f'<del class="ar-diff-del">{escape(text)}</del>' if op == "-" else escape(text))
        if op in ("=", "+"):
            marked = _marked(text, position, spans)
            after.append(f'<ins class="ar-diff-ins">{marked}</ins>' if op == "+" else marked)
            position += len(text)
    return mark_safe("".join(before)), mark_safe("".join(after))  # noqa: S308 - every piece is escaped


def metric_text(values: dict) -> str:
    """ "12 minutes (from 40 to 12)" from the four metric values (as text)."""
    value, unit = values.get("metric_value", ""), values.get("metric_unit", "")
    text = " ".join(part for part in (value, unit) if part)
    before, after = values.get("metric_before", ""), values.get("metric_after", "")
    if before or after:
        text = f"{text} (from {before or '?'} to {after or '?'})".strip()
    return text


@dataclass
class FieldView:
    key: str
    label: str
    names: list[str]
    original: str
    proposed: str
    original_html: SafeString
    proposed_html: SafeString
    flags: list[dict]
    decision: str
    confirm: bool = False
    edits: dict = field(default_factory=dict)
    error: str = ""

    @property
    def is_metrics(self) -> bool:
        return self.key == METRICS

    @property
    def multiline(self) -> bool:
        return self.key in ("body", "impact")

    @property
    def edit_inputs(self) -> list[dict]:
        """For the metric group: one input per metric field, labelled."""
        return [
            {"name": name, "label": METRIC_LABELS[name], "value": self.edits.get(name, "")}
            for name in self.names
        ]

    @property
    def edit_text(self) -> str:
        return self.edits.get(self.names[0], "")


def _posted(data, key: str, default: str) -> str:
    if data is None:
        return default
    return data.get(f"decision_{key}", default) or default


def review_fields(
    suggestion: Suggestion, *, data=None, error_field: str = "", error: str = ""
) -> list[FieldView]:
    """The suggestion's fields as the review shows them; `data` (a POST) keeps what the person chose."""
    views: list[FieldView] = []
    metrics = [item for item in suggestion.fields if item["name"].startswith("metric_")]
    for item in suggestion.fields:
        if item["name"].startswith("metric_"):
            continue
        name = item["name"]
        default = "accept" if not item["flags"] else "reject"
        original_html, proposed_html = diff_html(item["original"], item["proposed"], item["flags"])
        edit = data.get(f"edit_{name}", item["proposed"]) if data is not None else item["proposed"]
        views.append(
            FieldView(
                key=name,
                label=item.get("label") or name.title(),
                names=[name],
                original=item["original"],
                proposed=item["proposed"],
                original_html=original_html,
                proposed_html=proposed_html,
                flags=item["flags"],
                decision=_posted(data, name, default),
                confirm=bool(data is not None and data.get(f"confirm_{name}")),
                edits={name: edit},
                error=error if error_field == name else "",
            )
        )
    if metrics:
        original = metric_text({item["name"]: item["original"] for item in metrics})
        proposed_values = {item["name"]: item["original"] for item in metrics}
        proposed_values.update({item["name"]: item["proposed"] for item in metrics})
        proposed = metric_text(proposed_values)
        flags = [flag for item in metrics for flag in item["flags"]]
        original_html, proposed_html = diff_html(original, proposed, flags)
        names = [item["name"] for item in metrics]
        edits = {
            item["name"]: (
                data.get(f"edit_{item['name']}", item["proposed"]) if data is not None else item["proposed"]
            )
            for item in metrics
        }
        views.append(
            FieldView(
                key=METRICS,
                label="Measurable result",
                names=names,
                original=original,
                proposed=proposed,
                original_html=original_html,
                proposed_html=proposed_html,
                flags=flags,
                decision=_posted(data, METRICS, "accept" if not flags else "reject"),
                confirm=bool(data is not None and data.get(f"confirm_{METRICS}")),
                edits=edits,
                error=error if error_field in names else "",
            )
        )
    return views


def review_skills(suggestion: Suggestion, *, data=None) -> list[dict]:
    chosen = set(data.getlist("skills")) if data is not None else set(suggestion.skills)
    return [{"name": name, "checked": name in chosen} for name in suggestion.skills]
