from allauth.account.adapter import get_adapter
from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms

from apps.accounts import services
from apps.accounts.models import TIME_ZONE_CHOICES, Tenant, User
from apps.core.errors import ApplicationError


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
    field_order = ["invite_code", "name", "email", "password1", "password2"]

    def clean_invite_code(self) -> str:
        code = self.cleaned_data["invite_code"]
        try:
            services.invite_check(code=code)
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message) from exc
        return code

    def signup(self, request, user: User) -> None:
        user.name = self.cleaned_data.get("name", "").strip()
        user.save(update_fields=["name"])
        services.user_signup_complete(
            user=user,
            invite_code=self.cleaned_data["invite_code"],
            ip_address=get_adapter(request).get_client_ip(request),
        )


class ProfileForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        choices=TIME_ZONE_CHOICES, widget=forms.Select(attrs={"class": "form-select"})
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
