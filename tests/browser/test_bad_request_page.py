"""The styled page for a request we cannot accept (apps/core/input.py), at both widths and in both themes."""

from playwright.sync_api import expect

from tests.conftest import PASSWORD


def test_it_explains_a_refused_request_on_the_styled_page(page, shot, alice, transactional_db):
    page.goto("/accounts/login/")
    page.fill("input[name=login]", alice.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name=f"Welcome, {alice.name}")).to_be_visible()
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 800})
        for theme in ("light", "dark"):
            response = page.goto("/log/?employer=Ac%00me")
            assert response.status == 400
            page.evaluate("theme => window.localStorage.setItem('afterresume-theme', theme)", theme)
            page.reload()
            expect(page.locator("html")).to_have_attribute("data-bs-theme", theme)
            expect(page.get_by_role("heading", name="We couldn't accept what was sent")).to_be_visible()
            expect(
                page.get_by_text("The query parameter “employer” contains a NUL character")
            ).to_be_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            shot(f"{width}-{theme}")
    page.get_by_role("link", name="Back to home").click()
    expect(page.get_by_role("heading", name=f"Welcome, {alice.name}")).to_be_visible()
