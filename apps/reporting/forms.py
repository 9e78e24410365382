"""Forms of the report pages. They parse and keep what was typed; the services decide what is valid."""

from django import forms

from apps.reporting import kinds
from apps.worklog import selectors as worklog_selectors

DATE_INPUT = {"type": "date", "class": "form-control"}
KIND_CHOICES = [(kind, kinds.KIND_LABELS[kind]) for kind in kinds.KINDS]
VARIANT_CHOICES = [
    ("", "By the length of the dates"),
    ("weekly", "Weekly"),
    ("monthly", "Monthly"),
    ("quarterly", "Quarterly"),
    ("manager_update", "Manager update"),
]
AUDIENCE_CHOICES = [
    ("private", "Private: for you; everything, confidential entries included"),
    ("shareable", "Shareable: confidential entries are left out, so it can be shared by link or file"),
]


def _choices(rows) -> list[tuple[str, str]]:
    return [(row.name, f"{row.name} ({row.entry_count})") for row in rows]


class ReportForm(forms.Form):
    kind = forms.ChoiceField(choices=KIND_CHOICES, initial="self_review", widget=forms.RadioSelect)
    title = forms.CharField(
        label="Title",
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"class": "form-control", "placeholder": "Named after the kind and dates"}
        ),
    )
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs=DATE_INPUT, format="%Y-%m-%d")
    )
    until = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs=DATE_INPUT, format="%Y-%m-%d")
    )
    employers = forms.MultipleChoiceField(
        label="Employers", required=False, widget=forms.CheckboxSelectMultiple
    )
    projects = forms.MultipleChoiceField(
        label="Projects", required=False, widget=forms.CheckboxSelectMultiple
    )
    skills = forms.MultipleChoiceField(label="Skills", required=False, widget=forms.CheckboxSelectMultiple)
    tags = forms.MultipleChoiceField(label="Tags", required=False, widget=forms.CheckboxSelectMultiple)
    audience = forms.ChoiceField(
        choices=AUDIENCE_CHOICES, initial="private", required=False, widget=forms.RadioSelect
    )
    variant = forms.ChoiceField(
        label="Period",
        choices=VARIANT_CHOICES,
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    job_description = forms.CharField(
        label="Job description",
        required=False,
        max_length=20_000,
        widget=forms.Textarea(
            attrs={
                "class": "form-control",
                "rows": 8,
                "placeholder": "Paste the job ad, with its list of requirements.",
            }
        ),
    )
    send_confidential = forms.BooleanField(
        label="Send confidential entries to the AI model",
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
        help_text="Off: confidential entries stay in this workspace and are listed as not used.",
    )

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["employers"].choices = _choices(worklog_selectors.employer_list(tenant=tenant))
        self.fields["projects"].choices = _choices(worklog_selectors.project_list(tenant=tenant))
        self.fields["skills"].choices = _choices(worklog_selectors.skill_list(tenant=tenant).order_by("name"))
        self.fields["tags"].choices = _choices(worklog_selectors.tag_list(tenant=tenant))
        kind = self.data.get("kind") if self.is_bound else self.initial.get("kind")
        variant = self.data.get("variant", "") if self.is_bound else self.initial.get("variant", "")
        self.kind = kind if kind in kinds.KINDS else "self_review"
        self.section_rows = self._section_rows(variant)
        self.employer_names = [name for name, _label in self.fields["employers"].choices]
        self.role_rows = self._role_rows()

    def _section_rows(self, variant: str) -> dict[str, list[dict]]:
        """Per kind with sections, the rows of its sections editor: as typed, else the defaults."""
        rows = {}
        for kind in ("self_review", "brag_document"):
            asked = None
            if self.is_bound and self.data.get("kind") == kind:
                keys = self.data.getlist("section_key")
                titles = self.data.getlist("section_title")
                enabled = set(self.data.getlist("section_on"))
                asked = [
                    {"key": key, "title": title, "enabled": key in enabled}
                    for key, title in zip(keys, titles + [""] * max(0, len(keys) - len(titles)), strict=False)
                ]
            rows[kind] = kinds.section_arrangement(kind, "", asked)
        return rows

    def _role_rows(self) -> list[dict]:
        typed = {}
        if self.is_bound:
            typed = dict(
                zip(self.data.getlist("role_employer"), self.data.getlist("role_title"), strict=False)
            )
        return [{"employer": name, "role": typed.get(name, "")} for name in self.employer_names]

    def service_fields(self) -> dict:
        """The cleaned form as report_create's keyword arguments."""
        data = self.cleaned_data
        kind = data["kind"]
        fields = {
            "kind": kind,
            "title": data.get("title", ""),
            "since": data.get("since"),
            "until": data.get("until"),
            "employers": data.get("employers") or [],
            "projects": data.get("projects") or [],
            "skills": data.get("skills") or [],
            "tags": data.get("tags") or [],
            "audience": data.get("audience") or "private",
            "job_description": data.get("job_description", "") if kind == "tailored_resume" else "",
            "variant": data.get("variant", "") if kind == "summary" else "",
            "send_confidential": bool(data.get("send_confidential")),
        }
        if kind in self.section_rows:
            fields["sections"] = self.section_rows[kind]
        if kind in ("resume_bullets", "tailored_resume"):
            fields["roles"] = {row["employer"]: row["role"] for row in self.role_rows if row["role"].strip()}
        return fields


class SectionEditForm(forms.Form):
    title = forms.CharField(
        label="Section title", max_length=120, widget=forms.TextInput(attrs={"class": "form-control"})
    )
    markdown = forms.CharField(
        label="Bullets",
        required=False,
        max_length=60_000,
        widget=forms.Textarea(attrs={"class": "form-control ar-code", "rows": 14, "spellcheck": "true"}),
        help_text="One bullet per line, starting with “- ”. Cite entries with [E123] after the text.",
    )


class ShareForm(forms.Form):
    expires_in_days = forms.TypedChoiceField(
        label="Link expires",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[
            ("", "Never"),
            ("1", "After 1 day"),
            ("7", "After 7 days"),
            ("30", "After 30 days"),
            ("90", "After 90 days"),
        ],
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
