"""Receipts, statements and refunds in a real browser, against the loopback Stripe server of tests/billing."""

import io

from django.test import Client
from playwright.sync_api import expect
from pypdf import PdfReader

from apps.billing import services
from apps.billing.models import LedgerEntry, Receipt, Refund, ReserveAccount, TopUp
from apps.core.money import format_micros
from tests.billing.conftest import (  # noqa: F401 - fixtures used by name
    checkout_paid,
    fake_stripe,
    fake_stripe_server,
    stripe_on,
)
from tests.browser.test_billing import _fits, _theme, sign_in

WIDTHS = (1280, 390)
THEMES = ("light", "dark")


def _paid_by_card(alice, stripe_on) -> TopUp:  # noqa: F811 - the fixture's value, passed in
    client = Client(HTTP_HOST="localhost")  # the live server's ALLOWED_HOSTS
    client.force_login(alice)
    checkout_paid(client, stripe_on, amount_cents=2000)
    return TopUp.objects.get()


def _cells_fit(page, selector: str) -> None:
    """Every cell of the table inside the window: phones get the stacked rows, not a sideways scroll."""
    width = page.viewport_size["width"]
    for cell in page.locator(f"{selector} td").all():
        box = cell.bounding_box()
        if box is not None:  # cells hidden on phones have none
            assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (selector, width, box)


def _pdf_text(download) -> str:
    with open(download.path(), "rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_it_shows_the_receipt_of_a_card_payment_downloads_its_pdf_and_shows_a_staff_refund_on_it(
    page,
    shot,
    alice,
    staff,
    tenant,
    stripe_on,  # noqa: F811
    transactional_db,
):
    topup = _paid_by_card(alice, stripe_on)
    receipt = Receipt.objects.get(topup=topup)
    sign_in(page, alice)

    page.goto("/billing/")
    table = page.locator("#receipts-table")
    expect(table).to_contain_text(receipt.number)
    expect(table).to_contain_text("Visa •••• 4242")
    expect(table).to_contain_text("$20.00")
    table.get_by_role("link", name=receipt.number, exact=True).click()

    expect(page.get_by_role("heading", name=f"Receipt {receipt.number}")).to_be_visible()
    expect(page.locator("#receipt-workspace")).to_have_text("Alice's workspace")
    expect(page.locator("#receipt-card")).to_have_text("Visa ending in 4242")
    expect(page.locator("#receipt-total")).to_have_text("$20.00")
    expect(page.locator("#receipt-tax")).to_have_count(0)  # no Stripe Tax: no net/tax lines
    shot("receipt")
    with page.expect_download() as download_info:
        page.locator("#receipt-pdf").click()
    download = download_info.value
    assert download.suggested_filename == f"{receipt.number}.pdf"
    text = _pdf_text(download)
    assert receipt.number in text and "$20.00" in text and "4242" in text

    page.get_by_role("link", name="Receipts", exact=True).click()
    expect(page.get_by_role("heading", name="Receipts", exact=True)).to_be_visible()
    expect(page.locator("#receipts-table tbody tr")).to_have_count(1)
    page.context.clear_cookies()

    # Staff refund $5.00 of it through Stripe, after a confirmation that shows what goes back.
    sign_in(page, staff)
    page.goto("/billing/staff/")
    page.locator(f"a[href='/billing/staff/payments/{topup.public_id}/refund/']").click()
    expect(page.get_by_role("heading", name="Refund a payment")).to_be_visible()
    expect(page.locator("#refund-allowed")).to_have_text("$20.00")
    page.fill("input[name=amount]", "5")
    page.fill("input[name=reason]", "Charged twice")
    page.get_by_role("button", name="Refund", exact=True).click()
    modal = page.get_by_role("dialog", name="Refund this payment?")
    expect(modal).to_be_visible()
    expect(modal.locator("#refund-confirm-amount")).to_have_text("$5.00")
    expect(modal.locator("#refund-confirm-reason")).to_have_text("Charged twice")
    modal.get_by_role("button", name="Yes, refund it").click()
    expect(page.get_by_text("Refunded $5.00 to the card of Alice's workspace.")).to_be_visible()
    expect(page.locator("#refund-history")).to_contain_text("Refunded")
    expect(page.locator("#refund-allowed")).to_have_text("$15.00")
    refund = Refund.objects.get()
    assert (refund.status, refund.amount_cents) == ("succeeded", 500)
    assert LedgerEntry.objects.filter(kind="refund").count() == 1
    page.context.clear_cookies()

    sign_in(page, alice)
    page.goto(f"/billing/receipts/{receipt.number}/")
    expect(page.locator("#receipt-refunded-note")).to_have_text("$5.00 refunded")
    expect(page.locator("#receipt-kept")).to_have_text("$15.00")
    shot("receipt-refunded")


def test_it_fits_the_receipts_statement_refund_and_delete_pages_at_every_width_in_both_themes(
    page,
    shot,
    alice,
    staff,
    tenant,
    stripe_on,  # noqa: F811
    transactional_db,
):
    services.rate_card_install_default()
    topup = _paid_by_card(alice, stripe_on)
    receipt = Receipt.objects.get(topup=topup)
    services.usage_record(
        tenant=tenant, model="gpt-4o-mini", quantities={"llm_call": 3}, idempotency_key="u1"
    )
    services.reserve_adjust(
        tenant=tenant, amount_micros=1_500_000, reason="Goodwill", actor=staff, idempotency_key="adj"
    )
    balance = ReserveAccount.objects.get(tenant=tenant).balance_micros
    sign_in(page, alice)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for theme in THEMES:
            page.goto("/billing/receipts/")
            _theme(page, theme)
            _fits(page, "#receipts-table")
            _cells_fit(page, "#receipts-table")
            shot(f"receipts-{width}-{theme}")

            page.goto(f"/billing/receipts/{receipt.number}/")
            _theme(page, theme)
            _fits(page, "#receipt")
            shot(f"receipt-{width}-{theme}")

            page.goto("/billing/statements/")
            _theme(page, theme)
            expect(page.locator("#statement-topups")).to_have_text("+$20.00")
            expect(page.locator("#statement-adjustments")).to_have_text("+$1.50")
            expect(page.locator("#statement-closing")).to_have_text(format_micros(balance, "usd"))
            _fits(page, "#statement")
            _cells_fit(page, "#statement-table")
            _cells_fit(page, "#receipts-table")
            shot(f"statement-{width}-{theme}")

            page.goto("/profile/delete/")
            _theme(page, theme)
            expect(page.locator("#delete-form")).to_be_visible()
            _fits(page, "#delete-form")
            shot(f"delete-{width}-{theme}")
    page.context.clear_cookies()

    services.refund_start(
        topup_public_id=topup.public_id, actor=staff, amount_cents=500, reason="Charged twice"
    )
    sign_in(page, staff)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for theme in THEMES:
            page.goto(f"/billing/staff/payments/{topup.public_id}/refund/")
            _theme(page, theme)
            expect(page.locator("#refund-charged")).to_have_text("$20.00")
            expect(page.locator("#refund-allowed")).to_have_text("$15.00")
            _fits(page, "#refund-form")
            _cells_fit(page, "#refund-history")
            shot(f"refund-{width}-{theme}")
