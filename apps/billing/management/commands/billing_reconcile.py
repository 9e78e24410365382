from django.core.management.base import BaseCommand, CommandError

from apps.billing import selectors


class Command(BaseCommand):
    help = "Check every reserve: balance == sum(entries), held == pending holds, balance-after continuity."

    def handle(self, *args, **options):
        accounts, problems = selectors.reconcile_problems()
        for problem in problems:
            self.stdout.write(f"account {problem.account_id} ({problem.tenant_slug}): {problem.problem}")
        summary = f"Checked {accounts} reserve account{'s' if accounts != 1 else ''}: "
        if problems:
            raise CommandError(
                summary + f"{len(problems)} difference{'s' if len(problems) != 1 else ''} found."
            )
        self.stdout.write(summary + "all balanced.")
