"""The staff dashboards in Chromium: charts drawn, the range switched, a chart's CSV downloaded; the
system page's checks, a webhook replayed and a job retried. Screenshots at 1280 and 390 px, light and dark."""

import csv
import io
import json
import re
from datetime import timedelta
from pathlib import Path

from django.utils import timezone
from playwright.sync_api import expect

from apps.accounts.models import Tenant
from apps.billing import services as billing_services
from apps.billing.models import StripeEvent
from apps.core.models import Job
from apps.metrics import charts, services
from apps.metrics.models import DailySnapshot, ModelDailySnapshot, WorkspaceDailySnapshot
from tests.billing.conftest import checkout_completed_event
from tests.browser.test_billing import sign_in

DAYS = 120


def _wave(day: int, base: int, swing: int, period: int = 7) -> int:
    """A repeatable weekly rhythm on a slow rise, in whole numbers."""
    step = day % period
    return base + base * day // 90 + swing * min(step, period - step) // (period // 2)


def _history(tenants) -> None:
    today = services.metrics_today()
    now = timezone.now()
    rows, workspaces, models = [], [], []
    for back in range(DAYS):
        day = today - timedelta(days=back)
        n = DAYS - back
        tokens_in, tokens_out = _wave(n, 40_000, 25_000), _wave(n, 9_000, 6_000)
        charged, cost = tokens_in * 3 + tokens_out * 15, tokens_in + tokens_out * 4
        rows.append(
            DailySnapshot(
                day=day,
                computed_at=now,
                signups=_wave(n, 2, 3),
                invites_issued=_wave(n, 3, 2),
                invites_redeemed=_wave(n, 2, 2),
                dau=_wave(n, 30, 20),
                wau=_wave(n, 90, 10),
                mau=120 + n,
                entries_logged=_wave(n, 60, 40),
                entries_improved=_wave(n, 12, 8),
                reports_generated=_wave(n, 4, 3),
                ai_jobs_succeeded=_wave(n, 15, 10),
                ai_jobs_failed=n % 5 == 0,
                ai_calls=_wave(n, 20, 10),
                tokens_in=tokens_in,
                tokens_out=tokens_out,
                ai_charged_micros=charged,
                ai_cost_micros=cost,
                topups=n % 3,
                topup_revenue_micros=(n % 3) * 20_000_000,
                refunds=int(n % 17 == 0),
                refund_micros=5_000_000 if n % 17 == 0 else 0,
                liability_micros=400_000_000 + n * 1_500_000,
                workspaces_total=40 + n // 4,
                workspaces_quiet=6 + n % 4,
            )
        )
        for index, tenant in enumerate(tenants):
            workspaces.append(
                WorkspaceDailySnapshot(
                    day=day,
                    tenant=tenant,
                    active_people=2,
                    entries_logged=3 + index,
                    tokens_in=tokens_in // (index + 2),
                    tokens_out=tokens_out // (index + 2),
                    ai_charged_micros=charged // (index + 2),
                    ai_cost_micros=cost // (index + 2),
                )
            )
        models.append(
            ModelDailySnapshot(
                day=day,
                model="gpt-4o-mini",
                tokens_in=tokens_in,
                tokens_out=tokens_out,
                ai_charged_micros=charged,
                ai_cost_micros=cost,
            )
        )
    DailySnapshot.objects.bulk_create(rows)
    WorkspaceDailySnapshot.objects.bulk_create(workspaces)
    ModelDailySnapshot.objects.bulk_create(models)


def _shots(page, shot, name: str) -> None:
    for theme in ("light", "dark"):
        page.evaluate("theme => window.localStorage.setItem('afterresume-theme', theme)", theme)
        for width, height in ((1280, 860), (390, 844)):
            page.set_viewport_size({"width": width, "height": height})
            page.reload()
            expect(page.locator("html")).to_have_attribute("data-bs-theme", theme)
            if page.locator("canvas[data-chart]").count():
                expect(page.locator("body")).to_have_attribute("data-charts-drawn", str(len(charts.CHARTS)))
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, width, theme)
            shot(f"{name}-{width}-{theme}")
    page.evaluate("window.localStorage.setItem('afterresume-theme', 'light')")
    page.set_viewport_size({"width": 1280, "height": 860})
    page.reload()


def _chart_json(page) -> dict:
    return {chart["key"]: chart for chart in json.loads(page.locator("#metrics-charts").text_content())}


