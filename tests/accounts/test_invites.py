from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from apps.accounts import services
from apps.accounts.models import Invite, InviteRedemption


def test_it_stores_only_a_hash_of_the_code(db):
    invite, code = services.invite_create(created_by=None)
    assert code not in invite.code_hash
    assert Invite.objects.filter(code_hash=services.invite_code_hash(code)).exists()
    assert code.startswith("AR-") and len(code) == 3 + 5 * 4 + 4


def test_it_accepts_codes_typed_loosely(db):
    _invite, code = services.invite_create(created_by=None)
    assert services.invite_check(code=f"  {code.lower()} ").code_hash == _invite.code_hash


@pytest.mark.parametrize("code", ["", "AR-NOPE-NOPE-NOPE-NOPE-NOPE"])
def test_it_rejects_unknown_codes(db, code):
    with pytest.raises(services.InviteUnknown):
        services.invite_check(code=code)


def test_it_rejects_revoked_codes(staff):
    invite, code = services.invite_create(created_by=staff)
    services.invite_revoke(invite=invite, actor=staff)
    with pytest.raises(services.InviteRevoked):
        services.invite_check(code=code)


def test_it_rejects_used_up_codes(alice, bob):
    _invite, code = services.invite_create(created_by=None, max_uses=1)
    services.invite_redeem(code=code, user=alice, ip_address="127.0.0.1")
    with pytest.raises(services.InviteUsedUp):
        services.invite_redeem(code=code, user=bob, ip_address=None)
    assert InviteRedemption.objects.count() == 1


def test_it_expires_codes_on_time(db):
    with time_machine.travel(datetime(2026, 1, 1, 12, tzinfo=UTC), tick=False):
        invite, code = services.invite_create(created_by=None, expires_in_days=7)
    assert invite.expires_at == datetime(2026, 1, 8, 12, tzinfo=UTC)
    with time_machine.travel(datetime(2026, 1, 8, 11, 59, tzinfo=UTC), tick=False):
        assert services.invite_check(code=code) == invite
    deadline = datetime(2026, 1, 8, 12, tzinfo=UTC)
    with time_machine.travel(deadline, tick=False), pytest.raises(services.InviteExpired):
        services.invite_check(code=code)


def test_it_counts_uses_and_records_who_redeemed(alice, bob):
    invite, code = services.invite_create(created_by=None, max_uses=3, note="team")
    services.invite_redeem(code=code, user=alice, ip_address="10.0.0.1")
    services.invite_redeem(code=code, user=bob, ip_address="10.0.0.2")
    invite.refresh_from_db()
    assert invite.used_count == 2 and invite.status == "active"
    assert sorted(invite.redemptions.values_list("ip_address", flat=True)) == ["10.0.0.1", "10.0.0.2"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"max_uses": 0}, "uses"), ({"max_uses": 10_001}, "uses"), ({"expires_in_days": 0}, "expires_in_days")],
)
def test_it_refuses_out_of_range_invites(db, kwargs, field):
    with pytest.raises(services.ValidationFailed) as info:
        services.invite_create(created_by=None, **kwargs)
    assert info.value.field == field
    assert not Invite.objects.exists()


def test_it_revokes_once(staff):
    invite, _code = services.invite_create(created_by=staff)
    first = services.invite_revoke(invite=invite, actor=staff).revoked_at
    again = services.invite_revoke(invite=invite, actor=staff).revoked_at
    assert first is not None and first == again
    assert invite.status == "revoked"


def test_it_reports_status_in_the_database_as_in_python(db):
    from apps.accounts import selectors

    with time_machine.travel(datetime(2026, 1, 1, tzinfo=UTC), tick=False):
        services.invite_create(created_by=None, expires_in_days=1)
    services.invite_create(created_by=None)
    revoked, _ = services.invite_create(created_by=None)
    services.invite_revoke(invite=revoked, actor=None)
    used, _ = services.invite_create(created_by=None)
    Invite.objects.filter(pk=used.pk).update(used_count=1)
    counts = selectors.invite_status_counts()
    assert counts == {"all": 4, "active": 1, "used_up": 1, "expired": 1, "revoked": 1}
    for status in selectors.INVITE_STATUSES:
        assert [i.status for i in selectors.invite_list(status=status)] == [status]


def test_it_keeps_a_last_use_for_exactly_one_of_two_sequential_takers(alice, bob):
    invite, code = services.invite_create(created_by=None, max_uses=2)
    Invite.objects.filter(pk=invite.pk).update(used_count=1)
    services.invite_redeem(code=code, user=alice, ip_address=None)
    with pytest.raises(services.InviteUsedUp):
        services.invite_redeem(code=code, user=bob, ip_address=None)
    invite.refresh_from_db()
    assert invite.used_count == 2


def test_it_expires_relative_to_now(db):
    invite, _ = services.invite_create(created_by=None, expires_in_days=30)
    from django.utils import timezone

    assert timedelta(days=29) < invite.expires_at - timezone.now() <= timedelta(days=30)
