"""Scale-out, shown working: two gunicorn and two qcluster processes on loopback, Redis broker, PostgreSQL.

A thousand jobs each charge the reserve through a hold (tests/scaleout/tasks.py). Half-way, one whole worker
(the qcluster and its children, as when its host dies) is killed with SIGKILL. The Redis broker does not
re-deliver what that worker had taken (apps/core/job_recovery.py says why), so the lost-job sweep, the
function the schedule runs, sends those jobs again once their lease (Q_TIMEOUT + Q_LEASE_MARGIN) has passed
and the queue has drained. Then: every job succeeded exactly once, the ledger has exactly one capture per
job, no money is left held, and `billing_reconcile` is clean; a sample of the jobs and the balance read the
same over HTTP from both web processes.

The figures are printed (`pytest -s`) and written to test-artifacts/scaleout.json, each process's output to
test-artifacts/scaleout-logs/. SCALEOUT_JOBS and SCALEOUT_REDIS_DB change the size and the Redis database
(dedicated to this run and flushed; 12 by default).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest
import redis
import yaml
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count
from django_q.conf import Conf

from apps.accounts.models import Membership, Tenant
from apps.accounts.services import access_token_create
from apps.billing import selectors, services
from apps.billing.models import Hold, LedgerEntry, ReserveAccount, UsageEvent
from apps.core.job_recovery import jobs_requeue_lost, qcluster_alive
from apps.core.jobs import job_enqueue
from apps.core.models import Job
from tests.concurrency import needs_postgres
from tests.conftest import make_user
from tests.scaleout.tasks import TASK

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
JOBS = int(os.environ.get("SCALEOUT_JOBS", "1000"))
REDIS_DB = int(os.environ.get("SCALEOUT_REDIS_DB", "12"))
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
Q_TIMEOUT = 5  # seconds: django-q2 stops a task that runs longer
LEASE_MARGIN = 10  # seconds: a job running Q_TIMEOUT + LEASE_MARGIN after it started counts as lost
PRICE = 100  # micros per job: one llm_call on the default rate card
DEADLINE = 240  # seconds for the whole run, start-up included


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping())
    except redis.RedisError:
        return False


pytestmark = [
    *needs_postgres,
    pytest.mark.skipif(not _redis_up(), reason="the scale-out run needs Redis at 127.0.0.1:6379"),
    pytest.mark.timeout(DEADLINE + 180),  # start-up, the HTTP reads and the clean-up come on top
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _environment() -> dict:
    """What a production host would set, pointed at the test database and the dedicated Redis database."""
    return {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": REDIS_URL,
        "DEBUG": "false",
        "SECRET_KEY": django_settings.SECRET_KEY,  # tasks are signed with it: the producer here must match
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_CONN_MAX_AGE": "60",
        "Q_WORKERS": "2",
        "Q_TIMEOUT": str(Q_TIMEOUT),
        "Q_RETRY": str(Q_TIMEOUT * 2),
        "Q_LEASE_MARGIN": str(LEASE_MARGIN),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


class Processes:
    """Real processes, each in its own session so that a kill takes a whole worker (cluster and children)."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.started: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = (self.logs / f"{name}.log").open("wb")
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
            argv, cwd=ROOT, env=_environment(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.started[name] = process
        return process

    def kill(self, name: str) -> None:
        os.killpg(self.started[name].pid, signal.SIGKILL)
        self.started[name].wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.started.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.started.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def tails(self) -> str:
        logs = sorted(self.logs.iterdir())
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}" for path in logs)


def _get(url: str, token: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _ready(web: str) -> bool:
    status, body = _get(f"{web}/api/readyz/")
    return status == 200 and body["checks"] == {"database": "ok", "queue": "ok"}


def _wait_for(what: str, check, timeout: float, processes: Processes) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.3)
    pytest.fail(f"{what} did not happen within {timeout:g} s\n{processes.tails()}")


def _health_check(service: str, port: int | None = None) -> subprocess.CompletedProcess:
    """Run a service's health check from docker-compose.yml here, as Docker would run it in the container."""
    argv = COMPOSE["services"][service]["healthcheck"]["test"][1:]
    argv = [sys.executable if part == "python" else part.replace(":8000/", f":{port}/") for part in argv]
    return subprocess.run(  # noqa: S603 - the compose file's own command
        argv, cwd=ROOT, env=_environment(), capture_output=True, text=True, timeout=60, check=False
    )


def _clusters_reporting() -> int:
    """The worker containers' health check: how many clusters on this host report to Redis."""
    result = _health_check("worker")
    return result.stdout.count("Cluster ") if result.returncode == 0 else 0


HTTP_SAMPLE = 100  # jobs read back over HTTP (every job is checked in the database)


def _succeeded() -> int:
    return Job.objects.filter(kind="scaleout.charge", status=Job.Status.SUCCEEDED).count()


