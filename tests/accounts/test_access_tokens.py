import json

import pytest
from django.test import Client

from apps.accounts import services
from apps.accounts.models import Membership, PersonalAccessToken
from apps.worklog.models import Entry


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_it_creates_a_token_shown_once_and_stores_only_a_hash(alice_client, alice):
    response = alice_client.post("/profile/tokens/", {"name": "Laptop script"})
    assert response.status_code == 302
    page = alice_client.get("/profile/").content.decode()
    raw = page.split('id="new-access-token" value="')[1].split('"')[0]
    token = PersonalAccessToken.objects.get()
    assert raw.startswith("arpat_") and raw not in token.token_hash
    assert raw not in alice_client.get("/profile/").content.decode()


def test_it_keeps_the_form_when_the_name_is_missing(alice_client):
    response = alice_client.post("/profile/tokens/", {"name": ""})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert not PersonalAccessToken.objects.exists()


def test_it_authenticates_api_calls_as_the_token_owner_without_csrf(client, alice, tenant):
    _token, raw = services.access_token_create(user=alice, tenant=tenant, name="cli")
    response = client.get("/api/me/", **bearer(raw))
    assert response.status_code == 200
    assert response.json()["tenant"] == {"slug": "alice", "name": "Alice's workspace"}
    assert PersonalAccessToken.objects.get().last_used_at is not None


def test_it_rejects_revoked_and_unknown_tokens(client, alice, tenant):
    token, raw = services.access_token_create(user=alice, tenant=tenant, name="cli")
    services.access_token_revoke(token=token, actor=alice)
    assert client.get("/api/me/", **bearer(raw)).status_code == 401
    assert client.get("/api/me/", **bearer("arpat_not-a-token")).status_code == 401


def test_it_scopes_a_token_to_its_own_workspace(client, alice, tenant, charlie, other_tenant):
    _token, raw = services.access_token_create(user=charlie, tenant=other_tenant, name="charlie's")
    assert client.get("/api/me/", **bearer(raw)).json()["tenant"]["slug"] == "charlie"


def test_it_refuses_a_token_for_a_workspace_the_user_is_not_in(alice, other_tenant):
    with pytest.raises(services.PermissionDenied):
        services.access_token_create(user=alice, tenant=other_tenant, name="sneaky")


def test_it_revokes_from_the_profile(alice_client, alice, tenant):
    token, _raw = services.access_token_create(user=alice, tenant=tenant, name="old")
    assert alice_client.post(f"/profile/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


# ------------------------------------------------------------------ tokens, sessions and the CSRF check

ENTRIES = "/api/worklog/entries/"


def post_entry(client, **headers):
    return client.post(
        ENTRIES, data=json.dumps({"title": "From a script"}), content_type="application/json", **headers
    )


@pytest.fixture
def csrf_client(alice):
    """A browser-like client: the CSRF check is enforced, as in production."""
    return Client(enforce_csrf_checks=True)


@pytest.mark.parametrize("signed_in", [False, True], ids=["no session", "with a session cookie"])
@pytest.mark.parametrize(
    "authorization",
    ["Bearer arpat_not-a-token", "Bearer ", "Bearer", "Basic YWxpY2U6c2VjcmV0", "arpat_no-scheme", "revoked"],
)
def test_it_answers_a_write_with_a_bad_token_with_401_and_no_csrf_check(
    csrf_client, alice, tenant, signed_in, authorization
):
    if authorization == "revoked":
        token, raw = services.access_token_create(user=alice, tenant=tenant, name="old")
        services.access_token_revoke(token=token, actor=alice)
        authorization = f"Bearer {raw}"
    if signed_in:
        csrf_client.force_login(alice)
    response = post_entry(csrf_client, HTTP_AUTHORIZATION=authorization)
    assert response.status_code == 401, response.content
    assert set(response.json()) == {"message", "extra"}
    assert "CSRF" not in response.json()["message"]
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not Entry.objects.exists()


def test_it_answers_a_write_without_any_credentials_with_401(csrf_client, db):
    response = post_entry(csrf_client)
    assert response.status_code == 401 and "Sign in" in response.json()["message"]


def test_it_never_falls_back_to_the_session_when_a_token_is_sent(csrf_client, alice):
    csrf_client.force_login(alice)
    assert csrf_client.get("/api/me/").status_code == 200
    response = csrf_client.get("/api/me/", HTTP_AUTHORIZATION="Bearer arpat_not-a-token")
    assert response.status_code == 401
    assert "token is not valid" in response.json()["message"]


def test_it_accepts_a_token_write_without_a_csrf_token(csrf_client, alice, tenant):
    _token, raw = services.access_token_create(user=alice, tenant=tenant, name="cli")
    response = post_entry(csrf_client, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 201, response.content


def test_it_keeps_the_csrf_check_for_session_writes(csrf_client, alice):
    csrf_client.force_login(alice)
    refused = post_entry(csrf_client)
    assert refused.status_code == 403
    assert set(refused.json()) == {"message", "extra"} and "CSRF" in refused.json()["message"]
    assert not Entry.objects.exists()
    csrf_client.get("/log/")  # any page sets the csrftoken cookie
    accepted = post_entry(csrf_client, HTTP_X_CSRFTOKEN=csrf_client.cookies["csrftoken"].value)
    assert accepted.status_code == 201, accepted.content


# --------------------------------------------------------- a token acts only while its owner belongs


def test_it_stops_a_token_when_its_owner_leaves_the_workspace(client, bob, tenant):
    _token, raw = services.access_token_create(user=bob, tenant=tenant, name="bob's script")
    assert client.get("/api/me/", **bearer(raw)).status_code == 200
    Membership.objects.filter(user=bob, tenant=tenant).delete()
    assert client.get("/api/me/", **bearer(raw)).status_code == 401
    assert post_entry(client, **bearer(raw)).status_code == 401
    assert services.access_token_authenticate(raw=raw) is None


def test_it_stops_a_token_when_its_owner_is_deactivated(client, bob, tenant):
    _token, raw = services.access_token_create(user=bob, tenant=tenant, name="bob's script")
    assert client.get("/api/worklog/entries/", **bearer(raw)).status_code == 200
    bob.is_active = False
    bob.save(update_fields=["is_active"])
    assert client.get("/api/worklog/entries/", **bearer(raw)).status_code == 401
    assert services.access_token_authenticate(raw=raw) is None


def test_it_counts_only_membership_of_the_tokens_own_workspace(client, bob, tenant, other_tenant):
    """Membership elsewhere does not count: the token is for its own workspace."""
    Membership.objects.create(user=bob, tenant=other_tenant)
    _token, raw = services.access_token_create(user=bob, tenant=tenant, name="bob's script")
    Membership.objects.filter(user=bob, tenant=tenant).delete()
    assert client.get("/api/me/", **bearer(raw)).status_code == 401
    _other, raw_other = services.access_token_create(user=bob, tenant=other_tenant, name="elsewhere")
    assert client.get("/api/me/", **bearer(raw_other)).json()["tenant"]["slug"] == "charlie"
