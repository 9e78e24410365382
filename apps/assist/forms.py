"""Forms of the assist pages: voice settings, the choice of entries, and a decision on a suggestion."""

from django import forms

from apps.assist.models import Suggestion, VoiceSettings
from apps.assist.services import INSTRUCTIONS_MAX
from apps.worklog.forms import TimelineFilterForm

METRICS = "metrics"  # the metric fields are decided together, as one measurable result


class VoiceForm(forms.Form):
    tone = forms.ChoiceField(
        choices=VoiceSettings.Tone.choices, widget=forms.Select(attrs={"class": "form-select"})
    )
    length = forms.ChoiceField(
        choices=VoiceSettings.Length.choices, widget=forms.Select(attrs={"class": "form-select"})
    )
    person = forms.ChoiceField(
        label="Point of view",
        choices=VoiceSettings.Person.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    instructions = forms.CharField(
        label="Your instructions",
        required=False,
        max_length=INSTRUCTIONS_MAX,
        help_text="Added to every prompt, e.g. “British spelling” or “mention the team when I do”.",
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 4, "maxlength": INSTRUCTIONS_MAX}),
    )
    allow_confidential_external = forms.BooleanField(
        label="Send entries marked confidential to an external AI model",
        required=False,
        help_text="Off: confidential entries are always drafted without AI, on this server.",
        widget=forms.CheckboxInput(attrs={"class": "form-check-input", "role": "switch"}),
    )

    @classmethod
    def initial_for(cls, voice: VoiceSettings) -> dict:
        return {name: getattr(voice, name) for name in cls.base_fields}

    def voice_preview(self, base: VoiceSettings) -> VoiceSettings:
        """The settings as typed (not saved), for the prompt preview; an invalid value stays as saved."""
        preview = VoiceSettings(tenant=base.tenant, user=base.user, **self.initial_for(base))
        self.is_valid()
        for name in self.base_fields:
            if name in self.cleaned_data:
                setattr(preview, name, self.cleaned_data[name])
        return preview


class ImproveFilterForm(TimelineFilterForm):
    """The timeline's filters (kept in the URL), to choose the entries to improve."""

    LABELS = {"q": "Text", "since": "From", "until": "To", "needs": "Still needs"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.label = self.LABELS.get(name, field.label)
            if isinstance(field.widget, forms.Select):
                field.widget.attrs.setdefault("class", "form-select")
            else:
                field.widget.attrs.setdefault("class", "form-control")
            if name in ("since", "until"):
                field.widget.input_type = "date"


def suggestion_decisions(data, suggestion: Suggestion) -> dict:
    """The person's choices on the review form as suggestion_accept's arguments (or a rejection).

    Each field has `decision_<name>` (accept, edit or reject; the metric fields share `decision_metrics`),
    `edit_<name>` with their own text and `confirm_<name>` to keep flagged text as proposed.
    """
    if data.get("action") == "reject":
        return {"reject": True}
    fields, edits, confirm = [], {}, []
    for item in suggestion.fields:
        name = item["name"]
        group = METRICS if name.startswith("metric_") else name
        decision = data.get(f"decision_{group}", "")
        if decision not in ("accept", "edit"):
            continue
        fields.append(name)
        if decision == "edit":
            edits[name] = data.get(f"edit_{name}", item["proposed"])
        if data.get(f"confirm_{group}"):
            confirm.append(name)
    skills = [name for name in data.getlist("skills") if name in suggestion.skills]
    return {"fields": fields, "edits": edits, "confirm_flagged": confirm, "skills": skills}