@pytest.mark.django_db(transaction=True)
def test_it_runs_every_job_exactly_once_on_two_web_and_two_worker_processes_when_one_dies(
    monkeypatch, settings
):
    broker = redis.Redis.from_url(REDIS_URL)
    broker.flushdb()
    # This process queues the jobs and runs the sweep: it talks to the same Redis as the workers do, and
    # reckons the same lease (Q_TIMEOUT + LEASE_MARGIN).
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", REDIS_URL)
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": Q_TIMEOUT}
    settings.Q_LEASE_MARGIN = LEASE_MARGIN

    services.rate_card_install_default()
    tenant = Tenant.objects.create(name="Scale-out", slug="scaleout")
    user = make_user("scaleout@example.com")
    Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.OWNER)
    _token, raw_token = access_token_create(user=user, tenant=tenant, name="scale-out run")
    funds = JOBS * PRICE * 3
    services.reserve_credit(tenant=tenant, amount_micros=funds, idempotency_key="scaleout:top")

    figures: dict = {
        "jobs": JOBS,
        "q_timeout_s": Q_TIMEOUT,
        "lease_s": Q_TIMEOUT + LEASE_MARGIN,
        "load_average_before": os.getloadavg(),
    }
    logs = ROOT / "test-artifacts" / "scaleout-logs"  # kept after the run, for a failure's post-mortem
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    processes = Processes(logs)
    setting_up = time.monotonic()
    with ExitStack() as cleanup:
        cleanup.callback(broker.flushdb)
        cleanup.callback(processes.stop_all)
        ports = [_free_port(), _free_port()]
        for number, port in enumerate(ports, start=1):
            processes.start(
                f"web{number}",
                [
                    sys.executable, "-m", "gunicorn", "afterresume.wsgi:application",
                    "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4",
                    "--access-logfile", "-",
                ],
            )  # fmt: skip
        for number in (1, 2):
            processes.start(f"worker{number}", [sys.executable, "manage.py", "qcluster"])
        webs = [f"http://127.0.0.1:{port}" for port in ports]
        for web, port in zip(webs, ports, strict=True):
            _wait_for(f"{web}/api/readyz/", lambda web=web: _ready(web), 60, processes)
            assert _health_check("web", port).returncode == 0
        # Polled in this process (each run of the health check command starts Django), then the compose
        # file's own check once.
        _wait_for("two clusters reporting to Redis", lambda: len(qcluster_alive()) == 2, 90, processes)
        assert _clusters_reporting() == 2
        figures["start_up_s"] = round(time.monotonic() - setting_up, 1)

        started = time.monotonic()
        with transaction.atomic():  # the tasks go to Redis when this commits
            jobs = [
                job_enqueue(kind="scaleout.charge", tenant=tenant, user=user, func_path=TASK, label=f"#{i}")
                for i in range(JOBS)
            ]
        figures["enqueue_s"] = round(time.monotonic() - started, 2)

        _wait_for("half of the jobs", lambda: _succeeded() >= JOBS // 2, 120, processes)
        half_way = time.monotonic()
        in_flight = Job.objects.filter(kind="scaleout.charge", status=Job.Status.RUNNING).count()
        processes.kill("worker1")
        killed = time.monotonic()
        figures.update(
            done_at_kill=_succeeded(),
            running_at_kill=in_flight,
            waiting_in_redis_at_kill=broker.llen(f"django_q:{Conf.CLUSTER_NAME}:q"),
            jobs_per_s_before_kill=round((JOBS // 2) / (half_way - started), 1),
        )

        resent = sweeps = 0
        while _succeeded() < JOBS and time.monotonic() - started < DEADLINE:
            time.sleep(2)
            resent += jobs_requeue_lost()
            sweeps += 1
        total = time.monotonic() - started
        if _succeeded() < JOBS:
            stuck = Job.objects.exclude(status=Job.Status.SUCCEEDED).values("pk", "status", "attempts")
            pytest.fail(
                f"{JOBS - _succeeded()} jobs did not finish in {total:.0f} s: {list(stuck[:20])}\n"
                + processes.tails()
            )

        # A sample of the jobs, evenly spread, and the balance, read over HTTP from both web processes.
        reading = time.monotonic()
        sample = jobs[:: max(1, JOBS // HTTP_SAMPLE)]
        urls = [f"{webs[index % 2]}/api/jobs/{job.pk}/" for index, job in enumerate(sample)]
        with ThreadPoolExecutor(max_workers=4) as pool:  # four threads per web process
            answers = list(pool.map(lambda url: _get(url, raw_token), urls))
        for status, body in answers:
            assert (status, body["status"], body["cost_micros"]) == (200, "succeeded", PRICE), body
        status, balance = _get(f"{webs[1]}/api/billing/reserve/balance/", raw_token)
        assert status == 200
        assert (balance["balance_micros"], balance["available_micros"]) == (funds - JOBS * PRICE,) * 2
        figures["http_reads_s"] = round(time.monotonic() - reading, 1)

        attempts = dict(
            Job.objects.filter(kind="scaleout.charge").values_list("attempts").annotate(n=Count("id"))
        )
        figures.update(
            total_s=round(total, 1),
            after_kill_s=round(total - (killed - started), 1),
            jobs_per_s_overall=round(JOBS / total, 1),
            tasks_sent_again=resent,
            sweeps=sweeps,
            jobs_by_attempts=attempts,
            load_average_after=os.getloadavg(),
        )

    # Exactly once: one usage event and one capture per job, nothing left held, the ledger balanced.
    events = UsageEvent.objects.filter(tenant=tenant)
    assert events.count() == JOBS
    assert events.values("job_reference").distinct().count() == JOBS
    assert LedgerEntry.objects.filter(tenant=tenant, kind="hold_capture").count() == JOBS
    assert LedgerEntry.objects.filter(tenant=tenant).count() == JOBS + 1  # and the top-up
    assert not Hold.objects.filter(tenant=tenant).exclude(status=Hold.Status.CAPTURED).exists()
    account = ReserveAccount.objects.get(tenant=tenant)
    assert (account.balance_micros, account.held_micros) == (funds - JOBS * PRICE, 0)
    _accounts, problems = selectors.reconcile_problems()
    assert not problems, problems
    call_command("billing_reconcile")  # exits non-zero on a difference
    # The kill cost something, and the sweep brought it back.
    assert resent >= 1, figures
    assert sum(attempts.values()) == JOBS and set(attempts) <= {1, 2}, attempts

    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "scaleout.json").write_text(json.dumps(figures, indent=2) + "\n")
    print("\nscale-out run:", json.dumps(figures))
