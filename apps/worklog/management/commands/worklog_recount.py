from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import Tenant
from apps.worklog import services


class Command(BaseCommand):
    help = (
        "Check the skills' counters (entries per skill, last used) against a recount of the log; with --fix, "
        "recount the skills that differ. Reads every link: run it off-peak."
    )

    def add_arguments(self, parser):
        parser.add_argument("--workspace", help="the workspace's slug (default: every workspace)")
        parser.add_argument("--fix", action="store_true", help="recount the skills whose counters differ")

    def handle(self, *args, workspace: str | None, fix: bool, **options):
        tenant = None
        if workspace:
            tenant = Tenant.objects.filter(slug=workspace).first()
            if tenant is None:
                raise CommandError(f"There is no workspace with the slug “{workspace}”.")
        wrong = services.skill_counts_check(tenant=tenant)
        for row in wrong:
            months = "".join(
                f"; {month:%Y-%m} stored {stored}, counted {counted}"
                for month, (stored, counted) in sorted(row["months"].items())
            )
            self.stdout.write(
                f"skill {row['id']} “{row['name']}”: stored {row['stored']}, counted {row['counted']}{months}"
            )
        if not wrong:
            self.stdout.write("Every skill's counters match the log.")
            return
        if fix:
            fixed = services.skill_counts_refresh(skill_ids=[row["id"] for row in wrong])
            self.stdout.write(f"Recounted {fixed} skill{'' if fixed == 1 else 's'}.")
        else:
            raise CommandError(f"{len(wrong)} skill(s) with wrong counters; run again with --fix to recount.")
