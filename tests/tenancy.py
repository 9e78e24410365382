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


def _access_token(owner):
    from apps.accounts import services

    token, _raw = services.access_token_create(user=owner, tenant=owner.memberships.get().tenant, name="cli")
    return {"pk": token.pk}


# url name -> (factory, methods)
OUTSIDER_GETS_404 = {
    "access_token_revoke": (_access_token, ["post"]),
    "mfa_remove_webauthn": (_passkey, ["get", "post"]),
    "mfa_edit_webauthn": (_passkey, ["get", "post"]),
}


def _invite(owner):
    from apps.accounts import services

    invite, _code = services.invite_create(created_by=None)
    return {"pk": invite.pk}


# Staff-only object URLs: not tenant-owned, but every non-staff person (here alice) gets 404.
STAFF_ONLY = {"staff_invite_detail": (_invite, ["get"]), "staff_invite_revoke": (_invite, ["post"])}


# Each app's tests may add cases in tests/<app>/tenancy_cases.py: dicts named OUTSIDER_GETS_404, STAFF_ONLY
# and NOT_OBJECT_URLS of the same shapes. They are merged here, so apps never edit this file at once.
def _merge_app_cases() -> None:
    import importlib
    import pkgutil

    import tests

    for module_info in pkgutil.iter_modules(tests.__path__):
        try:
            module = importlib.import_module(f"tests.{module_info.name}.tenancy_cases")
        except ModuleNotFoundError:
            continue
        OUTSIDER_GETS_404.update(getattr(module, "OUTSIDER_GETS_404", {}))
        STAFF_ONLY.update(getattr(module, "STAFF_ONLY", {}))
        NOT_OBJECT_URLS.update(getattr(module, "NOT_OBJECT_URLS", {}))


# URLs with parameters that do not name an object, and why.
NOT_OBJECT_URLS = {"account_reset_password_from_key": "a signed one-time key that names no object"}

_merge_app_cases()
