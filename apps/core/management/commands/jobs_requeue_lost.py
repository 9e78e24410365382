from django.core.management.base import BaseCommand

from apps.core.job_recovery import SWEEP_LIMIT, jobs_requeue_lost


class Command(BaseCommand):
    help = (
        "Send again the tasks of jobs queued or running for longer than their lease (lost with a worker that "
        "died: the Redis broker does not re-deliver). Safe to run at any time; "
        "the schedule runs it every minute."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=SWEEP_LIMIT, help="At most this many jobs per run.")

    def handle(self, *args, limit: int, **options):
        sent = jobs_requeue_lost(limit=limit)
        self.stdout.write(f"Sent {sent} lost job{'s' if sent != 1 else ''} to the queue again.")
