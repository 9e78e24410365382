from playwright.sync_api import expect

from apps.accounts import services
from tests.browser.conftest import last_emailed_code

PASSWORD = "a sturdy passphrase 991"


def sign_up(page, code):
    page.goto("/accounts/signup/")
    page.fill("input[name=invite_code]", code)
    page.fill("input[name=name]", "Pat Passkey")
    page.fill("input[name=email]", "pat@example.com")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.fill("input[name=code]", last_emailed_code())
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Welcome, Pat Passkey")).to_be_visible()


def test_it_adds_a_passkey_and_signs_in_with_it(page, shot, virtual_authenticator, transactional_db):
    _invite, code = services.invite_create(created_by=None)
    sign_up(page, code)

    page.goto("/accounts/2fa/webauthn/add/")
    if "reauthenticate" in page.url:  # adding a key asks for the password again
        page.fill("input[name=password]", PASSWORD)
        page.get_by_role("button", name="Confirm").click()
    page.fill("input[name=name]", "Test laptop")
    page.check("input[name=passwordless]")
    shot("add-passkey")
    page.locator("#mfa_webauthn_add").click()
    page.wait_for_url(lambda url: "/webauthn/add/" not in url)
    shot("after-add")

    page.goto("/profile/")
    expect(page.get_by_text("Test laptop")).to_be_visible()
    shot("profile-with-passkey")

    page.get_by_role("button", name="Account menu").click()
    page.get_by_role("button", name="Sign out").click()
    page.goto("/accounts/login/")
    shot("login")
    page.locator("#passkey_login").click()
    expect(page.get_by_role("heading", name="Welcome, Pat Passkey")).to_be_visible()
    shot("signed-in-with-passkey")
