from django.apps import AppConfig

PURGE_SCHEDULE = "worklog: purge deleted entries"


class WorklogConfig(AppConfig):
    name = "apps.worklog"
    label = "worklog"
    verbose_name = "Work log"

    def bootstrap(self, stdout) -> None:
        """The work log's part of `manage.py bootstrap`: a daily purge of entries deleted long enough ago."""
        from django_q.models import Schedule  # the registry is ready by now

        from apps.worklog.services import PURGE_AFTER

        _schedule, created = Schedule.objects.update_or_create(
            name=PURGE_SCHEDULE,
            defaults={
                "func": "apps.worklog.services.entry_purge_deleted",
                "schedule_type": Schedule.DAILY,
                "repeats": -1,
            },
        )
        what = f"the daily purge of entries deleted more than {PURGE_AFTER.days} days ago"
        stdout.write(f"scheduled {what}." if created else f"{what} is scheduled.")
