from allauth.account.adapter import get_adapter
from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.template.loader import render_to_string

from apps.accounts import services
from apps.accounts.models import Tenant, User
from apps.accounts.timezones import UTC_NAME, time_zone_aliases, time_zone_groups, time_zone_resolve
from apps.core.errors import ApplicationError


class TimeZoneInput(forms.TextInput):
    """A type-ahead text input over the canonical time zones (a <datalist> rendered with it).

    With `detect`, app.js fills an empty field with the browser's zone (Intl), mapped to its canonical
    name through the alias list rendered beside it.
    """

    input_type = "text"

    def __init__(self, *, detect: bool = False, attrs=None):
        base = {
            "class": "form-control",
            "autocomplete": "off",
            "spellcheck": "false",
            "placeholder": "Start typing a city, e.g. Berlin",
        }
        if detect:
            base["data-time-zone-detect"] = ""
        super().__init__(attrs={**base, **(attrs or {})})

    @staticmethod
    def _list_id(name: str, attrs: dict | None) -> str:
        return f"{(attrs or {}).get('id') or name}-list"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget_attrs = context["widget"]["attrs"]
        list_id = self._list_id(name, widget_attrs)
        widget_attrs["list"] = list_id
        widget_attrs["data-time-zone-aliases"] = f"{list_id}-aliases"
        return context

    def render(self, name, value, attrs=None, renderer=None):
        html = super().render(name, value, attrs, renderer)
        list_id = self._list_id(name, {**self.attrs, **(attrs or {})})
        datalist = render_to_string(
            "accounts/partials/_time_zone_datalist.html",
            {
                "list_id": list_id,
                "aliases_id": f"{list_id}-aliases",
                "groups": time_zone_groups(),
                "aliases": time_zone_aliases() if "data-time-zone-detect" in self.attrs else {},
            },
        )
        return html + datalist


class TimeZoneField(forms.CharField):
    """A time zone by canonical name: aliases and loosely typed names resolve; unknown ones are refused."""

    default_error_messages = {
        "unknown": "We don't know the time zone “%(value)s”. Choose one from the list, such as "
        "Europe/Berlin or America/New_York (or UTC).",
    }

    def __init__(self, *, detect: bool = False, **kwargs):
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("label", "Time zone")
        kwargs.setdefault("widget", TimeZoneInput(detect=detect))
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        zone = time_zone_resolve(value)
        if zone is None:
            raise forms.ValidationError(
                self.error_messages["unknown"], code="unknown", params={"value": value[:64]}
            )
        return zone


class SignupForm(AllauthSignupForm):
    """Allauth's sign-up form (password and passkey paths alike) plus the invite gate."""

    invite_code = forms.CharField(
        label="Invite code",
        max_length=64,
        widget=forms.TextInput(attrs={"placeholder": "Invite code", "autocomplete": "off"}),
    )
    name = forms.CharField(
        label="Your name",
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "Your name", "autocomplete": "name"}),
    )
    time_zone = TimeZoneField(
        detect=True,
        required=False,
        help_text="Filled in from your browser. Dates in your log follow it; change it any time on your "
        "profile.",
    )
    field_order = ["invite_code", "name", "email", "password1", "password2", "time_zone"]

    def clean_invite_code(self) -> str:
        code = self.cleaned_data["invite_code"]
        try:
            services.invite_check(code=code)
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message) from exc
        return code

    def signup(self, request, user: User) -> None:
        user.name = self.cleaned_data.get("name", "").strip()
        user.time_zone = self.cleaned_data.get("time_zone") or UTC_NAME
        user.save(update_fields=["name", "time_zone"])
        services.user_signup_complete(
            user=user,
            invite_code=self.cleaned_data["invite_code"],
            ip_address=get_adapter(request).get_client_ip(request),
        )


class ProfileForm(forms.ModelForm):
    time_zone = TimeZoneField(
        help_text="Type to search by city or region; dates and “today” in your log follow it."
    )

    class Meta:
        model = User
        fields = ["name", "time_zone"]
        widgets = {"name": forms.TextInput(attrs={"class": "form-control", "autocomplete": "name"})}


class WorkspaceForm(forms.ModelForm):
    class Meta:
        model = Tenant
        fields = ["name"]
        labels = {"name": "Workspace name"}
        widgets = {"name": forms.TextInput(attrs={"class": "form-control"})}


class InviteCreateForm(forms.Form):
    uses = forms.IntegerField(
        min_value=1,
        max_value=services.INVITE_MAX_USES,
        initial=1,
        widget=forms.NumberInput(attrs={"class": "form-control"}),
        help_text="How many people can sign up with this code.",
    )
    expires_in_days = forms.IntegerField(
        min_value=1,
        max_value=services.INVITE_MAX_DAYS,
        required=False,
        initial=14,
        label="Expires in (days)",
        widget=forms.NumberInput(attrs={"class": "form-control"}),
        help_text="Leave empty for a code that does not expire.",
    )
    note = forms.CharField(
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": "Who is it for?"}),
    )


class AccessTokenForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=100,
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": "e.g. Laptop shell script"}),
        help_text="What will use it. You can revoke it any time.",
    )


class AccountDeleteForm(forms.Form):
    confirm = forms.BooleanField(
        label="I understand: my work log, its evidence, my reports and my tokens are deleted for good",
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
        error_messages={"required": "Tick the box to confirm that you want everything deleted."},
    )
