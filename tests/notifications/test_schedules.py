"""The hourly schedules, with a frozen clock: the weekly reminder in each person's own time zone (opt-in,
skipped when they logged that week, once a week however often it runs) and follow-ups due."""

import io
from datetime import UTC, date, datetime

import time_machine
from django.apps import apps
from django.utils.module_loading import import_string
from django_q.models import Schedule

from apps.notifications import services, tasks
from apps.notifications.models import Notification
from apps.worklog import services as worklog
from tests.notifications.conftest import notification_emails

FRIDAY = 4


def at(*args) -> time_machine.travel:
    return time_machine.travel(datetime(*args, tzinfo=UTC), tick=False)


def _zone(user, name: str) -> None:
    user.time_zone = name
    user.save(update_fields=["time_zone"])


def _remind(user, *, in_app=True, email=True, weekday=FRIDAY, hour=16) -> None:
    services.preferences_update(
        user=user,
        choices={"capture_reminder": (in_app, email)},
        reminder_weekday=weekday,
        reminder_hour=hour,
    )


def _reminders(user) -> list[str]:
    return list(
        Notification.objects.filter(user=user, kind="capture_reminder")
        .order_by("id")
        .values_list("key", flat=True)
    )


def _run(committed) -> int:
    with committed():
        return tasks.capture_reminders_send()


def test_it_sends_the_weekly_reminder_at_each_persons_own_hour(alice, charlie, committed):
    _zone(alice, "Europe/Berlin")  # UTC+1 in March
    _zone(charlie, "America/Los_Angeles")  # UTC-7 after March 9
    _remind(alice)
    _remind(charlie, email=False)

    with at(2025, 3, 14, 14, 30):  # Friday: 15:30 in Berlin, 07:30 in Los Angeles
        assert _run(committed) == 0
    with at(2025, 3, 14, 15, 5):  # 16:05 in Berlin
        assert _run(committed) == 1
    with at(2025, 3, 14, 15, 40):  # the schedule running again, or a second worker
        assert _run(committed) == 0
    assert _reminders(alice) == ["capture_reminder:2025-W11"]
    assert _reminders(charlie) == []

    with at(2025, 3, 14, 23, 10):  # 16:10 in Los Angeles; past midnight in Berlin
        assert _run(committed) == 1
    assert _reminders(charlie) == ["capture_reminder:2025-W11"]
    assert _reminders(alice) == ["capture_reminder:2025-W11"]

    (message,) = notification_emails()  # charlie chose in-app only
    assert message.to == ["alice@example.com"]
    assert message.subject == "[AfterResume] A minute to log your week?"
    assert "week of Mar 10" in message.body
    assert "Log work: https://afterresume.example/log/new/" in message.body
    assert "Log work" in message.alternatives[0][0]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    notification = Notification.objects.get(user=charlie)
    assert (notification.in_app, notification.email_state) == (True, "none")

    with at(2025, 3, 21, 15, 5):  # a week later
        assert _run(committed) == 1
    assert _reminders(alice) == ["capture_reminder:2025-W11", "capture_reminder:2025-W12"]


def test_it_skips_the_reminder_in_a_week_the_person_logged(alice, tenant, committed):
    _zone(alice, "Europe/Berlin")
    _remind(alice)
    with at(2025, 3, 9, 23, 30):  # Monday 00:30 in Berlin: the week has begun there
        worklog.entry_create(tenant=tenant, author=alice, title="Planned the migration")
    with at(2025, 3, 14, 15, 5):
        assert _run(committed) == 0
    with at(2025, 3, 21, 15, 5):  # nothing logged in this week
        assert _run(committed) == 1
    assert _reminders(alice) == ["capture_reminder:2025-W12"]


def test_it_counts_what_was_logged_before_the_persons_monday_as_last_week(alice, tenant, committed):
    _zone(alice, "America/Los_Angeles")
    _remind(alice, weekday=0, hour=9)  # Monday 09:00
    with at(2025, 3, 10, 6, 0):  # Sunday 23:00 in Los Angeles, already Monday in UTC
        worklog.entry_create(tenant=tenant, author=alice, title="Wrote the retro notes")
    with at(2025, 3, 10, 16, 30):  # Monday 09:30 in Los Angeles
        assert _run(committed) == 1


