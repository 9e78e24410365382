from dataclasses import dataclass

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings

SITE_NAME = "AfterResume"


@dataclass(frozen=True)
class EmailSite:
    """What allauth's emails call `current_site`. Without the sites framework allauth would use the request's
    host name for both, so the emails said "localhost:8000" where they mean AfterResume."""

    name: str
    domain: str


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        """Sign-up is open only by invite: every path (password or passkey) uses SignupForm, which
        requires a redeemable invite code. SIGNUP_OPEN=false closes sign-up entirely."""
        return settings.SIGNUP_OPEN

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        host = settings.SITE_URL.split("://", 1)[-1].rstrip("/")
        super().send_mail(template_prefix, email, {**context, "current_site": EmailSite(SITE_NAME, host)})

    def get_reauthentication_methods(self, user) -> list[dict]:
        """Confirm with what the person signs in with: their password, else a passkey, else an email code."""
        methods = super().get_reauthentication_methods(user)
        if user.is_authenticated and not user.has_usable_password():
            passkeys = [method for method in methods if method["id"] == "mfa_reauthenticate:webauthn"]
            methods = passkeys + [method for method in methods if method not in passkeys]
        return methods
