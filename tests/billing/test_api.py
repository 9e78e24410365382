import pytest

from apps.billing import services
from apps.billing.models import TopUp

DOLLAR = 1_000_000


def test_it_answers_the_balance_in_the_agreed_shape(alice_client, tenant):
    services.reserve_credit(tenant=tenant, amount_micros=12_345_678, idempotency_key="top")
    services.hold_place(tenant=tenant, amount_micros=345_678, idempotency_key="job")
    response = alice_client.get("/api/billing/reserve/balance/")
    assert response.status_code == 200
    assert response.json() == {
        "balance_micros": 12_345_678,
        "available_micros": 12_000_000,
        "balance_cents": 1234,
        "currency": "usd",
        "policy": "block",
    }


def test_it_answers_zero_for_a_workspace_that_never_topped_up(alice_client):
    assert alice_client.get("/api/billing/reserve/balance/").json()["balance_micros"] == 0


def test_it_shows_only_the_callers_ledger_paged_and_filtered(alice_client, tenant, other_tenant):
    for index in range(3):
        services.reserve_credit(tenant=tenant, amount_micros=DOLLAR, idempotency_key=f"top-{index}")
    services.reserve_deduct(tenant=tenant, amount_micros=DOLLAR, idempotency_key="use")
    services.reserve_credit(tenant=other_tenant, amount_micros=7 * DOLLAR, idempotency_key="theirs")
    body = alice_client.get("/api/billing/reserve/ledger/?page_size=2").json()
    assert body["count"] == 4
    assert len(body["items"]) == 2
    assert body["items"][0]["kind"] == "usage"
    usage_only = alice_client.get("/api/billing/reserve/ledger/?kind=usage").json()
    assert [item["amount_micros"] for item in usage_only["items"]] == [-DOLLAR]


@pytest.mark.parametrize(
    ("query", "status"),
    [("kind=bribe", 400), ("since=2025-02-01&until=2025-01-01", 400), ("since=yesterday", 422)],
)
def test_it_explains_bad_ledger_filters(alice_client, query, status):
    response = alice_client.get(f"/api/billing/reserve/ledger/?{query}")
    assert response.status_code == status
    assert response.json()["message"]


def test_it_reports_usage_by_meter_and_day(alice_client, tenant, rate_card):
    services.reserve_credit(tenant=tenant, amount_micros=DOLLAR, idempotency_key="top")
    services.usage_record(tenant=tenant, quantities={"report_export": 2}, idempotency_key="a")
    services.usage_record(tenant=tenant, quantities={"report_export": 1, "llm_call": 3}, idempotency_key="b")
    rows = alice_client.get("/api/billing/usage/").json()
    by_meter = {row["meter"]: row for row in rows}
    assert by_meter["report_export"]["quantity"] == "3"
    assert by_meter["report_export"]["cost_micros"] == 30_000
    assert by_meter["llm_call"]["events"] == 1


def test_it_refuses_top_up_amounts_outside_the_range(alice_client, settings):
    settings.DEBUG = True
    for amount in (499, 50_001):
        response = alice_client.post(
            "/api/billing/topup/session/", {"amount_cents": amount}, content_type="application/json"
        )
        assert response.status_code == 400
        assert response.json()["message"] == "Top up between $5.00 and $500.00."
    response = alice_client.post(
        "/api/billing/topup/session/", {"amount_cents": "lots"}, content_type="application/json"
    )
    assert response.status_code == 422


def test_it_starts_a_simulated_session_in_debug_without_a_key(alice_client, settings, tenant):
    settings.DEBUG = True
    response = alice_client.post(
        "/api/billing/topup/session/", {"amount_cents": 2000}, content_type="application/json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["session_id"].startswith("sim_cs_")
    assert body["url"].endswith(f"/billing/simulated-checkout/{body['session_id']}/")
    assert TopUp.objects.get().tenant == tenant


def test_it_never_fakes_a_top_up_without_debug_or_a_key(alice_client):
    response = alice_client.post(
        "/api/billing/topup/session/", {"amount_cents": 2000}, content_type="application/json"
    )
    assert response.status_code == 503
    assert "unavailable" in response.json()["message"]
    assert not TopUp.objects.exists()


def test_it_says_the_portal_is_unavailable_without_stripe(alice_client):
    response = alice_client.post("/api/billing/portal/session/")
    assert response.status_code == 503
