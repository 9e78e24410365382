from playwright.sync_api import expect

from apps.billing import services
from apps.billing.models import LedgerEntry, ReserveAccount
from tests.conftest import PASSWORD


def sign_in(page, user):
    page.goto("/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name=f"Welcome, {user.name}")).to_be_visible()


def test_it_tops_up_through_the_simulated_checkout(page, shot, alice, tenant, settings, transactional_db):
    settings.DEBUG = True
    sign_in(page, alice)
    # A workspace with no money movement yet is not nagged about its reserve.
    expect(page.locator("#low-balance-banner")).to_have_count(0)

    page.get_by_role("link", name="Billing", exact=True).click()
    expect(page.get_by_role("heading", name="Billing", exact=True)).to_be_visible()
    expect(page.get_by_text("payments are simulated")).to_be_visible()
    shot("billing-empty")

    page.fill("input[name=amount]", "2")
    page.get_by_role("button", name="Simulate payment").click()
    expect(page.get_by_text("Top up between $5.00 and $500.00.")).to_be_visible()
    expect(page.locator("input[name=amount]")).to_have_value("2")

    page.get_by_role("button", name="$20", exact=True).click()
    expect(page.get_by_role("heading", name="Simulated checkout")).to_be_visible()
    expect(page.get_by_text("This is not a real payment.")).to_be_visible()
    shot("simulated-checkout")

    page.get_by_role("button", name="Complete simulated payment of $20.00").click()
    expect(page.locator("#reserve-balance")).to_have_text("$20.00")
    expect(page.locator("#reserve-badge")).to_contain_text("$20.00")
    expect(page.locator("#ledger-table")).to_contain_text("Top-up (simulated)")
    expect(page.locator("#ledger-table")).to_contain_text("+$20.00")
    expect(page.locator("#low-balance-banner")).to_have_count(0)
    shot("billing-after-top-up")
    assert ReserveAccount.objects.get(tenant=tenant).balance_micros == 20_000_000
    assert LedgerEntry.objects.count() == 1

    # Money spent elsewhere shows up in the top bar without a reload.
    services.reserve_deduct(tenant=tenant, amount_micros=17_500_000, idempotency_key="elsewhere")
    page.evaluate("document.body.dispatchEvent(new Event('reserve-changed'))")
    expect(page.locator("#reserve-badge")).to_contain_text("$2.50")


def test_it_shows_staff_the_reserve_summary_and_records_an_adjustment(
    page, shot, staff, alice, tenant, transactional_db
):
    services.rate_card_install_default()
    services.reserve_credit(tenant=tenant, amount_micros=3_000_000, idempotency_key="top")
    services.usage_record(
        tenant=tenant, model="gpt-4o-mini", quantities={"llm_call": 3}, idempotency_key="u1"
    )
    sign_in(page, staff)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/billing/staff/")
    expect(page.locator("#staff-liability")).to_have_text("$3.00")
    page.select_option("select[name=tenant]", label="Alice's workspace")
    page.fill("input[name=amount]", "1.5")
    page.get_by_role("button", name="Record adjustment").click()
    expect(page.locator("input[name=reason]")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("input[name=amount]")).to_have_value("1.5")
    page.fill("input[name=reason]", "Goodwill for a slow export")
    page.get_by_role("button", name="Record adjustment").click()
    expect(page.get_by_text("Adjustment recorded for Alice's workspace")).to_be_visible()
    expect(page.locator("#staff-liability")).to_have_text("$4.50")
    shot("staff-billing")
