"""The bell, the notifications page and reading them: HTMX answers, feedback, other people's 404 and
query counts that do not grow with the number of notifications."""

import re

import pytest

from apps.notifications.models import Notification


def make(user, tenant, count: int = 1, **fields) -> list[Notification]:
    start = Notification.objects.count()
    return [
        Notification.objects.create(
            tenant=tenant,
            user=user,
            kind=fields.get("kind", "job_failed"),
            key=f"test:{start + index}",
            title=fields.get("title", f"Failed: export {start + index}"),
            body=fields.get("body", "The export stopped.\n\nSecond paragraph."),
            url=fields.get("url", "/jobs/1/"),
        )
        for index in range(count)
    ]


def _badge(html: str) -> str:
    match = re.search(r'<span class="ar-bell-count" id="notification-count" data-unread="(\d+)"', html)
    assert match, html[:2000]
    return match.group(1)


def test_it_shows_the_unread_count_on_the_bell_of_every_page(alice_client, alice, tenant):
    make(alice, tenant, 3)
    Notification.objects.filter(pk=make(alice, tenant)[0].pk).update(read_at="2025-01-01T00:00:00Z")
    for path in ("/", "/log/", "/billing/", "/notifications/settings/"):
        html = alice_client.get(path).content.decode()
        assert _badge(html) == "3", path
        assert '<span class="ar-bell-badge" aria-hidden="true">3</span>' in html
        assert "Notifications, 3 unread" in html


def test_it_caps_the_badge_at_99(alice_client, alice, tenant):
    make(alice, tenant, 120)
    assert (
        '<span class="ar-bell-badge" aria-hidden="true">99+</span>' in alice_client.get("/").content.decode()
    )


def test_it_shows_only_the_persons_own_notifications(alice_client, alice, bob, charlie, tenant, other_tenant):
    make(bob, tenant, 2, title="Export of Bob failed")
    make(charlie, other_tenant, 2, title="Export of Charlie failed")
    make(alice, tenant, 1, title="Export of Alice failed")
    html = alice_client.get("/notifications/").content.decode()
    assert "Export of Alice failed" in html
    assert "of Bob" not in html and "of Charlie" not in html
    assert _badge(html) == "1"
    menu = alice_client.get("/notifications/bell/").content.decode()
    assert "Export of Alice failed" in menu and "of Bob" not in menu


def test_it_lists_the_latest_in_the_bell_menu(alice_client, alice, tenant):
    make(alice, tenant, 8)
    menu = alice_client.get("/notifications/bell/", headers={"HX-Request": "true"}).content.decode()
    assert menu.count('<a class="ar-bell-item') == 6
    assert "Failed: export 7" in menu and "Failed: export 1" not in menu
    assert "Mark all read" in menu and "See all notifications" in menu
    assert 'hx-swap-oob="true"' in menu  # the badge comes along, fresh


def test_it_marks_one_read_and_sends_the_badge_back(alice_client, alice, tenant):
    first, _second = make(alice, tenant, 2)
    response = alice_client.post(f"/notifications/{first.pk}/read/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        f'id="notification-{first.pk}"' in html and "Mark read" not in html.split("notification-toolbar")[0]
    )
    assert 'id="notification-count" data-unread="1" hx-swap-oob="true"' in html
    assert 'id="notification-toolbar" hx-swap-oob="true"' in html
    first.refresh_from_db()
    assert first.read_at is not None


