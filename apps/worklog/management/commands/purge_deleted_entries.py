from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from apps.worklog import services


class Command(BaseCommand):
    help = "Remove for good the work-log entries deleted more than --days ago (default 30), with their files."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=services.PURGE_AFTER.days)

    def handle(self, *args, days: int, **options):
        if days < 1:
            raise CommandError("--days must be at least 1, so a delete can always be undone for a while.")
        purged = services.entry_purge_deleted(older_than=timedelta(days=days))
        self.stdout.write(
            f"Purged {purged} entr{'y' if purged == 1 else 'ies'} deleted more than {days} days ago."
        )
