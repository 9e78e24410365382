import os

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from apps.accounts import services
from apps.core.errors import ApplicationError


class _AppOutput:
    """What an app's bootstrap step writes, one line at a time, labelled with the app's name."""

    def __init__(self, stdout, label: str):
        self.stdout, self.label = stdout, label

    def write(self, line: str) -> None:
        self.stdout.write(f"{self.label}: {line}")


class Command(BaseCommand):
    help = (
        "Idempotent set-up: the staff admin (ADMIN_EMAIL / ADMIN_PASSWORD) with a workspace, then the "
        "bootstrap step of every installed app that has one (an AppConfig.bootstrap(stdout) method), in "
        "INSTALLED_APPS order."
    )

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
        for config in apps.get_app_configs():
            step = getattr(config, "bootstrap", None)
            if not callable(step):
                continue
            try:
                step(_AppOutput(self.stdout, str(config.verbose_name)))
            except ApplicationError as exc:
                raise CommandError(f"{config.verbose_name}: {exc.message}") from exc
