import csv
import io

from django.urls import reverse

from apps.billing import services
from apps.billing.models import LedgerEntry, ReserveAccount, TopUp
from apps.core.models import Event
from tests.billing.tenancy_cases import _simulated_checkout

DOLLAR = 1_000_000


def _fill(tenant, rate_card, count):
    services.reserve_credit(tenant=tenant, amount_micros=100 * DOLLAR, idempotency_key="top")
    for index in range(count):
        services.usage_record(
            tenant=tenant,
            quantities={"report_export": 1, "llm_call": 2},
            idempotency_key=f"u{index}",
            model="m",
        )


def test_it_shows_balance_available_policy_and_ledger(alice_client, tenant, rate_card):
    _fill(tenant, rate_card, 2)
    services.hold_place(tenant=tenant, amount_micros=DOLLAR, idempotency_key="job")
    page = alice_client.get("/billing/").content.decode()
    assert 'id="reserve-balance">$99.98<' in page
    assert 'id="reserve-available">$98.98<' in page
    assert 'id="reserve-policy">Block<' in page and "Never spends below zero" in page
    assert "report_export" in page
    assert page.count("<tr>") >= 3


def test_it_runs_a_constant_number_of_queries_whatever_the_size(
    alice_client, tenant, rate_card, django_assert_max_num_queries
):
    _fill(tenant, rate_card, 3)
    with django_assert_max_num_queries(14) as small:
        alice_client.get("/billing/")
    _fill_more = [
        services.usage_record(
            tenant=tenant, quantities={"llm_call": 1}, idempotency_key=f"more{i}", model=f"m{i}"
        )
        for i in range(40)
    ]
    with django_assert_max_num_queries(len(small.captured_queries)):
        alice_client.get("/billing/")
    with django_assert_max_num_queries(len(small.captured_queries)):
        alice_client.get("/billing/?kind=usage&page=2")


def test_it_filters_the_ledger_and_explains_a_reversed_range(alice_client, tenant, rate_card):
    _fill(tenant, rate_card, 1)
    page = alice_client.get("/billing/?kind=topup").content.decode()
    assert "Top-up" in page and "report_export, llm_call" not in page
    page = alice_client.get("/billing/?since=2025-02-02&until=2025-01-01").content.decode()
    assert "The start date is after the end date." in page


