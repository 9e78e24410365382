"""The notification settings page: a switch per kind and channel, security alerts locked on, the reminder's
day and hour, feedback, and bad input kept."""

from apps.notifications.models import Preference, ReminderSchedule
from apps.notifications.selectors import preference_choices


def _form(**overrides) -> dict:
    data = {
        "balance_low-in_app": "on",
        "balance_low-email": "on",
        "job_failed-in_app": "on",
        "capture_reminder-email": "on",
        "reminder_weekday": "0",
        "reminder_hour": "8",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_it_shows_the_defaults(alice_client):
    html = alice_client.get("/notifications/settings/").content.decode()
    assert "Notification settings" in html and "alice@example.com" in html
    assert (
        'name="balance_low-email" class="form-check-input" role="switch" id="id_balance_low-email" checked'
        in html
    )
    assert (
        'name="capture_reminder-email" class="form-check-input" role="switch" id="id_capture_reminder-email">'
        in html
    )
    assert 'role="switch" disabled id="id_new_sign_in-email" checked' in html
    assert '<option value="4" selected>Friday</option>' in html
    assert '<option value="16" selected>16:00</option>' in html


def test_it_saves_choices_and_the_reminder_time(alice_client, alice):
    response = alice_client.post("/notifications/settings/", _form(), follow=True)
    assert "Notification settings saved." in response.content.decode()
    choices = preference_choices(user=alice)
    assert (choices["balance_low"].in_app, choices["balance_low"].email) == (True, True)
    assert (choices["job_failed"].in_app, choices["job_failed"].email) == (True, False)
    assert (choices["job_succeeded"].in_app, choices["job_succeeded"].email) == (False, False)
    assert (choices["capture_reminder"].in_app, choices["capture_reminder"].email) == (False, True)
    schedule = ReminderSchedule.objects.get(user=alice)
    assert (schedule.weekday, schedule.hour) == (0, 8)
    html = response.content.decode()
    assert '<option value="0" selected>Monday</option>' in html


def test_it_keeps_security_alerts_on_whatever_is_posted(alice_client, alice):
    alice_client.post("/notifications/settings/", _form())
    assert not Preference.objects.filter(user=alice, kind="new_sign_in").exists()
    choice = preference_choices(user=alice)["new_sign_in"]
    assert (choice.in_app, choice.email) == (True, True)


def test_it_refuses_a_bad_hour_and_keeps_what_was_chosen(alice_client, alice):
    response = alice_client.post(
        "/notifications/settings/", _form(reminder_hour="25", **{"job_failed-email": "on"})
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Select a valid choice" in html
    assert 'id="id_job_failed-email" checked' in html
    assert not Preference.objects.filter(user=alice).exists()
