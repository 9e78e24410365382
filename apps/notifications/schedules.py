"""The django-q2 schedules of notifications, installed (idempotently) by `manage.py bootstrap`."""

from django_q.models import Schedule

SCHEDULES = {
    "notifications: weekly reminders": "apps.notifications.tasks.capture_reminders_send",
    "notifications: follow-ups due": "apps.notifications.tasks.follow_ups_send",
}


def schedules_install() -> list[str]:
    """Both run hourly: each person's own hour comes round in their time zone, and the keys make a second
    run (or two workers) harmless. Returns what was done."""
    done = []
    for name, func in SCHEDULES.items():
        _schedule, created = Schedule.objects.update_or_create(
            name=name, defaults={"func": func, "schedule_type": Schedule.HOURLY, "repeats": -1}
        )
        done.append(
            f"scheduled {name.split(': ', 1)[1]} hourly."
            if created
            else f"{name.split(': ', 1)[1]} are scheduled hourly."
        )
    return done
