"""Input at the edges: the ends of the calendar in any time zone, and page numbers no database can offset."""

import csv
import io

import pytest
from django.core.management import call_command

from apps.billing import services

DOLLAR = 1_000_000
ZONES = ["UTC", "Asia/Tokyo", "Pacific/Honolulu", "Pacific/Kiritimati"]
EDGES = [
    ("0001-01-01", "9999-12-31"),
    ("0001-01-03", "9999-12-29"),  # close to the ends, where a bound is still computed
    ("0001-01-01", None),
    (None, "9999-12-31"),
]


def _query(since, until) -> str:
    return "&".join(f"{name}={value}" for name, value in (("since", since), ("until", until)) if value)


@pytest.fixture
def spent(tenant, rate_card):
    services.reserve_credit(tenant=tenant, amount_micros=10 * DOLLAR, idempotency_key="top")
    services.usage_record(tenant=tenant, quantities={"report_export": 1}, idempotency_key="u1")


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize(("since", "until"), EDGES)
def test_it_exports_the_whole_calendar_in_any_time_zone(spent, settings, zone, since, until):
    settings.TIME_ZONE = zone
    args = [arg for name, value in (("--since", since), ("--until", until)) if value for arg in (name, value)]
    out = io.StringIO()
    call_command("export_ledger", *args, stdout=out, stderr=io.StringIO())
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0][0] == "entry_id"
    assert len(rows) == 3


@pytest.mark.parametrize(("since", "until"), [("9999-12-31", None), (None, "0001-01-01")])
def test_it_exports_nothing_from_beyond_the_ends(spent, since, until):
    args = [arg for name, value in (("--since", since), ("--until", until)) if value for arg in (name, value)]
    out = io.StringIO()
    call_command("export_ledger", *args, stdout=out, stderr=io.StringIO())
    assert len(out.getvalue().splitlines()) == 1


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "Pacific/Honolulu"])
@pytest.mark.parametrize(("since", "until"), EDGES)
def test_it_filters_ledger_and_usage_at_the_ends_of_the_calendar(
    alice_client, staff_client_for_csv, spent, settings, zone, since, until
):
    settings.TIME_ZONE = zone
    query = _query(since, until)
    page = alice_client.get(f"/billing/?{query}")
    assert page.status_code == 200
    assert "report_export" in page.content.decode()
    ledger = alice_client.get(f"/api/billing/reserve/ledger/?{query}")
    assert (ledger.status_code, ledger.json()["count"]) == (200, 2)
    usage = alice_client.get(f"/api/billing/usage/?{query}")
    assert usage.status_code == 200 and len(usage.json()) == 1
    download = staff_client_for_csv.get(f"/billing/staff/ledger.csv?{query}")
    assert download.status_code == 200
    assert len(b"".join(download.streaming_content).decode().splitlines()) == 3


@pytest.fixture
def staff_client_for_csv(staff):
    from django.test import Client

    client = Client()
    client.force_login(staff)
    return client


@pytest.mark.parametrize("page", ["99999999999999999999", "-1", "0", "abc", "1e400", "9" * 5000])
def test_it_shows_a_page_of_the_ledger_for_any_page_number(alice_client, tenant, page):
    for index in range(30):
        services.reserve_credit(tenant=tenant, amount_micros=DOLLAR, idempotency_key=f"top-{index}")
    response = alice_client.get(f"/billing/?page={page}")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Page 2 of 2" in body or "Page 1 of 2" in body


def test_it_answers_a_huge_api_page_number_with_a_4xx(alice_client, tenant):
    services.reserve_credit(tenant=tenant, amount_micros=DOLLAR, idempotency_key="top")
    for page in ("99999999999999999999", "1000001", "-3", "9" * 5000):
        response = alice_client.get(f"/api/billing/reserve/ledger/?page={page}")
        assert response.status_code == 422, page
        assert response.json()["message"]
    last = alice_client.get("/api/billing/reserve/ledger/?page=1000000")
    assert (last.status_code, last.json()["items"], last.json()["count"]) == (200, [], 1)
    wide = alice_client.get("/api/billing/reserve/ledger/?page_size=99999999999999999999")
    assert wide.status_code == 200 and len(wide.json()["items"]) == 1
