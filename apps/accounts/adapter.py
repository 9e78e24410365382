from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        """Sign-up is open only by invite: every path (password or passkey) uses SignupForm, which
        requires a redeemable invite code. SIGNUP_OPEN=false closes sign-up entirely."""
        return settings.SIGNUP_OPEN
