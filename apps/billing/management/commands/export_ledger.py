from datetime import date

from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import Tenant
from apps.billing import selectors
from apps.billing.exports import ledger_csv_copy, ledger_csv_write


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a date; use YYYY-MM-DD.") from exc


class _Unterminated:
    """Writes text to a command's stdout as is (OutputWrapper would end every write with a newline)."""

    def __init__(self, stdout):
        self.stdout = stdout

    def write(self, text: str) -> None:
        self.stdout.write(text, ending="")


class Command(BaseCommand):
    help = "Stream the ledger as CSV (header row; amounts as exact decimal strings) to a file or stdout."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", metavar="SLUG", help="Only this workspace.")
        parser.add_argument("--since", metavar="DATE", help="From this day on (YYYY-MM-DD, inclusive).")
        parser.add_argument("--until", metavar="DATE", help="Up to this day (YYYY-MM-DD, inclusive).")
        parser.add_argument(
            "--output", metavar="FILE", default="-", help="A file to write; - or none: stdout."
        )

    def handle(self, *args, tenant=None, since=None, until=None, output="-", **options):
        tenant_obj = None
        if tenant:
            tenant_obj = Tenant.objects.filter(slug=tenant).first()
            if tenant_obj is None:
                raise CommandError(f"No workspace with the slug {tenant!r}.")
        since_day = _date(since) if since else None
        until_day = _date(until) if until else None
        if since_day and until_day and since_day > until_day:
            raise CommandError("--since is after --until.")
        bounds = {"tenant": tenant_obj, "since": since_day, "until": until_day}
        if output in ("", "-"):
            count = self._export(_Unterminated(self.stdout), bounds)
            self.stdout.flush()
        else:
            with open(output, "w", newline="", encoding="utf-8") as handle:
                count = self._export(handle, bounds)
        self.stderr.write(f"Exported {count} ledger entries.")

    def _export(self, handle, bounds: dict) -> int:
        """PostgreSQL formats the CSV itself (COPY); elsewhere the same rows go through csv.writer."""
        count = ledger_csv_copy(handle, **bounds)
        if count is None:
            count = ledger_csv_write(selectors.ledger_export_rows(**bounds), handle)
        return count