def test_it_keeps_a_typed_amount_that_is_out_of_range(alice_client, settings):
    settings.DEBUG = True
    response = alice_client.post("/billing/topup/", {"amount": "3.50"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Top up between $5.00 and $500.00." in page
    assert 'value="3.50"' in page


def test_it_shows_top_up_as_unavailable_without_debug_or_key(alice_client):
    page = alice_client.get("/billing/").content.decode()
    assert 'id="topup-unavailable"' in page
    response = alice_client.post("/billing/topup/", {"amount": "20"})
    assert response.status_code == 400
    assert not TopUp.objects.exists()


def test_it_completes_a_simulated_checkout_through_the_webhook_path(alice_client, alice, tenant, settings):
    settings.DEBUG = True
    response = alice_client.post("/billing/topup/", {"amount": "20"})
    assert response.status_code == 302
    checkout_url = response["Location"]
    page = alice_client.get(checkout_url).content.decode()
    assert "This is not a real payment." in page
    assert alice_client.post(checkout_url, {"action": "pay"}).status_code == 302
    assert alice_client.post(checkout_url, {"action": "pay"}).status_code == 302
    assert ReserveAccount.objects.get(tenant=tenant).balance_micros == 20 * DOLLAR
    entry = LedgerEntry.objects.get()
    assert entry.memo == "Top-up (simulated)"
    from apps.billing.models import StripeEvent

    assert StripeEvent.objects.get().type == "checkout.session.completed"


def test_it_hides_the_simulated_checkout_when_debug_is_off(alice_client, alice):
    kwargs = _simulated_checkout(alice)
    url = reverse("billing_simulated_checkout", kwargs=kwargs)
    assert alice_client.get(url).status_code == 404
    assert alice_client.post(url, {"action": "pay"}).status_code == 404
    assert not LedgerEntry.objects.exists()


def test_it_saves_auto_top_up_settings_and_explains_a_missing_card(alice_client, tenant):
    data = {
        "auto_topup_enabled": "on",
        "auto_topup_amount": "25",
        "auto_topup_threshold": "5",
        "low_balance_threshold": "3",
    }
    response = alice_client.post("/billing/auto-topup/", data)
    assert response.status_code == 400
    assert "needs a saved card" in response.content.decode()
    del data["auto_topup_enabled"]
    assert alice_client.post("/billing/auto-topup/", data).status_code == 302
    account = ReserveAccount.objects.get(tenant=tenant)
    assert (account.auto_topup_amount_cents, account.low_balance_threshold_micros) == (2500, 3 * DOLLAR)


def test_it_shows_the_low_balance_banner_and_badge_on_every_page(alice_client, tenant):
    services.reserve_credit(tenant=tenant, amount_micros=DOLLAR, idempotency_key="top")
    for url in ("/", "/profile/", "/billing/"):
        page = alice_client.get(url).content.decode()
        assert 'id="low-balance-banner"' in page, url
        assert 'id="reserve-badge"' in page
    services.reserve_credit(tenant=tenant, amount_micros=10 * DOLLAR, idempotency_key="more")
    assert 'id="low-balance-banner"' not in alice_client.get("/").content.decode()


def test_it_does_not_nag_a_workspace_that_never_used_its_reserve(alice_client, tenant):
    page = alice_client.get("/").content.decode()
    assert 'id="low-balance-banner"' not in page
    assert 'id="reserve-badge"' in page
    services.reserve_account_ensure(tenant=tenant)  # an account with no money movement yet
    assert 'id="low-balance-banner"' not in alice_client.get("/").content.decode()


def test_it_refreshes_the_badge_with_one_query(alice_client, tenant, django_assert_max_num_queries):
    services.reserve_credit(tenant=tenant, amount_micros=12 * DOLLAR, idempotency_key="top")
    with django_assert_max_num_queries(4):  # session, user, membership, account
        response = alice_client.get("/billing/balance/badge/")
    assert "$12.00" in response.content.decode()
    assert 'data-refresh-url="/billing/balance/badge/"' in response.content.decode()


def test_it_hides_the_staff_page_from_everyone_else(alice_client):
    assert alice_client.get("/billing/staff/").status_code == 404
    assert alice_client.get("/billing/staff/ledger.csv").status_code == 404
    assert alice_client.post("/billing/staff/adjust/", {}).status_code == 404


def test_it_summarises_reserves_for_staff(
    staff_client, tenant, other_tenant, rate_card, django_assert_max_num_queries
):
    _fill(tenant, rate_card, 2)
    services.reserve_account_ensure(tenant=other_tenant)
    with django_assert_max_num_queries(16):
        page = staff_client.get("/billing/staff/").content.decode()
    assert 'id="staff-liability">$99.98<' in page
    assert 'id="staff-under">1<' in page
    assert "Charlie&#x27;s workspace" in page


def test_it_records_a_staff_adjustment_with_its_reason(staff_client, staff, tenant):
    form = {"tenant": tenant.pk, "amount": "2.5", "reason": "", "idempotency_key": "adjustment:1"}
    response = staff_client.post("/billing/staff/adjust/", form)
    assert response.status_code == 400
    assert 'value="2.5"' in response.content.decode()
    form["reason"] = "Refund for a failed export"
    assert staff_client.post("/billing/staff/adjust/", form).status_code == 302
    assert staff_client.post("/billing/staff/adjust/", form).status_code == 302  # a double submit
    entry = LedgerEntry.objects.get()
    assert (entry.amount_micros, entry.staff_user, entry.memo) == (
        2_500_000,
        staff,
        "Refund for a failed export",
    )
    assert Event.objects.filter(kind="billing.reserve.adjusted", actor=staff).count() == 1


def test_it_refuses_an_adjustment_that_would_overdraw_under_block(staff_client, tenant):
    form = {"tenant": tenant.pk, "amount": "-1", "reason": "Chargeback", "idempotency_key": "adjustment:2"}
    response = staff_client.post("/billing/staff/adjust/", form)
    assert response.status_code == 400
    assert "Not enough in the reserve" in response.content.decode()


def test_it_streams_the_ledger_csv_to_staff(staff_client, tenant):
    services.reserve_credit(tenant=tenant, amount_micros=1_234_567, idempotency_key="top")
    response = staff_client.get("/billing/staff/ledger.csv")
    assert response.status_code == 200 and response.streaming
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:5] == ["entry_id", "created_at", "tenant", "kind", "amount"]
    assert rows[1][2:6] == ["alice", "topup", "1.234567", "1.234567"]


def test_it_answers_404_to_someone_without_a_workspace(client, db):
    from tests.conftest import make_user

    client.force_login(make_user("nobody@example.com"))
    assert client.get("/billing/").status_code == 404
    badge = client.get("/billing/balance/badge/")
    assert (badge.status_code, badge.content.strip()) == (200, b"")
