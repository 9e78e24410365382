"""Real threads against PostgreSQL: the schedule and a backfill computing the same day at once leave one
snapshot of it; staff clicking "Check now" together queue one reconciliation (the day row's lock and a
unique constraint, not checks)."""

import pytest

from apps.accounts.models import Membership, Tenant
from apps.billing import services as billing
from apps.core.errors import Conflict
from apps.core.events import emit_event
from apps.metrics import services
from apps.metrics.models import DailySnapshot, ReconcileRun, WorkspaceDailySnapshot
from tests.concurrency import needs_postgres, run_in_threads
from tests.conftest import make_user

pytestmark = needs_postgres

WORKERS = 6


@pytest.mark.django_db(transaction=True)
def test_it_keeps_one_snapshot_of_a_day_computed_several_times_at_once():
    tenant = Tenant.objects.create(name="Busy", slug="busy")
    person = make_user("busy@example.com")
    Membership.objects.create(user=person, tenant=tenant)
    billing.reserve_credit(tenant=tenant, amount_micros=7_000_000, idempotency_key="fund")
    emit_event("user.signed_in", tenant=tenant, actor=person)
    today = services.metrics_today()

    results = run_in_threads(WORKERS, lambda index: services.snapshot_compute(day=today).snapshot.pk)

    assert len(set(results)) == 1
    snapshot = DailySnapshot.objects.get(day=today)
    assert (snapshot.dau, snapshot.liability_micros) == (1, 7_000_000)
    assert WorkspaceDailySnapshot.objects.filter(day=today, tenant=tenant).count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_queues_one_reconciliation_when_staff_ask_at_once():
    staff = make_user("ops@example.com", is_staff=True)

    def ask(index):
        try:
            return services.reconcile_request(actor=staff).pk
        except Conflict:
            return "waiting"

    results = run_in_threads(WORKERS, ask)

    assert results.count("waiting") == WORKERS - 1
    assert ReconcileRun.objects.filter(trigger="staff", finished_at__isnull=True).count() == 1
