"""Auth by default: every URL pattern is walked anonymously; only the public allowlist answers."""

import pytest

from afterresume.api import api
from tests.urlwalk import walk

PUBLIC_PAGES = {
    "accounts/signup/",
    "accounts/signup/passkey/",
    "accounts/login/",
    "accounts/logout/",
    "accounts/inactive/",
    "accounts/confirm-email/",
    "accounts/password/reset/",
    "accounts/password/reset/done/",
    "accounts/password/reset/key/done/",
    "accounts/^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$",
    "accounts/login/code/confirm/",
    "accounts/2fa/authenticate/",
    "accounts/2fa/webauthn/login/",
    "accounts/2fa/webauthn/signup/",
    "admin/login/",
    "r/<str:token>/",  # a report's share link: unguessable, revocable, read-only (apps/reporting)
    "notifications/unsubscribe/<str:token>/",  # an email's one-click unsubscribe, by signed token
    "favicon.ico",
}
# The API authenticates each operation itself and answers 401, so its URLs skip the login redirect.
API_PREFIX = "api/"
PUBLIC_API_PATHS = {"/healthz/", "/readyz/", "/openapi.json", "/docs", "/billing/webhook/"}


def test_it_exposes_only_the_allowlisted_pages_without_login():
    public = {
        route
        for route, _path, pattern in walk()
        if getattr(pattern.callback, "login_required", True) is False and not route.startswith(API_PREFIX)
    }
    assert public <= PUBLIC_PAGES, f"unexpected public pages: {sorted(public - PUBLIC_PAGES)}"


@pytest.mark.parametrize(
    "path",
    sorted(
        {
            path
            for route, path, pattern in walk()
            if getattr(pattern.callback, "login_required", True) and not route.startswith(API_PREFIX)
        }
    ),
)
def test_it_sends_anonymous_visitors_to_a_login_page(client, db, path):
    response = client.get(path)
    assert response.status_code == 302, f"{path} answered {response.status_code}"
    # The admin's own login page hands over to the one login page (see afterresume/urls.py).
    assert response["Location"].startswith(("/accounts/login/", "/admin/login/")), (
        f"{path} went to {response['Location']}"
    )


def test_it_hands_the_admin_login_over_to_the_one_login_page(client, db):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2F"


def _api_operations():
    # The routers as mounted on the API: their operations carry the inherited default auth.
    for bound_router in api._get_bound_routers():
        prefix = bound_router.prefix
        for path, path_view in bound_router.path_operations.items():
            full = "/" + (prefix.strip("/") + "/" if prefix.strip("/") else "") + path.lstrip("/")
            for operation in path_view.operations:
                for method in operation.methods:
                    yield method, full, bool(operation.auth_callbacks)


@pytest.mark.parametrize(
    ("method", "path", "has_auth"),
    sorted(op for op in set(_api_operations()) if op[1] not in PUBLIC_API_PATHS),
)
def test_it_answers_401_to_anonymous_api_calls(client, db, method, path, has_auth):
    assert has_auth, f"{method} {path} has no authentication"
    sample = path.replace("{id}", "1").replace("{pk}", "1")
    response = client.generic(method, "/api" + sample, content_type="application/json", data="{}")
    assert response.status_code == 401, f"{method} {sample}: {response.status_code}"
    assert set(response.json()) == {"message", "extra"}
