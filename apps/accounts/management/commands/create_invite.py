from django.core.management.base import BaseCommand, CommandError

from apps.accounts import services
from apps.core.errors import ApplicationError


class Command(BaseCommand):
    help = "Create an invite code. The code is printed alone on the last line, for scripts."

    def add_arguments(self, parser):
        parser.add_argument(
            "--uses", type=int, default=1, help="How many sign-ups the code allows (default 1)."
        )
        parser.add_argument(
            "--expires-in-days", type=int, default=None, help="Days until it expires (default never)."
        )
        parser.add_argument("--note", default="", help="Who or what the code is for.")

    def handle(self, *args, uses, expires_in_days, note, **options):
        try:
            invite, code = services.invite_create(
                created_by=None, max_uses=uses, expires_in_days=expires_in_days, note=note
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        expiry = f"expires {invite.expires_at:%Y-%m-%d %H:%M %Z}" if invite.expires_at else "never expires"
        self.stderr.write(f"Invite for {uses} sign-up(s), {expiry}. It is shown only now:")
        self.stdout.write(code)
