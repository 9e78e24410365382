from playwright.sync_api import expect

from apps.accounts import services
from tests.conftest import PASSWORD


def sign_in(page, email):
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Welcome, Sam Staff")).to_be_visible()


def test_it_creates_an_invite_and_shows_the_code_once(page, shot, staff, transactional_db):
    sign_in(page, staff.email)
    page.get_by_role("link", name="Invites", exact=True).click()
    page.get_by_role("button", name="New invite").first.click()
    page.fill("#new-invite-modal input[name=uses]", "3")
    page.fill("#new-invite-modal input[name=note]", "Design team")
    shot("create-modal")
    page.locator("#new-invite-modal button[type=submit]").click()
    code_box = page.locator("#new-invite-code")
    expect(code_box).to_be_visible()
    code = code_box.input_value()
    assert services.invite_check(code=code).note == "Design team"
    shot("code-shown")
    page.reload()
    expect(page.locator("#new-invite-code")).to_have_count(0)
    expect(page.get_by_text("Design team")).to_be_visible()


def test_it_reopens_the_form_with_the_error_and_the_typed_note(page, shot, staff, transactional_db):
    sign_in(page, staff.email)
    page.goto("/staff/invites/")
    page.get_by_role("button", name="New invite").first.click()
    page.fill("#new-invite-modal input[name=uses]", "0")
    page.fill("#new-invite-modal input[name=note]", "keep this")
    page.locator("#new-invite-modal input[name=uses]").evaluate("el => el.removeAttribute('min')")
    page.locator("#new-invite-modal button[type=submit]").click()
    expect(page.locator("#new-invite-modal")).to_be_visible()
    expect(page.locator("#new-invite-modal input[name=note]")).to_have_value("keep this")
    expect(page.get_by_text("greater than or equal to 1")).to_be_visible()
    page.wait_for_timeout(400)  # let the modal finish fading in for the screenshot
    shot("form-error")


def test_it_shows_a_friendly_404(page, shot, staff, transactional_db):
    sign_in(page, staff.email)
    page.goto("/staff/invites/999999/")
    expect(page.get_by_role("link", name="Back to home")).to_be_visible()
    shot("not-found")
