from datetime import date

from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import ApplicationError
from apps.metrics import services


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a date; use YYYY-MM-DD.") from exc


class Command(BaseCommand):
    help = (
        "Compute the daily metrics snapshots from --since to --until (today by default), replacing what is "
        "there. Idempotent: running it again gives the same figures."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", metavar="DATE", required=True, help="First day (YYYY-MM-DD).")
        parser.add_argument("--until", metavar="DATE", help="Last day (YYYY-MM-DD); today by default.")

    def handle(self, *args, since, until=None, **options):
        first = _date(since)
        last = _date(until) if until else None
        verbose = options.get("verbosity", 1) > 1
        try:
            count = services.snapshot_backfill(
                since=first,
                until=last,
                progress=(lambda day: self.stdout.write(f"computed {day:%Y-%m-%d}")) if verbose else None,
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        zone = services.metrics_zone()
        self.stdout.write(f"Computed {count} day{'s' if count != 1 else ''} of metrics ({zone.key} days).")
