"""The staff dashboards as pages: who may see them, what they cost in queries, what they download."""

import csv
import io
import json
import re
from datetime import timedelta

import pytest

from apps.metrics import charts, services
from apps.metrics.models import DailySnapshot, WorkspaceDailySnapshot

STAFF_GET = [
    "/staff/metrics/",
    "/staff/metrics/tokens.csv",
    "/staff/system/",
    "/staff/system/health/",
    "/staff/system/jobs/",
    "/staff/system/webhooks/",
    "/staff/system/reconcile/",
    "/staff/system/events/",
]
STAFF_POST = ["/staff/metrics/refresh/", "/staff/system/reconcile/run/"]


@pytest.mark.parametrize("path", STAFF_GET)
def test_it_hides_every_staff_page_from_everyone_else(alice_client, path):
    assert alice_client.get(path).status_code == 404


@pytest.mark.parametrize("path", STAFF_POST)
def test_it_refuses_every_staff_action_to_everyone_else(alice_client, path):
    assert alice_client.post(path).status_code == 404


def test_it_sends_anonymous_visitors_to_sign_in(client, db):
    response = client.get("/staff/metrics/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def _year_of_snapshots(tenants, *, days: int = 365):
    today = services.metrics_today()
    now = services.snapshot_compute(day=today).snapshot.computed_at
    DailySnapshot.objects.all().delete()
    snapshots, workspaces = [], []
    for offset in range(days):
        day = today - timedelta(days=offset)
        snapshots.append(
            DailySnapshot(
                day=day,
                computed_at=now,
                signups=offset % 3,
                dau=10 + offset % 7,
                wau=30,
                mau=60,
                entries_logged=offset % 11,
                tokens_in=1000 * offset,
                tokens_out=300 * offset,
                ai_charged_micros=5000 * offset,
                ai_cost_micros=3000 * offset,
                liability_micros=1_000_000 * offset,
                workspaces_total=len(tenants),
            )
        )
        for tenant in tenants:
            workspaces.append(
                WorkspaceDailySnapshot(day=day, tenant=tenant, entries_logged=1, ai_charged_micros=offset)
            )
    DailySnapshot.objects.bulk_create(snapshots)
    WorkspaceDailySnapshot.objects.bulk_create(workspaces)


def test_it_renders_a_year_in_the_same_queries_as_a_month(
    staff_client, tenant, other_tenant, django_assert_max_num_queries
):
    _year_of_snapshots([tenant, other_tenant])
    today = services.metrics_today()
    month = f"/staff/metrics/?since={today - timedelta(days=29)}&until={today}"
    year = f"/staff/metrics/?since={today - timedelta(days=364)}&until={today}&granularity=day"
    with django_assert_max_num_queries(12) as small:
        assert staff_client.get(month).status_code == 200
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = staff_client.get(year).content.decode()
    block = re.search(r'<script id="metrics-charts" type="application/json">(.*?)</script>', page, re.S)
    data = {chart["key"]: chart for chart in json.loads(block.group(1))}
    assert len(data["tokens"]["labels"]) == 365
    assert len(data) == len(charts.CHARTS)


def test_it_downloads_exactly_the_data_of_the_chart_shown(staff_client, tenant):
    _year_of_snapshots([tenant], days=60)
    today = services.metrics_today()
    query = f"since={today - timedelta(days=59)}&until={today}&granularity=week"
    page = staff_client.get(f"/staff/metrics/?{query}").content.decode()
    block = re.search(r'<script id="metrics-charts" type="application/json">(.*?)</script>', page, re.S)
    tokens = next(chart for chart in json.loads(block.group(1)) if chart["key"] == "tokens")
    assert f'href="/staff/metrics/tokens.csv?{query.replace("&", "&amp;")}"' in page

    response = staff_client.get(f"/staff/metrics/tokens.csv?{query}")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["period_start", "period_end", "tokens_in", "tokens_out"]
    assert [row[0] for row in rows[1:]] == tokens["labels"]
    assert [int(row[2]) for row in rows[1:]] == tokens["datasets"][0]["data"]
    assert [int(row[3]) for row in rows[1:]] == tokens["datasets"][1]["data"]
    assert staff_client.get("/staff/metrics/nothing.csv").status_code == 404


def test_it_answers_htmx_with_the_dashboard_body_only(staff_client, tenant):
    response = staff_client.get("/staff/metrics/?granularity=month", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert 'id="metrics-body"' in body and "<html" not in body
    assert 'id="metrics-charts"' in body


def test_it_explains_a_bad_range_and_keeps_what_was_typed(staff_client, tenant):
    page = staff_client.get("/staff/metrics/?since=2025-03-01&until=2025-02-01").content.decode()
    assert "The start is after the end." in page
    assert 'value="2025-03-01"' in page
    page = staff_client.get("/staff/metrics/?since=2019-01-01").content.decode()
    assert "Show at most 731 days at a time." in page


def test_it_computes_today_again_when_asked(staff_client, tenant):
    response = staff_client.post("/staff/metrics/refresh/?granularity=day", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Today and yesterday were computed again." in response.content.decode()
    assert DailySnapshot.objects.filter(day=services.metrics_today()).exists()
    # Without JavaScript it is a form post that comes back to the dashboard.
    response = staff_client.post("/staff/metrics/refresh/")
    assert response.status_code == 302 and response["Location"].startswith("/staff/metrics/")


def test_it_links_the_staff_pages_in_the_sidebar(staff_client, alice):
    from django.test import Client

    page = staff_client.get("/").content.decode()
    assert 'href="/staff/metrics/"' in page and 'href="/staff/system/"' in page
    someone = Client()
    someone.force_login(alice)
    assert 'href="/staff/metrics/"' not in someone.get("/").content.decode()
