import socket

from django.core.management.base import BaseCommand, CommandError

from apps.core.job_recovery import qcluster_alive


class Command(BaseCommand):
    help = (
        "Exit 0 when a job cluster (qcluster) on this host reported to the broker in the last seconds, 1 "
        "otherwise: the health check of a worker container."
    )

    def handle(self, *args, **options):
        alive = qcluster_alive()
        if not alive:
            raise CommandError(f"No job cluster on {socket.gethostname()} reported to the broker.")
        for stat in alive:
            self.stdout.write(f"Cluster {stat.cluster_id} (pid {stat.pid}) is {stat.status}.")
