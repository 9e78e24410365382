"""Staff deactivate a person: their sessions and tokens stop at once; reactivating lets them back in."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from apps.accounts import deletion, services
from apps.accounts.models import LoginSession, User
from apps.core.errors import PermissionDenied
from apps.core.models import Event
from tests.conftest import PASSWORD


def _signed_in(user) -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    return client


@pytest.fixture
def superuser(staff):
    """Staff with the admin's permissions on people."""
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    return staff


def _bearer(raw: str) -> dict:
    return {"Authorization": f"Bearer {raw}"}


def test_it_records_each_sign_in_and_forgets_it_on_sign_out(alice):
    laptop, phone = _signed_in(alice), _signed_in(alice)
    assert LoginSession.objects.filter(user=alice).count() == 2
    assert phone.post("/accounts/logout/").status_code == 302
    assert list(LoginSession.objects.filter(user=alice).values_list("session_key", flat=True)) == [
        laptop.session.session_key
    ]


def test_it_stops_every_session_and_token_at_once_from_the_admin(alice, tenant, superuser):
    staff = superuser
    laptop, phone = _signed_in(alice), _signed_in(alice)
    _token, raw = services.access_token_create(user=alice, tenant=tenant, name="cli")
    assert laptop.get("/").status_code == 200
    assert Client().get("/api/me/", headers=_bearer(raw)).status_code == 200
    keys = [laptop.session.session_key, phone.session.session_key]

    admin = _signed_in(staff)
    response = admin.post(
        "/admin/accounts/user/",
        {"action": "deactivate_selected", "_selected_action": [alice.pk]},
        follow=True,
    )
    assert "Deactivated 1 person(s)" in response.content.decode()
    assert not User.objects.get(pk=alice.pk).is_active
    assert not Session.objects.filter(session_key__in=keys).exists()
    assert not LoginSession.objects.filter(user=alice).exists()
    for client in (laptop, phone):
        assert client.get("/").status_code == 302  # signed out on the very next request
    assert Client().get("/api/me/", headers=_bearer(raw)).status_code == 401
    assert Event.objects.filter(kind="user.deactivated", actor=staff, data__user_id=alice.pk).exists()

    admin.post("/admin/accounts/user/", {"action": "reactivate_selected", "_selected_action": [alice.pk]})
    assert User.objects.get(pk=alice.pk).is_active
    assert Client().get("/api/me/", headers=_bearer(raw)).status_code == 200
    assert _signed_in(alice).get("/").status_code == 200


def _change_form(user, **changes) -> dict:
    """The admin's change form of a person as posted, "active" unticked unless given."""
    return {
        "email": user.email,
        "name": user.name,
        "time_zone": user.time_zone,
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        **changes,
    }


def test_it_ends_the_sessions_when_staff_untick_active_on_the_change_form(alice, superuser):
    staff = superuser
    laptop = _signed_in(alice)
    admin = _signed_in(staff)
    form = admin.get(f"/admin/accounts/user/{alice.pk}/change/")
    assert form.status_code == 200
    response = admin.post(f"/admin/accounts/user/{alice.pk}/change/", _change_form(alice))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not User.objects.get(pk=alice.pk).is_active
    assert not LoginSession.objects.filter(user=alice).exists()
    assert laptop.get("/").status_code == 302


def test_it_reactivates_on_the_change_form_but_never_a_deleted_account(alice, bob, superuser):
    admin = _signed_in(superuser)
    deletion.user_deactivate(user=alice, actor=superuser)
    response = admin.post(f"/admin/accounts/user/{alice.pk}/change/", _change_form(alice, is_active="on"))
    assert response.status_code == 302
    assert User.objects.get(pk=alice.pk).is_active
    assert Event.objects.filter(kind="user.reactivated", actor=superuser, data__user_id=alice.pk).exists()
    assert _signed_in(alice).get("/").status_code == 200

    deletion.user_tombstone(user=bob)
    bob.refresh_from_db()
    response = admin.post(f"/admin/accounts/user/{bob.pk}/change/", _change_form(bob, is_active="on"))
    assert response.status_code == 302
    assert not User.objects.get(pk=bob.pk).is_active
    assert not Event.objects.filter(kind="user.reactivated", data__user_id=bob.pk).exists()


def test_it_lets_only_staff_deactivate_and_never_themselves(alice, bob, staff):
    with pytest.raises(PermissionDenied):
        deletion.user_deactivate(user=bob, actor=alice)
    with pytest.raises(PermissionDenied, match="yourself"):
        deletion.user_deactivate(user=staff, actor=staff)
    assert User.objects.get(pk=bob.pk).is_active and User.objects.get(pk=staff.pk).is_active
