import pytest
from django.test import Client

from apps.accounts import services
from apps.accounts.models import Invite, InviteRedemption, User
from tests.concurrency import needs_postgres, run_in_threads

pytestmark = needs_postgres

RACERS = 8


@pytest.mark.django_db(transaction=True)
def test_it_gives_the_last_use_to_exactly_one_of_many_racing_sign_ups():
    invite, code = services.invite_create(created_by=None, max_uses=1)

    def sign_up(index):
        response = Client().post(
            "/accounts/signup/",
            {
                "invite_code": code,
                "name": f"Racer {index}",
                "email": f"racer{index}@example.com",
                "password1": "a sturdy passphrase 991",
                "password2": "a sturdy passphrase 991",
            },
        )
        return response.status_code

    statuses = run_in_threads(RACERS, sign_up)
    assert statuses.count(302) == 1
    assert statuses.count(200) == RACERS - 1
    assert User.objects.count() == 1
    invite.refresh_from_db()
    assert invite.used_count == 1
    assert InviteRedemption.objects.get().user == User.objects.get()


@pytest.mark.django_db(transaction=True)
def test_it_never_overspends_a_multi_use_code_under_concurrent_redemption():
    invite, code = services.invite_create(created_by=None, max_uses=3)
    users = [User.objects.create_user(email=f"u{i}@example.com", password="x" * 12) for i in range(RACERS)]

    def redeem(index):
        try:
            services.invite_redeem(code=code, user=users[index], ip_address=None)
        except services.InviteUsedUp:
            return "used_up"
        return "ok"

    outcomes = run_in_threads(RACERS, redeem)
    assert outcomes.count("ok") == 3
    invite.refresh_from_db()
    assert invite.used_count == 3 == Invite.objects.get().redemptions.count()
