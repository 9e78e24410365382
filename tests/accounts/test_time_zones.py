"""Time zones: a list of canonical zones grouped by region, aliases that resolve, the browser's zone saved
at sign-up, and unknown zones refused with a message (on the profile and at sign-up)."""

import zoneinfo
from html import unescape

import pytest

from apps.accounts import services
from apps.accounts.models import User
from apps.accounts.timezones import (
    time_zone_aliases,
    time_zone_groups,
    time_zone_names,
    time_zone_resolve,
)
from tests.accounts.test_signup import SIGNUP, signup_data


def test_it_offers_canonical_zones_not_every_raw_name():
    names = time_zone_names()
    assert names[0] == "UTC"
    assert {"Europe/Berlin", "America/New_York", "Asia/Kolkata", "Europe/Amsterdam"} <= set(names)
    for legacy in ("US/Eastern", "Asia/Calcutta", "Etc/GMT+5", "GB", "Europe/Kiev"):
        assert legacy not in names
    assert len(names) < len(zoneinfo.available_timezones()) * 0.8
    for name in names:
        zoneinfo.ZoneInfo(name)  # every one of them works


def test_it_groups_the_zones_by_region():
    groups = dict(time_zone_groups())
    assert next(iter(groups)) == "UTC"
    assert {"Africa", "America", "Asia", "Europe", "Pacific"} <= set(groups)
    assert all(zone.name.startswith("Europe/") for zone in groups["Europe"])
    berlin = next(zone for zone in groups["Europe"] if zone.name == "Europe/Berlin")
    assert berlin.city == "Berlin" and berlin.country == "Germany"


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("America/New York", "America/New_York"),
        ("berlin", "Europe/Berlin"),
        ("Asia/Calcutta", "Asia/Kolkata"),  # what Chrome reports for India
        ("US/Eastern", "America/New_York"),
        ("Europe/Kiev", "Europe/Kyiv"),
        ("Etc/UTC", "UTC"),
        ("GMT", "UTC"),
        ("  UTC  ", "UTC"),
    ],
)
def test_it_resolves_aliases_and_loose_spellings(typed, zone):
    assert time_zone_resolve(typed) == zone


@pytest.mark.parametrize("typed", ["Mars/Olympus_Mons", "", "Europe", "x" * 200, "Etc/GMT+5"])
def test_it_knows_no_zone_for_nonsense(typed):
    assert time_zone_resolve(typed) is None


def test_it_maps_browser_aliases_to_canonical_names():
    aliases = time_zone_aliases()
    assert aliases["asia/calcutta"] == "Asia/Kolkata" and aliases["us/pacific"] == "America/Los_Angeles"


def test_it_offers_the_zones_as_a_type_ahead_list_on_the_profile(alice_client):
    page = alice_client.get("/profile/").content.decode()
    assert 'list="id_time_zone-list"' in page and '<datalist id="id_time_zone-list">' in page
    assert '<option value="Europe/Berlin" label="Germany' in page
    assert '<option value="US/Eastern"' not in page
    assert page.count("<option value=") < 500


def test_it_saves_an_alias_as_its_canonical_zone(alice_client, alice):
    response = alice_client.post(
        "/profile/", {"action": "profile", "name": "Alice", "time_zone": "US/Pacific"}
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.time_zone == "America/Los_Angeles"


def test_it_refuses_an_unknown_zone_on_the_profile_with_a_message(alice_client, alice):
    response = alice_client.post(
        "/profile/", {"action": "profile", "name": "Typed Name", "time_zone": "Mars/Olympus"}
    )
    page = unescape(response.content.decode())
    assert response.status_code == 400
    assert "We don't know the time zone “Mars/Olympus”" in page
    assert 'value="Mars/Olympus"' in page and 'value="Typed Name"' in page
    alice.refresh_from_db()
    assert alice.time_zone == "UTC"


def test_it_saves_the_browsers_zone_at_sign_up(client, db):
    _invite, code = services.invite_create(created_by=None)
    response = client.post(SIGNUP, signup_data(code, time_zone="Asia/Calcutta"))
    assert response.status_code == 302
    assert User.objects.get(email="dana@example.com").time_zone == "Asia/Kolkata"


def test_it_signs_up_in_utc_when_no_zone_came(client, db):
    _invite, code = services.invite_create(created_by=None)
    assert client.post(SIGNUP, signup_data(code)).status_code == 302
    assert User.objects.get(email="dana@example.com").time_zone == "UTC"


def test_it_refuses_an_unknown_zone_at_sign_up_and_keeps_what_was_typed(client, db):
    invite, code = services.invite_create(created_by=None)
    response = client.post(SIGNUP, signup_data(code, time_zone="Mars/Olympus"))
    page = unescape(response.content.decode())
    assert response.status_code == 200
    assert "We don't know the time zone “Mars/Olympus”" in page
    assert 'value="dana@example.com"' in page and 'value="Mars/Olympus"' in page
    assert not User.objects.filter(email="dana@example.com").exists()
    invite.refresh_from_db()
    assert invite.used_count == 0


def test_it_offers_the_sign_up_page_the_browser_zone_detection(client, db):
    page = client.get(SIGNUP).content.decode()
    assert 'name="time_zone"' in page and "data-time-zone-detect" in page
    assert 'id="id_time_zone-list-aliases" type="application/json"' in page
