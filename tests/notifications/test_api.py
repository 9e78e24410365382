"""GET /api/notifications/ and marking read, for the signed-in person only (session or token)."""

from apps.accounts import services as accounts
from apps.notifications.models import Notification
from tests.notifications.test_pages import make


def test_it_answers_the_contract_shape(alice_client, alice, bob, tenant):
    first, second = make(alice, tenant, 2)
    make(bob, tenant, 3)
    Notification.objects.filter(pk=first.pk).update(read_at="2025-01-01T00:00:00Z")
    response = alice_client.get("/api/notifications/")
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"items", "unread"}
    assert data["unread"] == 1
    assert [item["id"] for item in data["items"]] == [second.pk, first.pk]
    item = data["items"][0]
    assert set(item) == {"id", "kind", "title", "created_at", "read"}  # exactly the contract's fields
    assert (item["kind"], item["title"], item["read"]) == ("job_failed", second.title, False)
    assert data["items"][1]["read"] is True


def test_it_filters_unread_and_limits(alice_client, alice, tenant):
    notifications = make(alice, tenant, 5)
    Notification.objects.filter(pk=notifications[0].pk).update(read_at="2025-01-01T00:00:00Z")
    data = alice_client.get("/api/notifications/?unread=true&limit=2").json()
    assert len(data["items"]) == 2 and all(not item["read"] for item in data["items"])
    assert data["unread"] == 4
    assert alice_client.get("/api/notifications/?limit=101").status_code == 422


def test_it_marks_read_through_the_api_with_a_token(client, alice, tenant):
    _token, raw = accounts.access_token_create(user=alice, tenant=tenant, name="cli")
    first, _second = make(alice, tenant, 2)
    headers = {"Authorization": f"Bearer {raw}"}
    response = client.post(f"/api/notifications/{first.pk}/read/", headers=headers)
    assert response.status_code == 200 and response.json()["read"] is True
    response = client.post("/api/notifications/read-all/", headers=headers)
    assert response.json() == {"marked": 1, "unread": 0}


def test_it_answers_404_for_another_persons_notification(client, alice, bob, charlie, tenant, other_tenant):
    (bobs,) = make(bob, tenant)
    (charlies,) = make(charlie, other_tenant)
    client.force_login(alice)
    for notification in (bobs, charlies):
        response = client.post(f"/api/notifications/{notification.pk}/read/")
        assert response.status_code == 404
        assert set(response.json()) == {"message", "extra"}
    assert Notification.objects.filter(read_at__isnull=False).count() == 0
    assert client.get("/api/notifications/").json() == {"items": [], "unread": 0}


def test_it_asks_anonymous_callers_to_sign_in(client, db):
    response = client.get("/api/notifications/")
    assert response.status_code == 401
    assert set(response.json()) == {"message", "extra"}
