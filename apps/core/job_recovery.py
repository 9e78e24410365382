"""Jobs whose task was lost go back on the queue, and the job workers say whether they are alive.

Why this exists: django-q2's Redis broker hands a task over with one BLPOP. From then on Redis has forgotten
it: `acknowledge` is a no-op there, and `retry` and `ack_failures` (which re-deliver an unacknowledged task on
the ORM and SQS brokers) do nothing on Redis. A cluster killed with SIGKILL (a lost host, `docker kill`, the
OOM killer, a stop that outlasts its grace period) takes with it the tasks it was running and the ones its
pusher had already taken for its workers (up to `queue_limit`, workers squared by default). Their `Job` rows
still say queued or running, so the rows are the truth, and `jobs_requeue_lost` sends their tasks again:

- a job still queued a lease after it was created, once nothing waits in the broker's queue any more: its
  task never reached a worker that lived (while tasks still wait, it may be one of them: a backlog longer
  than a lease is not a loss, and sending its jobs again on every sweep would only make it longer);
- a job running past its lease (the queue timeout plus a minute, `apps.core.jobs._stale_after`, the same rule
  `job_run` uses to take a job over): django-q2 would have killed a task that ran that long, so its worker is
  gone.

Sending a task twice is safe by design (rule 8): `job_run` claims a job with one conditional UPDATE, so only
one delivery runs it; a running job is taken over only once its lease has passed, as a new attempt. A task
sent again that finds its job claimed or finished costs one UPDATE that matches nothing.

`job_recovery_schedule_install()` registers the sweep as a django-q2 schedule every minute (idempotent, for
`bootstrap`); `python manage.py jobs_requeue_lost` runs it once; `python manage.py qcluster_health` exits 0
while a cluster on this host reports to the broker (the worker container's health check).
"""

import logging
import socket
from datetime import datetime

from django.db.models import Q
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import Schedule
from django_q.status import Stat
from django_q.tasks import async_task

from apps.core.events import emit_event
from apps.core.jobs import _stale_after
from apps.core.models import Job

logger = logging.getLogger("afterresume.jobs")

RECOVERY_SCHEDULE = "core: requeue lost jobs"
RECOVERY_TASK = "apps.core.tasks.jobs_requeue_lost"
RECOVERY_MINUTES = 1
SWEEP_LIMIT = 500


def _broker_drained() -> bool:
    """Whether no task waits in the broker's queue (tasks a cluster has taken are no longer counted)."""
    return get_broker().queue_size() == 0


def jobs_lost(*, now: datetime | None = None, drained: bool | None = None):
    """Jobs whose task may have been lost with a worker: running for longer than a lease, or queued for
    longer than a lease while the broker's queue is empty (`drained`, asked of the broker when not given)."""
    cutoff = (now or timezone.now()) - _stale_after()
    lost = Q(status=Job.Status.RUNNING, started_at__lt=cutoff)
    if _broker_drained() if drained is None else drained:
        lost |= Q(status=Job.Status.QUEUED, created_at__lt=cutoff)
    return Job.objects.filter(lost).order_by("created_at", "id")


def jobs_requeue_lost(*, now: datetime | None = None, limit: int = SWEEP_LIMIT) -> int:
    """Send the task of every lost job again (the oldest `limit` of them). Returns how many were sent."""
    lost = list(jobs_lost(now=now).values("pk", "kind", "func_path", "params", "status", "attempts")[:limit])
    for job in lost:
        async_task(job["func_path"], job["pk"], task_name=f"job-{job['pk']}-{job['kind']}", **job["params"])
    if lost:
        logger.warning("sent the tasks of %s lost jobs again", len(lost))
        emit_event(
            "job.requeued",
            count=len(lost),
            jobs=[{"id": job["pk"], "status": job["status"], "attempts": job["attempts"]} for job in lost],
        )
    return len(lost)


def job_recovery_schedule_install() -> str:
    """Register the sweep with django-q2's scheduler (every minute). Running it again changes nothing."""
    _schedule, created = Schedule.objects.update_or_create(
        name=RECOVERY_SCHEDULE,
        defaults={
            "func": RECOVERY_TASK,
            "schedule_type": Schedule.MINUTES,
            "minutes": RECOVERY_MINUTES,
            "repeats": -1,
        },
    )
    every = "every minute" if RECOVERY_MINUTES == 1 else f"every {RECOVERY_MINUTES} minutes"
    return f"scheduled lost-job recovery {every}." if created else f"lost-job recovery is scheduled {every}."


def qcluster_alive(*, host: str | None = None) -> list[Stat]:
    """The job clusters on `host` (this one by default) that reported to the broker in the last seconds.

    A cluster's guard saves its status every half second with a three-second expiry (Redis; the cache on the
    ORM broker, which must then be shared), so a dead or hung cluster drops out within seconds."""
    host = host or socket.gethostname()
    running = {str(Conf.IDLE), str(Conf.WORKING)}
    return [stat for stat in Stat.get_all() if stat.host == host and str(stat.status) in running]
