from playwright.sync_api import expect

from apps.accounts import services
from apps.accounts.models import User
from tests.browser.conftest import SCREENSHOTS, last_emailed_code

PASSWORD = "a sturdy passphrase 991"


def fill_signup(page, *, code, email="nia@example.com", name="Nia Novak"):
    page.goto("/accounts/signup/")
    page.fill("input[name=invite_code]", code)
    page.fill("input[name=name]", name)
    page.fill("input[name=email]", email)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)


def test_it_signs_up_with_an_invite_and_lands_in_the_app(page, shot, transactional_db):
    _invite, code = services.invite_create(created_by=None)
    fill_signup(page, code=code)
    shot("signup-filled")
    page.get_by_role("button", name="Create account").click()
    # New addresses are confirmed with a code sent by email.
    expect(page.locator("input[name=code]")).to_be_visible()
    shot("confirm-email")
    page.fill("input[name=code]", last_emailed_code())
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Welcome, Nia Novak")).to_be_visible()
    expect(page.get_by_text("Nia Novak's workspace").first).to_be_visible()
    shot("dashboard")
    assert User.objects.get(email="nia@example.com").memberships.get().role == "owner"


def test_it_shows_why_a_code_is_bad_and_keeps_the_email(page, shot, transactional_db):
    invite, code = services.invite_create(created_by=None)
    services.invite_revoke(invite=invite, actor=None)
    fill_signup(page, code=code, email="kept@example.com")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("This invite code has been withdrawn")).to_be_visible()
    expect(page.locator("input[name=email]")).to_have_value("kept@example.com")
    expect(page.locator("input[name=name]")).to_have_value("Nia Novak")
    shot("bad-code")
    assert not User.objects.filter(email="kept@example.com").exists()


def test_it_signs_up_in_the_browsers_time_zone(browser, live_server, settings, transactional_db):
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    # Chromium reports India as "Asia/Calcutta"; the app stores the canonical "Asia/Kolkata".
    context = browser.new_context(
        base_url=live_server.url.replace("127.0.0.1", "localhost"),
        viewport={"width": 390, "height": 860},
        timezone_id="Asia/Kolkata",
    )
    page = context.new_page()
    try:
        _invite, code = services.invite_create(created_by=None)
        fill_signup(page, code=code, email="ravi@example.com", name="Ravi Rao")
        expect(page.locator("input[name=time_zone]")).to_have_value("Asia/Kolkata")
        page.screenshot(path=str(SCREENSHOTS / "test_it_signs_up_in_the_browsers_time_zone__signup-390.png"))
        page.get_by_role("button", name="Create account").click()
        expect(page.locator("input[name=code]")).to_be_visible()
        assert User.objects.get(email="ravi@example.com").time_zone == "Asia/Kolkata"
    finally:
        context.close()


def test_it_refuses_a_time_zone_it_does_not_know_and_keeps_the_rest(page, shot, transactional_db):
    _invite, code = services.invite_create(created_by=None)
    fill_signup(page, code=code, email="zed@example.com")
    page.fill("input[name=time_zone]", "Mars/Olympus")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("We don't know the time zone “Mars/Olympus”")).to_be_visible()
    expect(page.locator("input[name=email]")).to_have_value("zed@example.com")
    expect(page.locator("input[name=time_zone]")).to_have_value("Mars/Olympus")
    shot("unknown-time-zone")
    assert not User.objects.filter(email="zed@example.com").exists()
