from django.test import RequestFactory

from apps.core.views import server_error


def test_it_renders_a_styled_500_without_a_request_context():
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert b"AfterResume" in response.content


def test_it_shows_a_styled_403_to_members_at_the_admin_login(alice_client):
    response = alice_client.get("/admin/login/?next=/admin/")
    assert response.status_code == 403
    assert b"AfterResume" in response.content


def test_it_lets_staff_into_the_admin(staff_client):
    assert staff_client.get("/admin/").status_code == 200
