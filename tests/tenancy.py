"""The tenancy harness: every URL that names an object says how to make one for its owner.

Each entry maps a URL name to a factory `make(owner) -> kwargs` that creates an object belonging to
`owner` (alice, in alice's workspace) and returns the URL kwargs naming it. The harness then asks for
the URL as charlie, an outsider, with every method the view takes, and expects 404 each time.
A new object URL that is not listed here fails test_it_covers_every_object_url: add it.
"""

from allauth.mfa.models import Authenticator


def _passkey(owner):
    authenticator = Authenticator.objects.create(
        user=owner, type=Authenticator.Type.WEBAUTHN, data={"name": "Alice's laptop", "credential": {}}
    )
    return {"pk": authenticator.pk}


# url name -> (factory, methods)
OUTSIDER_GETS_404 = {
    "mfa_remove_webauthn": (_passkey, ["get", "post"]),
    "mfa_edit_webauthn": (_passkey, ["get", "post"]),
}

# Staff-only object URLs: not tenant-owned, but every non-staff person gets 404.
STAFF_ONLY = {"staff_invite_detail": ["get"], "staff_invite_revoke": ["post"]}

# URLs with parameters that do not name an object, and why.
NOT_OBJECT_URLS = {"account_reset_password_from_key": "a signed one-time key that names no object"}
