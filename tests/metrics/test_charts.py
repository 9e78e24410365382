"""The dashboard's charts, tiles and CSVs against the hand-computed business of conftest.py."""

import csv
import io
from datetime import date, timedelta

from apps.metrics import charts, selectors, services
from tests.metrics.conftest import D1, D2, DOLLAR, TODAY


def _series(dashboard, key: str) -> dict:
    data = next(item for item in dashboard.charts if item.chart.key == key)
    return data.values


def test_it_charts_each_day(business):
    services.snapshot_backfill(since=D1)
    dashboard = selectors.dashboard_get(since=D1, until=D2, granularity=charts.DAY)
    assert _series(dashboard, "tokens") == {"tokens_in": [3000, 4000], "tokens_out": [600, 1000]}
    assert _series(dashboard, "margin") == {
        "ai_charged_micros": [8150, 1200],
        "ai_cost_micros": [300, 800],
        "ai_margin_micros": [7850, 400],
    }
    assert _series(dashboard, "active") == {"dau": [4, 1], "wau": [4, 4], "mau": [4, 4]}
    assert _series(dashboard, "money") == {
        "topup_revenue_micros": [25 * DOLLAR, 0],
        "refund_micros": [0, 5 * DOLLAR],
    }
    assert _series(dashboard, "jobs") == {"ai_jobs_succeeded": [1, 0], "ai_jobs_failed": [1, 0]}
    assert _series(dashboard, "workspaces") == {"workspaces_total": [3, 3], "workspaces_quiet": [1, 1]}
    assert dashboard.missing_days == 0


def test_it_sums_flows_and_keeps_the_last_state_of_a_week(business):
    services.snapshot_backfill(since=D1)  # D1, D2 and today (nothing happened): one week, Tuesday to Thursday
    dashboard = selectors.dashboard_get(since=D1, until=TODAY, granularity=charts.WEEK)
    data = next(item for item in dashboard.charts if item.chart.key == "active")
    assert [(p.start, p.end) for p in data.periods] == [(D1, TODAY)]
    assert data.values == {"dau": [2], "wau": [4], "mau": [4]}  # DAU: (4 + 1 + 0) / 3 days, rounded
    assert _series(dashboard, "tokens") == {"tokens_in": [7000], "tokens_out": [1600]}
    assert _series(dashboard, "reserve") == {"liability_micros": [19_990_650], "negative_balance_micros": [0]}


def test_it_leaves_days_without_a_snapshot_as_gaps(business):
    services.snapshot_compute(day=D2)
    dashboard = selectors.dashboard_get(since=D1, until=D2, granularity=charts.DAY)
    assert _series(dashboard, "tokens") == {"tokens_in": [None, 4000], "tokens_out": [None, 1000]}
    assert dashboard.missing_days == 1


def test_it_cuts_weeks_and_months_at_the_ends_of_the_range():
    spans = charts.periods(date(2025, 1, 30), date(2025, 3, 3), charts.MONTH)
    assert [(p.start, p.end) for p in spans] == [
        (date(2025, 1, 30), date(2025, 1, 31)),
        (date(2025, 2, 1), date(2025, 2, 28)),
        (date(2025, 3, 1), date(2025, 3, 3)),
    ]
    weeks = charts.periods(date(2025, 12, 31), date(2026, 1, 12), charts.WEEK)
    assert [(p.start, p.end) for p in weeks] == [
        (date(2025, 12, 31), date(2026, 1, 4)),
        (date(2026, 1, 5), date(2026, 1, 11)),
        (date(2026, 1, 12), date(2026, 1, 12)),
    ]


def test_it_compares_tiles_with_the_period_before(business):
    services.snapshot_backfill(since=D1)
    dashboard = selectors.dashboard_get(since=D2, until=D2, granularity=charts.DAY)
    tiles = {tile.tile.key: tile for tile in dashboard.tiles}
    assert (tiles["entries"].value, tiles["entries"].previous, tiles["entries"].change_percent) == (1, 4, -75)
    assert tiles["entries"].trend == "bad"
    assert (tiles["refunds"].value, tiles["refunds"].previous, tiles["refunds"].trend) == (
        5 * DOLLAR,
        0,
        "new",
    )
    assert (tiles["cost"].value, tiles["cost"].previous, tiles["cost"].change_percent) == (800, 300, 167)
    assert tiles["cost"].trend == "bad"  # costs going up is bad news
    assert (tiles["margin"].value, tiles["margin"].previous) == (400, 7850)
    assert (tiles["mau"].value, tiles["mau"].trend) == (4, "flat")
    assert tiles["tokens"].value == 5000


def test_it_writes_exactly_the_chart_data_as_csv(business):
    services.snapshot_backfill(since=D1)
    dashboard = selectors.dashboard_get(since=D1, until=D2, granularity=charts.DAY)
    data = next(item for item in dashboard.charts if item.chart.key == "margin")
    rows = list(csv.reader(io.StringIO(charts.chart_csv(data))))
    assert rows == [
        ["period_start", "period_end", "ai_charged_usd", "ai_cost_usd", "ai_margin_usd"],
        ["2025-06-10", "2025-06-10", "0.008150", "0.000300", "0.007850"],
        ["2025-06-11", "2025-06-11", "0.001200", "0.000800", "0.000400"],
    ]
    json_data = data.as_json()
    assert [row[0] for row in rows[1:]] == json_data["labels"]
    assert json_data["datasets"][0]["data"] == [8150, 1200]


def test_it_lists_busy_and_quiet_workspaces(business):
    services.snapshot_backfill(since=D1 - timedelta(days=40))
    dashboard = selectors.dashboard_get(since=D1, until=D2, granularity=charts.DAY)
    assert [row["tenant__slug"] for row in dashboard.workspaces] == ["charlie", "alice"]  # by AI charge
    alice = dashboard.workspaces[1]
    assert (alice["entries_logged"], alice["ai_charged_micros"], alice["ai_margin_micros"]) == (4, 1750, 650)
    assert [tenant.slug for tenant in dashboard.quiet] == ["staff"]
    assert dashboard.quiet[0].last_logged is None
    assert dashboard.unpriced_models == ["mystery-model"]
