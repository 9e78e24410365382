"""Forms of the work-log pages. They parse and keep what was typed; the services decide what is valid."""

from django import forms

from apps.worklog import services
from apps.worklog.selectors import NEEDS_CHOICES, EntryFilters

DATE_INPUT = {"type": "date", "class": "form-control"}


def _text(placeholder: str = "", **attrs) -> forms.TextInput:
    return forms.TextInput(attrs={"class": "form-control", "placeholder": placeholder, **attrs})


def _area(rows: int, placeholder: str = "", **attrs) -> forms.Textarea:
    return forms.Textarea(attrs={"class": "form-control", "rows": rows, "placeholder": placeholder, **attrs})


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input; each is checked by the evidence service, not here."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"class": "form-control", "multiple": True}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [item for item in data if item]
        return [data] if data else []


class EntryForm(forms.Form):
    """The fields of an entry, shared by quick add and the full form (which adds metrics and evidence)."""

    occurred_on = forms.DateField(label="Date", widget=forms.DateInput(attrs=DATE_INPUT, format="%Y-%m-%d"))
    title = forms.CharField(
        label="What did you do?",
        max_length=services.TITLE_MAX,
        widget=_text("Shipped the new onboarding flow", autocomplete="off"),
    )
    body = forms.CharField(
        label="Details",
        required=False,
        max_length=services.BODY_MAX,
        widget=_area(4, "How you did it, who you worked with, what was hard. Markdown works."),
    )
    impact = forms.CharField(
        label="Impact or outcome",
        required=False,
        max_length=services.IMPACT_MAX,
        widget=_area(2, "Sign-ups up 12% in the first week"),
    )
    employer = forms.CharField(
        label="Employer", required=False, max_length=services.NAME_MAX, widget=_text(autocomplete="off")
    )
    project = forms.CharField(
        label="Project", required=False, max_length=services.NAME_MAX, widget=_text(autocomplete="off")
    )
    skills = forms.CharField(
        label="Skills",
        required=False,
        max_length=2000,
        help_text="Separate with commas.",
        widget=_text("Python, Stakeholder management", autocomplete="off", **{"data-skill-input": ""}),
    )
    tags = forms.CharField(
        label="Tags",
        required=False,
        max_length=2000,
        help_text="Separate with commas.",
        widget=_text("launch, mentoring", autocomplete="off", **{"data-tag-input": ""}),
    )
    confidential = forms.BooleanField(
        label="Confidential",
        required=False,
        help_text="Names or numbers that must stay out of anything you share.",
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    outcome_pending = forms.BooleanField(
        label="Result not known yet",
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input", "data-follow-up-toggle": ""}),
    )
    follow_up_on = forms.DateField(
        label="Follow up on",
        required=False,
        help_text="We remind you on the dashboard to add the result.",
        widget=forms.DateInput(attrs=DATE_INPUT, format="%Y-%m-%d"),
    )

    def __init__(self, *args, datalist_prefix: str = "worklog", **kwargs):
        super().__init__(*args, **kwargs)
        # Quick add can sit on the same page as the full form: its ids and lists get their own names.
        self.datalist_prefix = datalist_prefix
        self.fields["employer"].widget.attrs["list"] = f"{datalist_prefix}-employers"
        self.fields["project"].widget.attrs["list"] = f"{datalist_prefix}-projects"

    def entry_values(self) -> dict:
        data = dict(self.cleaned_data)
        data["skills"] = services.split_names(data.get("skills", ""))
        data["tags"] = services.split_names(data.get("tags", ""))
        for name in ("employer", "project"):
            data[name] = data.get(name) or None
        return data

    @staticmethod
    def initial_for(entry) -> dict:
        return {
            "occurred_on": entry.occurred_on,
            "title": entry.title,
            "body": entry.body,
            "impact": entry.impact,
            "employer": entry.employer.name if entry.employer else "",
            "project": entry.project.name if entry.project else "",
            "skills": ", ".join(skill.name for skill in entry.skills.all()),
            "tags": ", ".join(tag.name for tag in entry.tags.all()),
            "metric_value": entry.metric_value,
            "metric_unit": entry.metric_unit,
            "metric_before": entry.metric_before,
            "metric_after": entry.metric_after,
            "confidential": entry.confidential,
            "outcome_pending": entry.outcome_pending,
            "follow_up_on": entry.follow_up_on,
        }


def _decimal(label: str, placeholder: str = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        max_digits=services.METRIC_INTEGER_DIGITS + 4,
        decimal_places=4,
        widget=forms.NumberInput(attrs={"class": "form-control", "step": "any", "placeholder": placeholder}),
    )


class FullEntryForm(EntryForm):
    metric_value = _decimal("Result", "12")
    metric_unit = forms.CharField(
        label="Unit", required=False, max_length=services.METRIC_UNIT_MAX, widget=_text("% more sign-ups")
    )
    metric_before = _decimal("Before", "3.1")
    metric_after = _decimal("After", "3.5")


class NewEntryForm(FullEntryForm):
    files = MultipleFileField(label="Files")
    links = forms.CharField(
        label="Links",
        required=False,
        max_length=20_000,
        help_text="One address per line: a pull request, a document, a dashboard.",
        widget=_area(2, "https://"),
    )

    def entry_values(self) -> dict:
        data = super().entry_values()
        data["links"] = [line.strip() for line in data.get("links", "").splitlines() if line.strip()]
        return data


class EvidenceUploadForm(forms.Form):
    files = MultipleFileField(label="Files")


class EvidenceLinkForm(forms.Form):
    url = forms.CharField(
        label="Link",
        max_length=services.LINK_MAX,
        widget=_text("https://github.com/acme/app/pull/42", type="url", inputmode="url"),
    )
    title = forms.CharField(
        label="Title", required=False, max_length=services.TITLE_MAX, widget=_text("The pull request")
    )


class TimelineFilterForm(forms.Form):
    """The timeline's filters, read from the query string so a view can be bookmarked."""

    q = forms.CharField(required=False, max_length=200)
    since = forms.DateField(required=False, error_messages={"invalid": "Enter the start date as YYYY-MM-DD."})
    until = forms.DateField(required=False, error_messages={"invalid": "Enter the end date as YYYY-MM-DD."})
    employer = forms.CharField(required=False, max_length=services.NAME_MAX)
    project = forms.CharField(required=False, max_length=services.NAME_MAX)
    skill = forms.CharField(required=False, max_length=services.NAME_MAX)
    tag = forms.CharField(required=False, max_length=services.TAG_MAX)
    # What the entries still lack (the dashboard links here): see selectors.entry_filter_needs.
    needs = forms.ChoiceField(
        required=False,
        choices=[("", "Anything"), *NEEDS_CHOICES.items()],
        error_messages={"invalid_choice": "Choose what the entries still need from the list."},
    )

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date is before the start date.")
        return cleaned

    def filters(self) -> EntryFilters:
        if not self.is_valid():
            return EntryFilters()
        data = self.cleaned_data
        return EntryFilters(**{name: data.get(name) or ("" if name not in ("since", "until") else None)
                               for name in self.fields})  # fmt: skip


class SkillRenameForm(forms.Form):
    name = forms.CharField(label="New name", max_length=200, widget=_text(autocomplete="off"))


class SkillMergeForm(forms.Form):
    target = forms.TypedChoiceField(
        label="Merge into", coerce=int, widget=forms.Select(attrs={"class": "form-select"})
    )

    def __init__(self, *args, targets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [
            ("", "Choose a skill…"),
            *((skill.pk, skill.name) for skill in targets),
        ]
