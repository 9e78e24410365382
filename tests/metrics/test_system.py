"""/staff/system/: health checks, jobs, failed webhooks and their replay, reconciliation."""

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.billing import services as billing_services
from apps.billing.models import LedgerEntry, ReserveAccount, StripeEvent
from apps.core.models import Event, Job
from apps.metrics import health, services, tasks
from apps.metrics.models import ReconcileRun
from tests.billing.conftest import checkout_completed_event, checkout_topup, post_webhook

WEBHOOK_SECRET = "whsec_test_afterresume"


class _Answer(BaseHTTPRequestHandler):
    status = 401
    seen: list = []

    def do_GET(self):
        type(self).seen.append((self.path, self.headers.get("Authorization")))
        self.send_response(self.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    """A real HTTP server on loopback that answers every GET with `_Answer.status`."""
    _Answer.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -------------------------------------------------------------------------------------------- health


def test_it_reports_each_service(staff_client, settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.LLM_PROVIDER = "builtin"
    page = staff_client.get("/staff/system/health/").content.decode()
    checks = {check.key: check for check in health.system_checks()}
    assert [checks[key].status for key in ("database", "queue", "cache", "storage")] == ["ok"] * 4
    assert checks["stripe"].status == checks["model"].status == "not_configured"
    assert 'data-check="database" data-check-status="ok"' in page
    assert 'data-check="stripe" data-check-status="not_configured"' in page
    assert "Not configured" in page and 'id="queue-depth"' in page


def test_it_measures_stripe_and_the_model_endpoint_over_the_network(db, settings, http_server):
    settings.STRIPE_SECRET_KEY = "sk_test_afterresume"
    settings.STRIPE_API_BASE = http_server
    settings.LLM_PROVIDER = "openai"
    settings.LLM_BASE_URL = f"{http_server}/v1"
    settings.LLM_API_KEY = "sk-model-key"
    stripe, model = health.check_stripe(), health.check_model_endpoint()
    assert (stripe.status, model.status) == ("ok", "ok")
    assert "HTTP 401" in stripe.detail and stripe.latency_ms is not None
    assert ("/v1/", None) in _Answer.seen and ("/v1/models", None) in _Answer.seen  # no key is sent

    _Answer.status = 503
    try:
        assert health.check_model_endpoint().status == "error"
    finally:
        _Answer.status = 401
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{_closed_port()}"
    failing = health.check_stripe()
    assert failing.status == "error" and "ConnectionRefusedError" in failing.detail


def test_it_shares_its_checks_with_readyz(client, db, monkeypatch):
    from django_q.conf import Conf

    assert health.readiness() == {"database": "ok", "queue": "ok"}
    assert client.get("/api/readyz/").json()["checks"] == health.readiness()
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", f"redis://127.0.0.1:{_closed_port()}/0")
    broken = health.readiness()
    assert broken["queue"].startswith("error: ")
    assert client.get("/api/readyz/").status_code == 503


def test_it_reads_the_queue_depth_and_its_oldest_task(db):
    from django_q.tasks import async_task

    async_task("apps.metrics.tasks.snapshots_recent")
    async_task("apps.metrics.tasks.snapshots_recent")
    info = health.queue_info()
    assert info.depth == 2
    assert info.oldest_waiting_seconds is not None and info.oldest_waiting_seconds < 60


# ---------------------------------------------------------------------------------------------- jobs


def _job(tenant, user, status, **fields):
    return Job.objects.create(
        tenant=tenant,
        created_by=user,
        kind="assist.improve",
        label="Improve 3 entries",
        func_path="apps.assist.tasks.improve_entries",
        status=status,
        attempts=1,
        **fields,
    )


def test_it_shows_running_stuck_and_failed_jobs(staff_client, tenant, alice):
    from django.utils import timezone

    now = timezone.now()
    _job(tenant, alice, Job.Status.RUNNING, started_at=now)
    stuck = _job(tenant, alice, Job.Status.RUNNING, started_at=now - timezone.timedelta(hours=2))
    failed = _job(tenant, alice, Job.Status.FAILED, error="The model timed out.", finished_at=now)
    page = staff_client.get("/staff/system/").content.decode()
    assert 'id="jobs-running">2<' in page
    assert 'id="jobs-stuck" class="text-danger">1<' in page
    assert 'id="jobs-failed" class="text-danger">1<' in page
    assert "The model timed out." in page
    assert (
        f"/staff/system/jobs/{failed.pk}/retry/" in page and f"/staff/system/jobs/{stuck.pk}/cancel/" in page
    )


def test_it_retries_a_failed_job_through_the_job_service(
    staff_client, staff, tenant, alice, django_capture_on_commit_callbacks
):
    failed = _job(tenant, alice, Job.Status.FAILED, error="The model timed out.")
    from django_q.models import OrmQ

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"/staff/system/jobs/{failed.pk}/retry/", HTTP_HX_REQUEST="true")
    assert f"Job #{failed.pk} is queued to run again." in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == Job.Status.QUEUED and OrmQ.objects.count() == 1
    assert Event.objects.filter(kind="job.retried", actor=staff, data__job=failed.pk).exists()
    # Retrying it again is refused with the service's reason, shown as a toast.
    again = staff_client.post(
        f"/staff/system/jobs/{failed.pk}/retry/", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Only a job that failed or was cancelled can run again" in again


def test_it_cancels_a_stuck_job(staff_client, tenant, alice):
    from django.utils import timezone

    stuck = _job(tenant, alice, Job.Status.RUNNING, started_at=timezone.now() - timezone.timedelta(hours=2))
    response = staff_client.post(f"/staff/system/jobs/{stuck.pk}/cancel/")
    assert response.status_code == 302
    stuck.refresh_from_db()
    assert stuck.status == Job.Status.CANCELLED


def test_it_hides_job_actions_from_everyone_else(alice_client, tenant, alice):
    failed = _job(tenant, alice, Job.Status.FAILED)
    assert alice_client.post(f"/staff/system/jobs/{failed.pk}/retry/").status_code == 404
    assert alice_client.get(f"/staff/system/jobs/{failed.pk}/events/").status_code == 404
    failed.refresh_from_db()
    assert failed.status == Job.Status.FAILED


# ------------------------------------------------------------------------------------------ webhooks


def test_it_replays_a_failed_webhook_through_the_idempotent_path_and_credits_once(
    client, staff, tenant, settings
):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    # Stripe's event arrives before our record of the top-up exists: rejected, nothing credited.
    event = checkout_completed_event(tenant=tenant, amount_cents=2000, record=False)
    assert post_webhook(client, event).json()["outcome"] == "rejected"
    row = StripeEvent.objects.get(event_id=event["id"])
    assert row.status == StripeEvent.Status.FAILED and row.is_rejected

    client.force_login(staff)
    page = client.get("/staff/system/").content.decode()
    assert event["id"] in page and f"/staff/system/webhooks/{row.pk}/replay/" in page

    # Once the top-up is there, replaying the stored event credits it.
    session_id = event["data"]["object"]["id"]
    topup = checkout_topup(tenant=tenant, amount_cents=2000, session_id=session_id)
    event["data"]["object"]["metadata"]["topup_id"] = topup.public_id
    StripeEvent.objects.filter(pk=row.pk).update(payload=event)
    response = client.post(f"/staff/system/webhooks/{row.pk}/replay/", HTTP_HX_REQUEST="true")
    assert f"Event #{row.pk} was applied." in response.content.decode()
    row.refresh_from_db()
    assert (row.status, row.attempts) == (StripeEvent.Status.PROCESSED, 2)
    assert ReserveAccount.objects.get(tenant=tenant).balance_micros == 20_000_000

    # Pressing it again, or Stripe delivering the event again, credits nothing more.
    again = client.post(f"/staff/system/webhooks/{row.pk}/replay/", HTTP_HX_REQUEST="true").content.decode()
    assert "there is nothing to replay" in again
    assert post_webhook(client, event).json()["outcome"] == "duplicate"
    assert LedgerEntry.objects.filter(tenant=tenant).count() == 1
    assert ReserveAccount.objects.get(tenant=tenant).balance_micros == 20_000_000
    assert (
        Event.objects.filter(kind="billing.webhook.replayed", actor=staff, data__outcome="processed").count()
        == 1
    )


def test_it_keeps_a_replay_that_is_still_rejected_failed(staff, tenant, settings):
    event = checkout_completed_event(tenant=tenant, amount_cents=2000, record=False)
    billing_services.webhook_event_process(event=event)
    row = StripeEvent.objects.get(event_id=event["id"])
    assert services.stripe_event_replay(event_pk=row.pk, actor=staff) == "rejected"
    row.refresh_from_db()
    assert row.status == StripeEvent.Status.FAILED and row.attempts == 2
    assert not LedgerEntry.objects.exists()


def test_it_lets_only_staff_replay(alice, tenant):
    from apps.core.errors import PermissionDenied

    event = checkout_completed_event(tenant=tenant, amount_cents=2000, record=False)
    billing_services.webhook_event_process(event=event)
    with pytest.raises(PermissionDenied):
        services.stripe_event_replay(event_pk=StripeEvent.objects.get().pk, actor=alice)


# ------------------------------------------------------------------------------------ reconciliation


def test_it_stores_a_clean_reconciliation(staff_client, tenant):
    billing_services.reserve_credit(tenant=tenant, amount_micros=3_000_000, idempotency_key="top")
    assert tasks.billing_reconcile() == 0
    run = ReconcileRun.objects.get()
    assert (run.accounts_checked, run.problem_count, run.trigger, run.is_clean) == (1, 0, "schedule", True)
    page = staff_client.get("/staff/system/").content.decode()
    assert "Balanced" in page and "1 reserve checked" in page


def test_it_is_loud_when_the_reserves_do_not_add_up(staff_client, tenant):
    billing_services.reserve_credit(tenant=tenant, amount_micros=3_000_000, idempotency_key="top")
    ReserveAccount.objects.filter(tenant=tenant).update(balance_micros=4_000_000)  # a balance with no entry
    assert tasks.billing_reconcile() == 1
    page = staff_client.get("/staff/system/").content.decode()
    assert "1 difference</strong>" in page and "border-danger" in page
    assert "balance 4000000 != sum of entries 3000000" in page
    assert Event.objects.filter(kind="billing.reconcile.differences").exists()


def test_it_queues_a_reconciliation_when_staff_ask(
    staff_client, staff, tenant, django_capture_on_commit_callbacks
):
    from django_q.models import OrmQ

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post("/staff/system/reconcile/run/", HTTP_HX_REQUEST="true")
    assert "Reconciliation queued" in response.content.decode()
    assert 'id="reconcile-pending"' in response.content.decode()
    assert OrmQ.objects.count() == 1
    run = ReconcileRun.objects.get()
    assert (run.trigger, run.requested_by, run.is_finished) == ("staff", staff, False)
    # A second ask while it waits is refused; the worker then finishes the waiting one.
    again = staff_client.post("/staff/system/reconcile/run/", HTTP_HX_REQUEST="true").content.decode()
    assert "already waiting" in again
    tasks.billing_reconcile(run.pk)
    tasks.billing_reconcile(run.pk)  # delivered twice: nothing more
    run.refresh_from_db()
    assert run.is_clean and ReconcileRun.objects.count() == 1


def test_it_gives_up_a_request_no_worker_picked_up_and_takes_a_new_one(staff, db):
    from datetime import timedelta

    from django.utils import timezone

    stale = ReconcileRun.objects.create(
        trigger=ReconcileRun.Trigger.STAFF,
        requested_by=staff,
        started_at=timezone.now() - timedelta(minutes=11),
    )
    run = services.reconcile_request(actor=staff)
    stale.refresh_from_db()
    assert stale.is_finished and "No worker picked this request up" in stale.error
    assert not run.is_finished and run.pk != stale.pk
