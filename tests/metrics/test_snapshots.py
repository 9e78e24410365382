"""Daily snapshots against the figures worked out by hand in conftest.py."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.metrics import services
from apps.metrics.models import DailySnapshot, ModelDailySnapshot, WorkspaceDailySnapshot
from apps.worklog import services as worklog_services
from tests.metrics.conftest import D1, D2, DOLLAR, TODAY, at

D1_FIGURES = {
    "signups": 1,
    "invites_issued": 1,
    "invites_redeemed": 1,
    "dau": 4,
    "wau": 4,
    "mau": 4,
    "entries_logged": 4,
    "entries_improved": 2,
    "reports_generated": 1,
    "ai_jobs_succeeded": 1,
    "ai_jobs_failed": 1,
    "ai_calls": 2,
    "tokens_in": 3000,
    "tokens_out": 600,
    "ai_charged_micros": 550 + 7600,
    "ai_cost_micros": 300,
    "topups": 2,
    "topup_revenue_micros": 25 * DOLLAR,
    "refunds": 0,
    "refund_micros": 0,
    "liability_micros": 19_999_450 + 4_992_400,
    "negative_balance_micros": 0,
    "accounts_negative": 0,
    "workspaces_total": 3,
    "workspaces_quiet": 1,
}
D2_FIGURES = {
    **{name: 0 for name in D1_FIGURES},
    "dau": 1,
    "wau": 4,
    "mau": 4,
    "entries_logged": 1,
    "tokens_in": 4000,
    "tokens_out": 1000,
    "ai_charged_micros": 1200,
    "ai_cost_micros": 800,
    "refunds": 1,
    "refund_micros": 5 * DOLLAR,
    "liability_micros": 14_998_250 + 4_992_400,
    "workspaces_total": 3,
    "workspaces_quiet": 1,
}


def _figures(snapshot) -> dict:
    return {name: getattr(snapshot, name) for name in D1_FIGURES}


def _rows(model) -> list[dict]:
    skip = {"id", "computed_at"}
    return [{k: v for k, v in row.items() if k not in skip} for row in model.objects.order_by("pk").values()]


def _all_rows() -> dict:
    return {
        model.__name__: _rows(model) for model in (DailySnapshot, WorkspaceDailySnapshot, ModelDailySnapshot)
    }


def test_it_computes_each_figure_of_a_day(business):
    assert _figures(services.snapshot_compute(day=D1).snapshot) == D1_FIGURES
    assert _figures(services.snapshot_compute(day=D2).snapshot) == D2_FIGURES


def test_it_keeps_per_workspace_figures(business):
    services.snapshot_compute(day=D1)
    rows = {row.tenant_id: row for row in WorkspaceDailySnapshot.objects.filter(day=D1)}
    alice = rows[business["tenant"].pk]
    assert (alice.active_people, alice.entries_logged, alice.entries_improved, alice.reports_generated) == (
        2,
        3,
        2,
        1,
    )
    assert (alice.ai_jobs_succeeded, alice.ai_jobs_failed, alice.tokens_in, alice.tokens_out) == (
        1,
        1,
        1000,
        500,
    )
    assert (alice.ai_charged_micros, alice.ai_cost_micros, alice.topup_revenue_micros) == (
        550,
        300,
        20 * DOLLAR,
    )
    charlie = rows[business["other_tenant"].pk]
    assert (charlie.active_people, charlie.entries_logged, charlie.ai_jobs_succeeded) == (1, 1, 0)
    assert (charlie.ai_charged_micros, charlie.ai_cost_micros) == (7600, 0)
    # Staff issued an invite, which belongs to no workspace: their workspace did nothing that day.
    assert business["staff_tenant"].pk not in rows


def test_it_prices_each_model_and_flags_one_without_a_cost(business):
    services.snapshot_compute(day=D1)
    models = {row.model: row for row in ModelDailySnapshot.objects.filter(day=D1)}
    mini, mystery = models["gpt-4o-mini"], models["mystery-model"]
    assert (mini.ai_calls, mini.tokens_in, mini.tokens_out, mini.ai_charged_micros, mini.ai_cost_micros) == (
        1,
        1000,
        500,
        550,
        300,
    )
    assert mini.cost_configured and not mystery.cost_configured
    assert (mystery.ai_charged_micros, mystery.ai_cost_micros) == (7600, 0)


def test_it_replaces_a_day_when_computed_again(business, clock):
    services.snapshot_compute(day=D1)
    first = _all_rows()
    services.snapshot_compute(day=D1)
    assert _all_rows() == first
    assert DailySnapshot.objects.filter(day=D1).count() == 1

    # Something recorded late for that day (back-dated) shows once the day is computed again.
    clock.move_to(at(D1, 23, 30))
    worklog_services.entry_create(
        tenant=business["tenant"],
        author=business["tenant"].memberships.first().user,
        title="Late",
        occurred_on=D1,
    )
    clock.move_to(at(TODAY, 12))
    assert services.snapshot_compute(day=D1).snapshot.entries_logged == 5
    assert WorkspaceDailySnapshot.objects.get(day=D1, tenant=business["tenant"]).entries_logged == 4


def test_it_backfills_idempotently_and_agrees_with_single_days(business):
    assert services.snapshot_backfill(since=D1 - timedelta(days=1)) == 4  # D0, D1, D2 and today
    first = _all_rows()
    assert _figures(DailySnapshot.objects.get(day=D1)) == D1_FIGURES
    assert _figures(DailySnapshot.objects.get(day=D2)) == D2_FIGURES
    # The day before: no activity yet, and the balances walked back to before the first top-up.
    before = DailySnapshot.objects.get(day=D1 - timedelta(days=1))
    assert (before.liability_micros, before.entries_logged, before.workspaces_total) == (0, 0, 3)
    # Today has had nothing happen: the balances carry over.
    assert DailySnapshot.objects.get(day=TODAY).liability_micros == D2_FIGURES["liability_micros"]

    services.snapshot_backfill(since=D1 - timedelta(days=1))
    assert _all_rows() == first
    out = io.StringIO()
    call_command("metrics_backfill", "--since", (D1 - timedelta(days=1)).isoformat(), stdout=out)
    assert "Computed 4 days of metrics (UTC days)." in out.getvalue()
    assert _all_rows() == first


def _reads(context) -> int:
    # PostgreSQL wraps each part of a UNION in parentheses.
    queries = (query["sql"].lstrip(" (").upper() for query in context.captured_queries)
    return sum(1 for sql in queries if sql.startswith("SELECT"))


def test_it_reads_a_bounded_number_of_queries_per_day(business):
    """Nine grouped reads of one day's (or 30 days') indexed range, and the snapshot row's lock."""
    with CaptureQueriesContext(connection) as one_day:
        services.snapshot_compute(day=D1)
    with CaptureQueriesContext(connection) as ten_days:
        services.snapshot_backfill(since=TODAY - timedelta(days=9))
    assert _reads(one_day) == 10
    # Walking back, the days before yesterday take their balances from the day after: one read fewer.
    assert _reads(ten_days) == 10 * 10 - 8


