"""One-click unsubscribe, signed out: the link in the body (asks first), the List-Unsubscribe POST of RFC
8058, undo, and tokens that were tampered with or name a security alert."""

from apps.core.models import Event
from apps.notifications.emails import unsubscribe_token
from apps.notifications.models import Preference
from apps.notifications.selectors import preference_choices


def _url(user, kind="balance_low") -> str:
    return f"/notifications/unsubscribe/{unsubscribe_token(user_id=user.pk, kind=kind)}/"


def test_it_asks_before_unsubscribing_from_the_link_in_the_body(client, alice):
    response = client.get(_url(alice))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Stop these emails?" in html and "alice@example.com" in html
    assert "balance under the threshold" in html
    assert preference_choices(user=alice)["balance_low"].email is True  # a mail scanner's GET changes nothing


def test_it_unsubscribes_with_one_click_signed_out(client, alice):
    response = client.post(
        _url(alice), data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert "You're unsubscribed" in response.content.decode()
    choice = preference_choices(user=alice)["balance_low"]
    assert (choice.in_app, choice.email) == (True, False)
    assert preference_choices(user=alice)["job_failed"].email is True  # only that kind
    assert Event.objects.filter(kind="notifications.email.unsubscribed", actor=alice).exists()


def test_it_undoes_an_unsubscribe(client, alice):
    client.post(_url(alice), {"action": "unsubscribe"})
    response = client.post(_url(alice), {"action": "resubscribe"})
    assert "Emails are back on" in response.content.decode()
    assert preference_choices(user=alice)["balance_low"].email is True


def test_it_refuses_a_tampered_token(client, alice, bob):
    token = unsubscribe_token(user_id=alice.pk, kind="balance_low")
    _payload, rest = token.split(":", 1)
    forged = unsubscribe_token(user_id=bob.pk, kind="balance_low").split(":", 1)[0] + ":" + rest
    for bad in (forged, token[:-2] + "xx", "not-a-token"):
        response = client.post(f"/notifications/unsubscribe/{bad}/", {"action": "unsubscribe"})
        assert response.status_code == 400, bad
        assert "This unsubscribe link is not valid" in response.content.decode()
        assert client.get(f"/notifications/unsubscribe/{bad}/").status_code == 400
    assert not Preference.objects.exists()


def test_it_never_turns_off_security_alerts(client, alice):
    response = client.post(_url(alice, kind="new_sign_in"), {"action": "unsubscribe"})
    assert response.status_code == 400
    assert "Security alerts are always sent" in response.content.decode()
    assert preference_choices(user=alice)["new_sign_in"].email is True
