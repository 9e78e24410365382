from datetime import UTC, datetime

import pytest

from apps.accounts import services
from apps.accounts.models import Invite

LIST = "/staff/invites/"


def test_it_hides_the_invite_pages_from_members(alice_client):
    assert alice_client.get(LIST).status_code == 404
    assert alice_client.post(f"{LIST}new/", {"uses": 1}).status_code == 404
    assert not Invite.objects.exists()


def test_it_creates_an_invite_and_shows_the_code_once(staff_client, staff):
    response = staff_client.post(f"{LIST}new/", {"uses": 5, "expires_in_days": 7, "note": "Team Q4"})
    assert response.status_code == 302
    page = staff_client.get(LIST).content.decode()
    invite = Invite.objects.get()
    assert (invite.max_uses, invite.note, invite.created_by) == (5, "Team Q4", staff)
    code = page.split('id="new-invite-code"')[1].split('value="')[1].split('"')[0]
    assert services.invite_check(code=code) == invite
    assert code not in staff_client.get(LIST).content.decode()  # shown once


def test_it_keeps_the_typed_values_when_the_form_is_wrong(staff_client):
    response = staff_client.post(f"{LIST}new/", {"uses": 0, "expires_in_days": 999, "note": "keep me"})
    assert response.status_code == 400
    content = response.content.decode()
    assert 'value="keep me"' in content
    assert "greater than or equal to 1" in content
    assert not Invite.objects.exists()


@pytest.mark.parametrize("status", ["", "active", "used_up", "expired", "revoked", "nonsense"])
def test_it_filters_by_status_in_constant_queries(staff_client, django_assert_max_num_queries, status):
    for index in range(30):
        invite, _ = services.invite_create(created_by=None, note=f"n{index}")
        if index % 3 == 0:
            services.invite_revoke(invite=invite, actor=None)
    with django_assert_max_num_queries(12):
        response = staff_client.get(LIST, {"status": status})
    assert response.status_code == 200


def test_it_lists_only_the_chosen_status(staff_client):
    services.invite_create(created_by=None, note="still-good")
    gone, _ = services.invite_create(created_by=None, note="withdrawn")
    services.invite_revoke(invite=gone, actor=None)
    content = staff_client.get(LIST, {"status": "revoked"}).content.decode()
    assert "withdrawn" in content and "still-good" not in content


def test_it_shows_redemption_history_and_revokes(staff_client, alice):
    invite, code = services.invite_create(created_by=None, max_uses=2)
    services.invite_redeem(code=code, user=alice, ip_address="192.0.2.7")
    page = staff_client.get(f"{LIST}{invite.pk}/").content.decode()
    assert "alice@example.com" in page and "192.0.2.7" in page
    response = staff_client.post(f"{LIST}{invite.pk}/revoke/")
    assert response.status_code == 302
    invite.refresh_from_db()
    assert invite.status == "revoked"


def test_it_answers_404_for_a_missing_invite(staff_client):
    assert staff_client.get(f"{LIST}424242/").status_code == 404
    assert staff_client.post(f"{LIST}424242/revoke/").status_code == 404


def _row(page: str, note: str) -> str:
    start = page.rindex("<tr>", 0, page.index(note))
    return page[start : page.index("</tr>", start)]


def test_it_says_an_invite_was_made_on_the_command_line(staff_client, staff):
    services.invite_create(created_by=None, note="from-the-shell")
    services.invite_create(created_by=staff, note="from-the-page")
    page = staff_client.get(LIST).content.decode()
    assert "Command line" in _row(page, "from-the-shell")
    assert "by staff@example.com" in _row(page, "from-the-page") and "Command line" not in _row(
        page, "from-the-page"
    )
    invite = Invite.objects.get(note="from-the-shell")
    assert "On the command line" in staff_client.get(f"{LIST}{invite.pk}/").content.decode()


def test_it_writes_dates_and_times_one_way(staff_client, staff):
    invite, _ = services.invite_create(created_by=staff, note="dated", expires_in_days=10)
    Invite.objects.filter(pk=invite.pk).update(
        created_at=datetime(2025, 3, 14, 14, 5, tzinfo=UTC),
        expires_at=datetime(2025, 3, 24, 9, 0, tzinfo=UTC),
    )
    row = _row(staff_client.get(LIST).content.decode(), "dated")
    assert ">Mar 14, 2025</time>" in row and ">Mar 24, 2025</time>" in row
    assert 'title="Mar 14, 2025, 14:05"' in row
    detail = staff_client.get(f"{LIST}{invite.pk}/").content.decode()
    assert ">Mar 14, 2025, 14:05</time>" in detail and ">Mar 24, 2025, 09:00</time>" in detail