def test_it_marks_all_read_from_the_page_and_from_the_bell(alice_client, alice, bob, tenant):
    make(alice, tenant, 3)
    make(bob, tenant, 2)
    response = alice_client.post("/notifications/read-all/", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "Marked 3 notifications read." in html  # the toast
    assert 'data-unread="0" hx-swap-oob="true"' in html
    assert Notification.objects.filter(user=alice, read_at__isnull=True).count() == 0
    assert Notification.objects.filter(user=bob, read_at__isnull=True).count() == 2

    make(alice, tenant, 1)
    response = alice_client.post("/notifications/read-all/", {"from": "bell"}, headers={"HX-Request": "true"})
    assert response["HX-Trigger"] == "notifications-read-all"
    assert "ar-bell-head" in response.content.decode()
    assert Notification.objects.filter(user=alice, read_at__isnull=True).count() == 0


def test_it_marks_read_without_javascript_too(alice_client, alice, tenant):
    (notification,) = make(alice, tenant)
    response = alice_client.post(f"/notifications/{notification.pk}/read/", follow=True)
    assert "Marked read." in response.content.decode()
    response = alice_client.post("/notifications/read-all/", follow=True)
    assert "Nothing was unread." in response.content.decode()


def test_it_opens_a_notification_where_it_points_and_marks_it_read(alice_client, alice, tenant):
    (notification,) = make(alice, tenant, url="/billing/")
    response = alice_client.get(f"/notifications/{notification.pk}/open/")
    assert (response.status_code, response["Location"]) == (302, "/billing/")
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_it_never_opens_a_link_to_another_site(alice_client, alice, tenant):
    (notification,) = make(alice, tenant, url="https://evil.example/")
    response = alice_client.get(f"/notifications/{notification.pk}/open/")
    assert response["Location"] == "/notifications/"


@pytest.mark.parametrize("method", ["get", "post"])
def test_it_answers_404_for_someone_elses_notification(client, alice, bob, tenant, method):
    (notification,) = make(bob, tenant)  # same workspace, another person
    client.force_login(alice)
    url = f"/notifications/{notification.pk}/{'open' if method == 'get' else 'read'}/"
    assert getattr(client, method)(url).status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_it_filters_unread_and_pages(alice_client, alice, tenant):
    notifications = make(alice, tenant, 30)
    Notification.objects.filter(pk__in=[n.pk for n in notifications[:10]]).update(read_at="2025-01-01T00:00Z")
    html = alice_client.get("/notifications/?show=unread").content.decode()
    assert html.count('class="ar-notification is-unread"') == 20
    assert 'class="ar-notification"' not in html
    html = alice_client.get("/notifications/").content.decode()
    assert html.count('<li class="ar-notification') == 25
    assert "Page 1 of 2" in html
    assert (
        alice_client.get("/notifications/?page=2").content.decode().count('<li class="ar-notification') == 5
    )


def test_it_explains_an_empty_list(alice_client):
    html = alice_client.get("/notifications/").content.decode()
    assert "No notifications yet" in html
    assert "You're all caught up" in alice_client.get("/notifications/?show=unread").content.decode()


def test_it_keeps_the_bells_query_count_constant(alice_client, alice, tenant, django_assert_max_num_queries):
    make(alice, tenant, 1)
    with django_assert_max_num_queries(12) as few:
        alice_client.get("/notifications/bell/")
    make(alice, tenant, 40)
    with django_assert_max_num_queries(len(few.captured_queries)):
        alice_client.get("/notifications/bell/")
    with django_assert_max_num_queries(4):  # session, user, membership, the count
        alice_client.get("/notifications/badge/")


def test_it_adds_one_query_to_a_page_for_the_bell(alice_client, alice, tenant, django_assert_max_num_queries):
    with django_assert_max_num_queries(40) as none:
        alice_client.get("/billing/")
    make(alice, tenant, 40)
    with django_assert_max_num_queries(len(none.captured_queries)) as many:
        alice_client.get("/billing/")
    counts = [q["sql"] for q in many.captured_queries if "notifications_notification" in q["sql"]]
    assert len(counts) == 1, counts


def test_it_keeps_the_pages_query_count_constant(alice_client, alice, tenant, django_assert_max_num_queries):
    make(alice, tenant, 2)
    with django_assert_max_num_queries(40) as few:
        alice_client.get("/notifications/")
    make(alice, tenant, 60)
    with django_assert_max_num_queries(len(few.captured_queries)):
        alice_client.get("/notifications/")
