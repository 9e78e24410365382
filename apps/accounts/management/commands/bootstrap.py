import os

from django.core.management.base import BaseCommand, CommandError

from apps.accounts import services
from apps.core.errors import ApplicationError


class Command(BaseCommand):
    help = "Idempotent set-up: staff admin (ADMIN_EMAIL / ADMIN_PASSWORD), workspace, default rate cards."

    def add_arguments(self, parser):
        parser.add_argument("--email", default=os.environ.get("ADMIN_EMAIL", ""))
        parser.add_argument("--password", default=os.environ.get("ADMIN_PASSWORD", ""))

    def handle(self, *args, email, password, **options):
        if not email or not password:
            raise CommandError("Set ADMIN_EMAIL and ADMIN_PASSWORD (or pass --email and --password).")
        try:
            user, created = services.admin_ensure(email=email, password=password)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"{'Created' if created else 'Updated'} staff admin {user.email}.")
        from apps.billing.services import billing_defaults_install

        for line in billing_defaults_install():
            self.stdout.write(line)