def test_it_counts_days_in_the_metrics_time_zone(business, settings):
    # 14:00 UTC on D1 is already D2 (00:00) in Sydney (UTC+10): D1's usage moves to Sydney's D2, which
    # also has D2's own (10:00 UTC is 20:00 there).
    settings.METRICS_TIME_ZONE = "Australia/Sydney"
    assert services.snapshot_compute(day=D2).snapshot.tokens_in == 3000 + 4000
    assert services.snapshot_compute(day=D1).snapshot.tokens_in == 0


def test_it_refuses_a_backfill_into_the_future(business):
    with pytest.raises(Exception, match="future"):
        services.snapshot_backfill(since=TODAY, until=TODAY + timedelta(days=1))
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not a date"):
        call_command("metrics_backfill", "--since", "June")


def test_it_installs_its_schedules_once(db):
    from django_q.models import Schedule

    services.metrics_defaults_install()
    services.metrics_defaults_install()
    names = list(Schedule.objects.values_list("name", "func"))
    assert names.count((services.SNAPSHOT_SCHEDULE, "apps.metrics.tasks.snapshots_recent")) == 1
    assert names.count((services.RECONCILE_SCHEDULE, "apps.metrics.tasks.billing_reconcile")) == 1


def test_it_is_part_of_bootstrap(db, settings, capsys):
    from django_q.models import Schedule

    from apps.metrics.models import ProviderCost

    call_command("bootstrap", "--email", "admin@example.com", "--password", "a long enough password 42")
    call_command("bootstrap", "--email", "admin@example.com", "--password", "a long enough password 42")
    assert Schedule.objects.filter(name=services.SNAPSHOT_SCHEDULE).count() == 1
    assert ProviderCost.objects.get(model="gpt-4o-mini").input_micros_per_million == 150_000
    assert "Metrics: " in capsys.readouterr().out


def test_it_runs_the_schedule_on_today_and_yesterday(business):
    from apps.metrics import tasks

    assert tasks.snapshots_recent() == 2
    assert set(DailySnapshot.objects.values_list("day", flat=True)) == {TODAY, TODAY - timedelta(days=1)}
