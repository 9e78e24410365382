from playwright.sync_api import expect

from apps.accounts.models import Tenant
from apps.billing import services
from apps.billing.models import LedgerEntry, ReserveAccount
from tests.billing.conftest import checkout_completed_event
from tests.browser.conftest import SCREENSHOTS
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
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto("/billing/staff/")
    expect(page.locator("#staff-liability")).to_have_text("$3.00")
    page.select_option("select[name=tenant]", label="Alice's workspace")
    page.fill("input[name=amount]", "1.5")
    # An incomplete form goes to the server, which says what is missing and keeps what was typed.
    page.get_by_role("button", name="Record adjustment").click()
    expect(page.locator("input[name=reason]")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("input[name=amount]")).to_have_value("1.5")

    # A complete one is confirmed in a modal that shows exactly what will be recorded.
    page.fill("input[name=reason]", "Goodwill for a slow export")
    page.get_by_role("button", name="Record adjustment").click()
    modal = page.get_by_role("dialog", name="Record this adjustment?")
    expect(modal).to_be_visible()
    expect(modal.locator("#adjust-confirm-workspace")).to_have_text("Alice's workspace")
    expect(modal.locator("#adjust-confirm-amount")).to_have_text("+$1.50")
    expect(modal.locator("#adjust-confirm-direction")).to_have_text("added to the reserve")
    expect(modal.locator("#adjust-confirm-reason")).to_have_text("Goodwill for a slow export")
    shot("staff-adjust-confirm")
    modal.get_by_role("button", name="Go back").click()
    expect(modal).to_be_hidden()
    assert LedgerEntry.objects.filter(kind="adjustment").count() == 0

    page.fill("input[name=amount]", "-0.25")
    page.get_by_role("button", name="Record adjustment").click()
    expect(modal.locator("#adjust-confirm-amount")).to_have_text("-$0.25")
    expect(modal.locator("#adjust-confirm-direction")).to_have_text("taken from the reserve")
    modal.get_by_role("button", name="Yes, record it").click()
    expect(page.get_by_text("Adjustment recorded for Alice's workspace")).to_be_visible()
    expect(page.locator("#staff-liability")).to_have_text("$2.75")
    shot("staff-billing")
    assert dialogs == []  # no window.confirm
    entry = LedgerEntry.objects.get(kind="adjustment")
    assert (entry.amount_micros, entry.memo) == (-250_000, "Goodwill for a slow export")


def _theme(page, theme: str) -> None:
    page.evaluate("theme => window.localStorage.setItem('afterresume-theme', theme)", theme)
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-bs-theme", theme)


def _fits(page, selector: str) -> None:
    """Nothing wider than the window, and the element's right edge inside it."""
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    box = page.locator(selector).bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (selector, box, width)


def test_it_fits_the_billing_pages_at_every_width_in_both_themes(
    page, shot, staff, alice, tenant, transactional_db
):
    services.rate_card_install_default()
    services.reserve_credit(tenant=tenant, amount_micros=25_000_000, idempotency_key="top")
    services.usage_record(
        tenant=tenant, model="gpt-4o-mini", quantities={"llm_call": 3}, idempotency_key="u1"
    )
    services.reserve_deduct(
        tenant=tenant,
        amount_micros=1_234_567,
        idempotency_key="long",
        memo="A long memo that explains a correction in some detail, so that it has to wrap on a phone",
    )
    services.reserve_adjust(
        tenant=tenant, amount_micros=-500_000, reason="Chargeback", actor=staff, idempotency_key="adj"
    )
    low = Tenant.objects.create(name="Nearly empty workspace", slug="nearly-empty")
    services.reserve_credit(tenant=low, amount_micros=120_000, idempotency_key="top")
    forged = checkout_completed_event(tenant=tenant, amount_cents=2000, currency="eur")
    assert services.webhook_event_process(event=forged) == "rejected"
    sign_in(page, alice)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for theme in ("light", "dark"):
            page.goto("/billing/")
            _theme(page, theme)
            expect(page.locator("#ledger-table")).to_contain_text("-$1.23")
            _fits(page, "#ledger-table")
            for cell in page.locator("#ledger-table tbody td").all():
                box = cell.bounding_box()
                if box is None:  # an empty details cell, hidden on phones
                    continue
                assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (width, box)
            shot(f"billing-{width}-{theme}")
    page.context.clear_cookies()

    sign_in(page, staff)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for theme in ("light", "dark"):
            page.goto("/billing/staff/")
            _theme(page, theme)
            expect(page.locator("#failed-events")).to_contain_text("Not credited: the event says currency")
            _fits(page, "#failed-events")
            page.select_option("select[name=tenant]", label="Alice's workspace")
            page.fill("input[name=amount]", "-12.5")
            page.fill("input[name=reason]", "Refund for a failed export")
            page.evaluate("window.scrollTo(0, 0)")
            shot(f"staff-{width}-{theme}")
            page.get_by_role("button", name="Record adjustment").click()
            modal = page.get_by_role("dialog", name="Record this adjustment?")
            expect(modal).to_be_visible()
            expect(modal.locator("#adjust-confirm-amount")).to_have_text("-$12.50")
            _fits(page, "#adjust-confirm-modal .modal-dialog")
            page.wait_for_timeout(400)  # the fade-in, so the picture shows the finished modal
            page.screenshot(
                path=str(SCREENSHOTS / f"billing_staff_modal__{width}-{theme}.png")
            )  # the viewport
            modal.get_by_role("button", name="Go back").click()
            expect(modal).to_be_hidden()
    assert LedgerEntry.objects.filter(kind="adjustment").count() == 1