def test_it_draws_the_metrics_switches_the_range_and_downloads_a_chart(
    page, shot, staff, tenant, other_tenant, transactional_db
):
    _history([tenant, other_tenant])
    sign_in(page, staff)
    page.get_by_role("link", name="Metrics", exact=True).click()
    expect(page.get_by_role("heading", name="Metrics", exact=True)).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-charts-drawn", str(len(charts.CHARTS)))
    canvas = page.locator('canvas[data-chart="tokens"]').bounding_box()
    assert canvas["width"] > 200 and canvas["height"] > 100
    assert len(_chart_json(page)["tokens"]["labels"]) == 30
    expect(page.locator('[data-tile="signups"] [data-tile-change]')).not_to_have_text("—")
    _shots(page, shot, "metrics")

    # A longer range, then weeks: the charts are drawn again from the new data, and the URL says so.
    page.get_by_role("link", name="90 days").click()
    expect(page).to_have_url(re.compile(r"/staff/metrics/\?since=[-0-9]+&until=[-0-9]+&granularity=day$"))
    expect(page.locator("#metrics-asof")).to_contain_text("by day")
    page.wait_for_function(
        "JSON.parse(document.getElementById('metrics-charts').textContent)[0].labels.length === 90"
    )
    page.select_option("select[name=granularity]", "week")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#metrics-asof")).to_contain_text("by week")
    expect(page.locator("body")).to_have_attribute("data-charts-drawn", str(len(charts.CHARTS)))
    weeks = _chart_json(page)["tokens"]
    assert 13 <= len(weeks["labels"]) <= 14

    # The CSV is exactly the data the chart was drawn from.
    with page.expect_download() as download:
        page.locator('[data-chart-csv="tokens"]').click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert rows[0] == ["period_start", "period_end", "tokens_in", "tokens_out"]
    assert [row[0] for row in rows[1:]] == weeks["labels"]
    assert [int(row[2]) for row in rows[1:]] == weeks["datasets"][0]["data"]

    # A bad range is explained next to the field, and what was typed stays.
    page.fill("input[name=since]", "2031-01-01")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("The start is after the end.")).to_be_visible()
    expect(page.locator("input[name=since]")).to_have_value("2031-01-01")


def test_it_shows_the_system_and_replays_a_webhook_and_retries_a_job(
    page, shot, staff, alice, tenant, transactional_db, settings
):
    billing_services.rate_card_install_default()
    billing_services.reserve_credit(tenant=tenant, amount_micros=12_000_000, idempotency_key="top")
    rejected = checkout_completed_event(tenant=tenant, amount_cents=2000, record=False)
    billing_services.webhook_event_process(event=rejected)
    failed = Job.objects.create(
        tenant=tenant,
        created_by=alice,
        kind="report.generate",
        label="Self-review for H1",
        func_path="apps.reporting.tasks.report_generate",
        status=Job.Status.FAILED,
        attempts=1,
        error="The model endpoint did not answer in 60 seconds; nothing was charged.",
        finished_at=timezone.now(),
    )
    Job.objects.create(
        tenant=Tenant.objects.get(slug="alice"),
        created_by=alice,
        kind="assist.improve",
        label="Improve 12 entries",
        func_path="apps.assist.tasks.improve_entries",
        status=Job.Status.RUNNING,
        attempts=1,
        started_at=timezone.now() - timedelta(hours=3),
        step="Entry 4 of 12",
    )
    services.reconcile_run()
    sign_in(page, staff)
    page.get_by_role("link", name="System", exact=True).click()
    expect(page.get_by_role("heading", name="System", exact=True)).to_be_visible()
    expect(page.locator('[data-check="database"]')).to_have_attribute("data-check-status", "ok")
    expect(page.locator('[data-check="stripe"]')).to_contain_text("Not configured")
    expect(page.locator("#reconcile-result")).to_contain_text("Balanced")
    expect(page.locator("#jobs-stuck")).to_have_text("1")
    _shots(page, shot, "system")

    page.get_by_role("button", name=f"Replay {rejected['id']}").click()
    expect(page.locator("#toasts")).to_contain_text("still does not match our records")
    assert StripeEvent.objects.get().attempts == 2

    page.locator("#failed-jobs").get_by_role("button", name="Retry").click()
    expect(page.locator("#toasts")).to_contain_text(f"Job #{failed.pk} is queued to run again.")
    expect(page.locator("#failed-jobs")).to_have_count(0)
    failed.refresh_from_db()
    assert failed.status == Job.Status.QUEUED

    page.get_by_role("link", name="Event log").click()
    expect(page.locator("#event-table")).to_contain_text("job.retried")
    _shots(page, shot, "event-log")
    page.locator("#event-table a", has_text=timezone.localtime().strftime("%Y")).first.click()
    expect(page.locator("#event-data")).to_be_visible()
    _shots(page, shot, "event-detail")


def test_it_shows_todays_tokens_in_the_top_bar_once_used(page, shot, alice, tenant, transactional_db):
    billing_services.rate_card_install_default()
    billing_services.reserve_credit(tenant=tenant, amount_micros=12_000_000, idempotency_key="top")
    sign_in(page, alice)
    badge = page.locator("#reserve-badge")
    expect(badge).to_be_visible()
    expect(page.locator("#reserve-badge-tokens")).to_have_count(0)

    billing_services.usage_record(
        tenant=tenant,
        model="gpt-4o-mini",
        quantities={"llm_prompt_tokens": 12_345, "llm_completion_tokens": 2_000},
        idempotency_key="browser-usage",
    )
    page.reload()
    expect(page.locator("#reserve-badge-tokens")).to_contain_text("12.3k in / 2k out")
    expect(badge).to_have_attribute("title", re.compile(r"Tokens today: 12,345 in, 2,000 out"))
    _shots(page, shot, "top-bar-tokens")
