"""Lost jobs go back on the queue: the sweep that makes a worker's death on the Redis broker harmless.

The broker here is the ORM one (the test settings), so what the sweep sent can be read back from its table;
tests/scaleout/test_scaleout.py runs the same sweep against real workers on Redis.
"""

import importlib
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django_q.models import OrmQ, Schedule
from django_q.tasks import async_task

from apps.billing import services
from apps.core.job_recovery import (
    RECOVERY_SCHEDULE,
    job_recovery_schedule_install,
    jobs_lost,
    jobs_requeue_lost,
)
from apps.core.jobs import _stale_after
from apps.core.models import Event, Job
from tests.scaleout.tasks import TASK


def _job(tenant, *, status=Job.Status.QUEUED, age=timedelta(0), started_age=None, attempts=0) -> Job:
    job = Job.objects.create(kind="scaleout.charge", tenant=tenant, label="Charge", func_path=TASK)
    now = timezone.now()
    Job.objects.filter(pk=job.pk).update(
        status=status,
        created_at=now - age,
        started_at=None if started_age is None else now - started_age,
        attempts=attempts,
    )
    job.refresh_from_db()
    return job


def _sent() -> list[tuple[str, tuple]]:
    return sorted((task.task["func"], task.task["args"]) for task in OrmQ.objects.all())


def test_it_sends_again_only_the_jobs_queued_or_running_past_their_lease(tenant):
    lease = _stale_after()
    never_picked_up = _job(tenant, age=lease + timedelta(seconds=5))
    _job(tenant, age=lease - timedelta(seconds=5))  # still waiting its turn
    worker_died = _job(
        tenant, status=Job.Status.RUNNING, age=lease * 2, started_age=lease + timedelta(seconds=1), attempts=1
    )
    _job(tenant, status=Job.Status.RUNNING, age=lease * 2, started_age=timedelta(seconds=10), attempts=1)
    for finished in (Job.Status.SUCCEEDED, Job.Status.FAILED, Job.Status.CANCELLED):
        _job(tenant, status=finished, age=lease * 2, started_age=lease * 2, attempts=1)

    assert set(jobs_lost()) == {never_picked_up, worker_died}
    assert jobs_requeue_lost() == 2
    assert _sent() == sorted([(TASK, (never_picked_up.pk,)), (TASK, (worker_died.pk,))])
    event = Event.objects.get(kind="job.requeued")
    assert event.data["count"] == 2
    assert {job["id"] for job in event.data["jobs"]} == {never_picked_up.pk, worker_died.pk}


def test_it_leaves_old_queued_jobs_alone_while_tasks_still_wait_in_the_broker(tenant):
    lease = _stale_after()
    behind_a_backlog = _job(tenant, age=lease + timedelta(seconds=5))
    worker_died = _job(
        tenant, status=Job.Status.RUNNING, age=lease * 2, started_age=lease + timedelta(seconds=1), attempts=1
    )
    async_task(TASK, behind_a_backlog.pk)  # its task (or any other) is still waiting its turn
    assert list(jobs_lost()) == [worker_died]
    assert jobs_requeue_lost() == 1
    assert _sent() == sorted([(TASK, (behind_a_backlog.pk,)), (TASK, (worker_died.pk,))])
    OrmQ.objects.all().delete()  # the backlog drained and the job is still queued: its task was lost
    assert list(jobs_lost()) == [worker_died, behind_a_backlog]  # oldest first


def test_it_sends_nothing_and_says_nothing_when_no_job_is_lost(tenant):
    _job(tenant)
    assert jobs_requeue_lost() == 0
    assert not OrmQ.objects.exists() and not Event.objects.filter(kind="job.requeued").exists()


def test_it_sends_at_most_the_limit_oldest_first(tenant):
    lease = _stale_after()
    oldest = [_job(tenant, age=lease + timedelta(minutes=10 - i)) for i in range(5)]
    assert jobs_requeue_lost(limit=2) == 2
    assert _sent() == sorted([(TASK, (oldest[0].pk,)), (TASK, (oldest[1].pk,))])


def test_it_lets_the_sent_task_take_over_the_job_of_a_dead_worker_and_charge_it_once(tenant):
    services.rate_card_install_default()
    services.reserve_credit(tenant=tenant, amount_micros=10_000, idempotency_key="top")
    lease = _stale_after()
    job = _job(tenant, status=Job.Status.RUNNING, age=lease * 2, started_age=lease * 2, attempts=1)
    # The dead worker had placed the job's hold (its key comes from the job, not the attempt).
    services.hold_place(tenant=tenant, amount_micros=200, idempotency_key=f"scaleout:job:{job.pk}:hold")
    assert jobs_requeue_lost() == 1
    task = OrmQ.objects.get().task
    module, name = task["func"].rsplit(".", 1)
    for _delivery in range(2):  # sent twice (say, by two sweeps): the second finds the job done
        getattr(importlib.import_module(module), name)(*task["args"])
    job.refresh_from_db()
    assert (job.status, job.attempts, job.cost_micros) == (Job.Status.SUCCEEDED, 2, 100)
    account = services.reserve_account_ensure(tenant=tenant)
    assert (account.balance_micros, account.held_micros) == (10_000 - 100, 0)


def test_it_runs_the_sweep_from_the_command(tenant, capsys):
    _job(tenant, age=_stale_after() * 2)
    call_command("jobs_requeue_lost")
    assert "Sent 1 lost job to the queue again." in capsys.readouterr().out
    assert OrmQ.objects.count() == 1


def test_it_installs_the_recovery_schedule_once(db):
    assert job_recovery_schedule_install() == "scheduled lost-job recovery every minute."
    assert job_recovery_schedule_install() == "lost-job recovery is scheduled every minute."
    schedule = Schedule.objects.get(name=RECOVERY_SCHEDULE)
    assert (schedule.func, schedule.schedule_type, schedule.minutes, schedule.repeats) == (
        "apps.core.tasks.jobs_requeue_lost",
        Schedule.MINUTES,
        1,
        -1,
    )
    module, name = schedule.func.rsplit(".", 1)
    assert getattr(importlib.import_module(module), name)() == 0


def test_it_reports_an_unhealthy_worker_when_no_cluster_runs_here(db):
    with pytest.raises(CommandError, match=r"No job cluster on .* reported to the broker"):
        call_command("qcluster_health")
