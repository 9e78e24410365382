"""The staff JSON API for operators' scripts: staff session or token; everyone else gets 404."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from apps.accounts import services as account_services
from apps.billing import services
from apps.billing.models import LedgerEntry, ReserveAccount
from apps.core.models import Event
from apps.metrics.models import ProviderCost

DOLLAR = 1_000_000
ADMIN_GETS = [
    "/api/billing/admin/reserve/summary/",
    "/api/billing/admin/usage/costs/",
    "/api/billing/admin/ledger/export.csv",
]
ADJUST = "/api/billing/admin/reserve/adjust/"


def _token_client(user) -> Client:
    _token, raw = account_services.access_token_create(
        user=user, tenant=user.memberships.get().tenant, name="ops script"
    )
    return Client(headers={"Authorization": f"Bearer {raw}"})


@pytest.fixture
def staff_token(staff):
    return _token_client(staff)


@pytest.mark.parametrize("path", ADMIN_GETS)
def test_it_answers_404_to_anyone_but_staff(alice, path):
    session = Client()
    session.force_login(alice)
    for client in (session, _token_client(alice)):
        response = client.get(path)
        assert response.status_code == 404, path
        assert set(response.json()) == {"message", "extra"}


def test_it_refuses_adjustments_to_anyone_but_staff_without_touching_the_reserve(alice, tenant):
    body = {"tenant": "alice", "amount_micros": DOLLAR, "reason": "Gift", "idempotency_key": "k1"}
    session = Client()  # no CSRF header: still a 404, the CSRF check is only for staff
    session.force_login(alice)
    for client in (session, _token_client(alice)):
        assert client.post(ADJUST, body, content_type="application/json").status_code == 404
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize("path", [*ADMIN_GETS, ADJUST, "/api/billing/profile/", "/api/status/bar/"])
def test_it_answers_401_without_credentials(client, db, path):
    response = client.generic("POST" if path == ADJUST else "GET", path)
    assert response.status_code == 401


def test_it_summarises_the_reserves(staff_client, staff_token, tenant, other_tenant, rate_card):
    services.reserve_credit(tenant=tenant, amount_micros=30 * DOLLAR, idempotency_key="top")
    services.reserve_account_ensure(tenant=other_tenant)  # $0 with a $5 threshold: needs attention
    for client in (staff_client, staff_token):
        body = client.get("/api/billing/admin/reserve/summary/").json()
        assert (body["accounts"], body["liability_micros"], body["under_threshold"], body["negative"]) == (
            2,
            30 * DOLLAR,
            1,
            0,
        )
        assert [row["tenant"] for row in body["attention"]] == ["charlie"]
        assert body["attention"][0]["available_micros"] == 0


def test_it_reports_cost_and_charge_by_workspace_and_model(staff_token, tenant, other_tenant, rate_card):
    ProviderCost.objects.create(
        model="gpt-4o-mini", input_micros_per_million=100_000, output_micros_per_million=400_000
    )
    services.reserve_credit(tenant=tenant, amount_micros=10 * DOLLAR, idempotency_key="top")
    services.reserve_credit(tenant=other_tenant, amount_micros=10 * DOLLAR, idempotency_key="top")
    services.usage_record(
        tenant=tenant,
        model="gpt-4o-mini",
        quantities={"llm_prompt_tokens": 1000, "llm_completion_tokens": 500, "llm_call": 1},
        idempotency_key="u1",
    )
    services.usage_record(
        tenant=other_tenant, model="mystery", quantities={"llm_prompt_tokens": 100}, idempotency_key="u2"
    )
    old = timezone.now() - timedelta(days=40)
    services.usage_record(
        tenant=tenant,
        model="gpt-4o-mini",
        quantities={"llm_prompt_tokens": 9},
        idempotency_key="u3",
        occurred_at=old,
    )
    body = staff_token.get("/api/billing/admin/usage/costs/").json()
    rows = {(row["tenant"], row["model"]): row for row in body["items"]}
    assert set(rows) == {("alice", "gpt-4o-mini"), ("charlie", "mystery")}  # the old usage is out of range
    mini = rows[("alice", "gpt-4o-mini")]
    assert (mini["tokens_in"], mini["tokens_out"], mini["ai_charged_micros"], mini["cost_micros"]) == (
        1000,
        500,
        550,
        300,
    )
    assert (mini["margin_micros"], mini["cost_configured"]) == (250, True)
    assert (rows[("charlie", "mystery")]["cost_micros"], rows[("charlie", "mystery")]["cost_configured"]) == (
        0,
        False,
    )
    assert body["totals"]["ai_charged_micros"] == 550 + 300

    since = timezone.localdate(old)
    ranged = staff_token.get(f"/api/billing/admin/usage/costs/?since={since}&until={since}").json()
    assert [(row["tenant"], row["tokens_in"]) for row in ranged["items"]] == [("alice", 9)]
    assert (
        staff_token.get("/api/billing/admin/usage/costs/?since=2025-02-01&until=2025-01-01").status_code
        == 400
    )
    assert (
        staff_token.get("/api/billing/admin/usage/costs/?since=2020-01-01&until=2025-01-01").status_code
        == 400
    )


def test_it_adjusts_a_reserve_with_the_same_service_and_audit_as_the_page(staff, staff_token, tenant):
    body = {"tenant": "alice", "amount_micros": 2 * DOLLAR, "reason": "Goodwill", "idempotency_key": "adj-1"}
    response = staff_token.post(ADJUST, body, content_type="application/json")
    assert response.status_code == 200, response.json()
    entry = response.json()
    assert (entry["kind"], entry["amount_micros"], entry["balance_after_micros"], entry["reason"]) == (
        "adjustment",
        2 * DOLLAR,
        2 * DOLLAR,
        "Goodwill",
    )
    audit = Event.objects.get(kind="billing.reserve.adjusted")
    assert (audit.actor, audit.tenant, audit.data["reason"]) == (staff, tenant, "Goodwill")
    assert LedgerEntry.objects.get().staff_user == staff

    # The same key again is the same entry; with another amount, a conflict.
    assert (
        staff_token.post(ADJUST, body, content_type="application/json").json()["entry_id"]
        == entry["entry_id"]
    )
    conflict = staff_token.post(
        ADJUST, {**body, "amount_micros": 3 * DOLLAR}, content_type="application/json"
    )
    assert conflict.status_code == 409
    assert ReserveAccount.objects.get(tenant=tenant).balance_micros == 2 * DOLLAR


def test_it_explains_a_refused_adjustment(staff_token, tenant):
    base = {"tenant": "alice", "amount_micros": DOLLAR, "reason": "x", "idempotency_key": "k"}
    no_reason = staff_token.post(ADJUST, {**base, "reason": "  "}, content_type="application/json")
    assert no_reason.status_code == 400 and no_reason.json()["extra"]["field"] == "reason"
    unknown = staff_token.post(ADJUST, {**base, "tenant": "nobody"}, content_type="application/json")
    assert unknown.status_code == 400 and "nobody" in unknown.json()["message"]
    too_much = staff_token.post(
        ADJUST, {**base, "amount_micros": -5 * DOLLAR}, content_type="application/json"
    )
    assert too_much.status_code == 402  # the block policy: never below zero
    assert set(too_much.json()["extra"]) >= {"needed_micros", "available_micros"}
    huge = staff_token.post(ADJUST, {**base, "amount_micros": 10**19}, content_type="application/json")
    assert huge.status_code == 422
    assert not LedgerEntry.objects.exists()


def test_it_asks_a_staff_session_for_the_csrf_header(staff, tenant):
    session = Client(enforce_csrf_checks=True)
    session.force_login(staff)
    body = {"tenant": "alice", "amount_micros": DOLLAR, "reason": "x", "idempotency_key": "k"}
    assert session.post(ADJUST, body, content_type="application/json").status_code == 403


def test_it_exports_the_same_ledger_as_export_ledger(staff_token, tenant, other_tenant, tmp_path):
    services.reserve_credit(
        tenant=tenant, amount_micros=5 * DOLLAR, idempotency_key="a", memo="=HYPERLINK(1)"
    )
    services.reserve_credit(tenant=other_tenant, amount_micros=7 * DOLLAR, idempotency_key="b")
    response = staff_token.get("/api/billing/admin/ledger/export.csv")
    assert response["Content-Type"].startswith("text/csv")
    streamed = b"".join(response.streaming_content).decode()
    out = tmp_path / "ledger.csv"
    call_command("export_ledger", "--output", str(out))
    assert streamed == out.read_text()
    assert "'=HYPERLINK(1)" in streamed
    one = b"".join(staff_token.get("/api/billing/admin/ledger/export.csv?tenant=charlie").streaming_content)
    rows = list(csv.reader(io.StringIO(one.decode())))
    assert [row[2] for row in rows[1:]] == ["charlie"]
    assert staff_token.get("/api/billing/admin/ledger/export.csv?tenant=nobody").status_code == 400


def test_it_describes_the_workspaces_billing_profile(alice_client, tenant):
    account = services.reserve_account_ensure(tenant=tenant)
    ReserveAccount.objects.filter(pk=account.pk).update(
        auto_topup_failure_reason="Card declined", auto_topup_failed_at=datetime(2025, 1, 2, tzinfo=UTC)
    )
    body = alice_client.get("/api/billing/profile/").json()
    assert (body["plan"], body["policy"], body["currency"], body["card_saved"]) == (
        "standard",
        "block",
        "usd",
        False,
    )
    assert body["auto_topup"] == {
        "enabled": False,
        "amount_cents": 2000,
        "threshold_micros": 5 * DOLLAR,
        "failure_reason": "Card declined",
        "failed_at": "2025-01-02T00:00:00Z",
    }


def test_it_documents_the_staff_api_in_the_schema(client, db):
    schema = client.get("/api/openapi.json").json()
    adjust = schema["paths"][ADJUST]["post"]["responses"]
    assert {"200", "400", "402", "404", "409", "422"} <= set(adjust)
    export = schema["paths"]["/api/billing/admin/ledger/export.csv"]["get"]["responses"]["200"]
    assert "text/csv" in export["content"]
    assert "/api/billing/admin/usage/costs/" in schema["paths"]
    assert "/api/status/bar/" in schema["paths"] and "/api/billing/profile/" in schema["paths"]
