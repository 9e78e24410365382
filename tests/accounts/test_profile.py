from apps.accounts.models import Tenant


def test_it_shows_the_profile(alice_client):
    response = alice_client.get("/profile/")
    assert response.status_code == 200
    assert "Alice Anders" in response.content.decode()


def test_it_saves_name_and_time_zone(alice_client, alice):
    response = alice_client.post(
        "/profile/", {"action": "profile", "name": "Alice A.", "time_zone": "Europe/Berlin"}
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.name, alice.time_zone) == ("Alice A.", "Europe/Berlin")


def test_it_refuses_an_unknown_time_zone_and_keeps_the_name(alice_client, alice):
    response = alice_client.post(
        "/profile/", {"action": "profile", "name": "Typed Name", "time_zone": "Mars/Base"}
    )
    assert response.status_code == 400
    assert 'value="Typed Name"' in response.content.decode()
    alice.refresh_from_db()
    assert alice.time_zone == "UTC"


def test_it_lets_the_owner_rename_the_workspace(alice_client, tenant):
    response = alice_client.post("/profile/", {"action": "workspace", "name": "Alice at Acme"})
    assert response.status_code == 302
    tenant.refresh_from_db()
    assert tenant.name == "Alice at Acme"


def test_it_keeps_members_from_renaming_the_workspace(client, bob, alice, tenant):
    client.force_login(bob)
    response = client.post("/profile/", {"action": "workspace", "name": "Bob's now"})
    assert response.status_code == 400
    assert "Only the workspace owner" in response.content.decode()
    assert Tenant.objects.get(pk=tenant.pk).name == "Alice's workspace"


def test_it_refuses_an_empty_workspace_name(alice_client, tenant):
    response = alice_client.post("/profile/", {"action": "workspace", "name": "   "})
    assert response.status_code == 400
    tenant.refresh_from_db()
    assert tenant.name == "Alice's workspace"


def test_it_answers_an_unknown_form_with_400(alice_client):
    assert alice_client.post("/profile/", {"action": "drop-tables"}).status_code == 400


def test_it_shows_the_dashboard_only_with_what_exists(alice_client):
    response = alice_client.get("/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "Alice's workspace".replace("'", "&#x27;") in content
    assert "Invites" not in content  # staff only
