from django import forms

from apps.notifications.kinds import KINDS, Group, Kind, kind_label
from apps.notifications.models import ReminderSchedule

HOUR_CHOICES = [(hour, f"{hour:02d}:00") for hour in range(24)]


def _switch(**attrs) -> forms.CheckboxInput:
    return forms.CheckboxInput(attrs={"class": "form-check-input", "role": "switch", **attrs})


class PreferencesForm(forms.Form):
    """One switch per kind and channel (locked kinds shown on and disabled), and the reminder's time."""

    reminder_weekday = forms.TypedChoiceField(
        label="Day",
        choices=ReminderSchedule.Weekday.choices,
        coerce=int,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    reminder_hour = forms.TypedChoiceField(
        label="Time", choices=HOUR_CHOICES, coerce=int, widget=forms.Select(attrs={"class": "form-select"})
    )

    def __init__(self, *args, choices: dict, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, info in KINDS.items():
            current = choices[kind]
            for channel, label in (("in_app", "In the app"), ("email", "By email")):
                name = f"{kind}-{channel}"
                field = forms.BooleanField(
                    label=f"{label}: {kind_label(kind)}",
                    required=False,
                    initial=getattr(current, channel),
                    disabled=info.locked,
                    widget=_switch(),
                )
                self.fields[name] = field

    def channel_choices(self) -> dict[str, tuple[bool, bool]]:
        data = self.cleaned_data
        return {
            kind: (data[f"{kind}-in_app"], data[f"{kind}-email"])
            for kind, info in KINDS.items()
            if not info.locked
        }

    def groups(self) -> list[dict]:
        """The table rows per group, the reminder left out (it has its own card)."""
        rows: dict[str, list] = {}
        for kind, info in KINDS.items():
            if kind == Kind.CAPTURE_REMINDER:
                continue
            rows.setdefault(info.group, []).append(
                {
                    "info": info,
                    "label": kind_label(kind),
                    "in_app": self[f"{kind}-in_app"],
                    "email": self[f"{kind}-email"],
                }
            )
        return [{"label": Group(group).label, "key": group, "rows": items} for group, items in rows.items()]

    def reminder_fields(self) -> dict:
        kind = Kind.CAPTURE_REMINDER
        return {"in_app": self[f"{kind}-in_app"], "email": self[f"{kind}-email"]}
