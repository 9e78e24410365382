from apps.accounts import services
from apps.accounts.models import PersonalAccessToken


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
    import pytest

    with pytest.raises(services.PermissionDenied):
        services.access_token_create(user=alice, tenant=other_tenant, name="sneaky")


def test_it_revokes_from_the_profile(alice_client, alice, tenant):
    token, _raw = services.access_token_create(user=alice, tenant=tenant, name="old")
    assert alice_client.post(f"/profile/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
