import re

import pytest
from django.core import mail

from apps.accounts import services
from apps.accounts.models import Invite, Membership, User

SIGNUP = "/accounts/signup/"


def signup_data(code, **overrides):
    data = {
        "invite_code": code,
        "name": "Dana Diaz",
        "email": "dana@example.com",
        "password1": "a sturdy passphrase 991",
        "password2": "a sturdy passphrase 991",
    }
    data.update(overrides)
    return data


def test_it_has_an_invite_code_field(client, db):
    response = client.get(SIGNUP)
    assert response.status_code == 200
    assert b'name="invite_code"' in response.content


def test_it_signs_up_with_an_invite_into_a_new_workspace(client, db):
    invite, code = services.invite_create(created_by=None)
    response = client.post(SIGNUP, signup_data(code))
    assert response.status_code == 302
    user = User.objects.get(email="dana@example.com")
    assert user.name == "Dana Diaz"
    membership = Membership.objects.get(user=user)
    assert membership.role == "owner" and membership.tenant.name == "Dana Diaz's workspace"
    invite.refresh_from_db()
    assert invite.used_count == 1
    assert invite.redemptions.get().user == user
    # The address is confirmed with an emailed code before the person is in.
    assert re.search(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b", mail.outbox[-1].body)


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        ("unknown", "We don't recognise this invite code"),
        ("revoked", "This invite code has been withdrawn"),
        ("used_up", "already been used as many times"),
        ("expired", "This invite code has expired"),
    ],
)
def test_it_explains_each_bad_code_and_keeps_what_was_typed(client, db, prepare, message):
    invite, code = services.invite_create(created_by=None, expires_in_days=3)
    if prepare == "unknown":
        code = "AR-AAAA-BBBB-CCCC-DDDD-EEEE"
    elif prepare == "revoked":
        services.invite_revoke(invite=invite, actor=None)
    elif prepare == "used_up":
        Invite.objects.filter(pk=invite.pk).update(used_count=1)
    elif prepare == "expired":
        Invite.objects.filter(pk=invite.pk).update(expires_at="2020-01-01T00:00:00Z")
    response = client.post(SIGNUP, signup_data(code))
    assert response.status_code == 200
    content = response.content.decode()
    assert message in content.replace("&#x27;", "'")
    assert 'value="dana@example.com"' in content
    assert 'value="Dana Diaz"' in content
    assert not User.objects.filter(email="dana@example.com").exists()


def test_it_requires_the_invite_on_the_passkey_sign_up_path_too(client, db):
    response = client.post("/accounts/signup/passkey/", {"email": "eve@example.com", "invite_code": ""})
    assert response.status_code == 200
    assert not User.objects.filter(email="eve@example.com").exists()
    _invite, code = services.invite_create(created_by=None)
    response = client.post("/accounts/signup/passkey/", {"email": "eve@example.com", "invite_code": code})
    assert response.status_code == 302
    user = User.objects.get(email="eve@example.com")
    assert not user.has_usable_password()
    assert Membership.objects.filter(user=user, role="owner").exists()


def test_it_closes_sign_up_when_switched_off(client, db, settings):
    settings.SIGNUP_OPEN = False
    _invite, code = services.invite_create(created_by=None)
    response = client.post(SIGNUP, signup_data(code))
    assert not User.objects.filter(email="dana@example.com").exists()
    assert response.status_code == 200