def test_it_sends_no_reminder_to_people_who_did_not_turn_it_on(alice, bob, committed):
    _remind(alice, in_app=False, email=False)
    with at(2025, 3, 14, 16, 5):
        assert _run(committed) == 0
    assert not Notification.objects.exists()
    assert not notification_emails()


def test_it_stops_the_reminder_when_it_is_turned_off(alice, committed):
    _remind(alice)
    with at(2025, 3, 14, 16, 5):
        assert _run(committed) == 1
    _remind(alice, in_app=False, email=False)
    with at(2025, 3, 21, 16, 5):
        assert _run(committed) == 0
    assert len(_reminders(alice)) == 1


def test_it_catches_up_a_late_sunday_reminder_after_midnight(alice, committed):
    _remind(alice, weekday=6, hour=23)  # Sunday 23:00 UTC
    with at(2025, 3, 17, 1, 30):  # the 23:00 run was missed; Monday 01:30 is within the grace
        assert _run(committed) == 1
    assert _reminders(alice) == ["capture_reminder:2025-W11"]


def _pending(tenant, author, title, *, follow_up_on):
    return worklog.entry_create(
        tenant=tenant,
        author=author,
        title=title,
        occurred_on=date(2025, 3, 1),
        outcome_pending=True,
        follow_up_on=follow_up_on,
    )


def _follow_ups(committed) -> int:
    with committed():
        return tasks.follow_ups_send()


def test_it_sends_follow_ups_on_their_day_in_the_authors_time_zone(alice, bob, tenant, committed):
    _zone(alice, "Asia/Tokyo")  # UTC+9
    with at(2025, 3, 2, 12, 0):
        tokyo = _pending(tenant, alice, "Proposed the on-call rota", follow_up_on=date(2025, 3, 14))
        utc = _pending(tenant, bob, "Pitched the pricing change", follow_up_on=date(2025, 3, 14))
        _pending(tenant, alice, "Asked for the promotion", follow_up_on=date(2025, 4, 1))
        done = _pending(tenant, alice, "Sent the offer", follow_up_on=date(2025, 3, 10))
        worklog.entry_update(entry=done, actor=alice, outcome_pending=False)

    with at(2025, 3, 13, 23, 30):  # 08:30 on the day in Tokyo: before the follow-up hour
        assert _follow_ups(committed) == 0
    with at(2025, 3, 14, 0, 10):  # 09:10 in Tokyo, 00:10 in UTC
        assert _follow_ups(committed) == 1
        assert _follow_ups(committed) == 0
    with at(2025, 3, 14, 9, 5):  # 09:05 in UTC
        assert _follow_ups(committed) == 1

    notification = Notification.objects.get(user=alice)
    assert notification.key == f"follow_up:{tokyo.pk}:2025-03-14"
    assert notification.title == "Follow up: Proposed the on-call rota"
    assert notification.url == f"/log/entries/{tokyo.pk}/edit/"
    assert Notification.objects.get(user=bob).key == f"follow_up:{utc.pk}:2025-03-14"
    assert sorted(message.to[0] for message in notification_emails()) == [
        "alice@example.com",
        "bob@example.com",
    ]
    message = next(message for message in notification_emails() if message.to == ["alice@example.com"])
    assert "Proposed the on-call rota" in message.body and "Mar 14, 2025" in message.body
    assert f"https://afterresume.example/log/entries/{tokyo.pk}/edit/" in message.alternatives[0][0]

    # A new follow-up date is a new reminder, once.
    worklog.entry_update(entry=tokyo, actor=alice, follow_up_on=date(2025, 3, 20))
    with at(2025, 3, 20, 1, 0):
        assert _follow_ups(committed) == 1
        assert _follow_ups(committed) == 0
    assert Notification.objects.filter(user=alice).count() == 2


def test_it_installs_the_hourly_schedules_once(db):
    config = apps.get_app_config("notifications")
    first, second = io.StringIO(), io.StringIO()
    config.bootstrap(first)
    config.bootstrap(second)
    schedules = Schedule.objects.filter(name__startswith="notifications: ").order_by("name")
    assert [(s.name, s.schedule_type, s.repeats) for s in schedules] == [
        ("notifications: follow-ups due", Schedule.HOURLY, -1),
        ("notifications: weekly reminders", Schedule.HOURLY, -1),
    ]
    for schedule in schedules:
        assert callable(import_string(schedule.func))
    assert "scheduled" in first.getvalue()
    assert "are scheduled hourly" in second.getvalue()
