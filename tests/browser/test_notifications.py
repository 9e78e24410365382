"""The bell and the notifications pages in a real browser: the count appears after an event without a reload,
reading updates the badge in place, the settings save; screenshots at 1280 and 390 px, light and dark, and
one HTML email rendered by Chromium."""

import re

import pytest
from django.core import mail
from django_q.conf import Conf
from playwright.sync_api import expect

from apps.billing import services as billing
from apps.notifications.models import Notification
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import PASSWORD

VARIANTS = [(1280, "light"), (1280, "dark"), (390, "light"), (390, "dark")]
DOLLAR = 1_000_000


@pytest.fixture(autouse=True)
def _sync_jobs(monkeypatch, settings):
    monkeypatch.setattr(Conf, "SYNC", True)
    settings.NOTIFICATIONS_POLL_SECONDS = 1


def sign_in(page, user):
    page.goto("/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name=f"Welcome, {user.name}")).to_be_visible()


def _theme(page, theme: str) -> None:
    page.evaluate("theme => window.localStorage.setItem('afterresume-theme', theme)", theme)
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-bs-theme", theme)


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def _some(tenant, user) -> None:
    rows = [
        (
            "balance_low",
            "Your balance is under $5.00",
            "$4.00 is available in the reserve of Alice's workspace.",
        ),
        ("job_succeeded", "Done: Self-review for 2025", "Your report finished."),
        ("follow_up_due", "Follow up: Proposed the on-call rota", "You logged it on Mar 1, 2025."),
        (
            "new_sign_in",
            "New sign-in from Safari on iOS",
            "Your account was signed in to from Safari on iOS.",
        ),
        ("job_failed", "Failed: Export of the log", "Your export stopped before it finished."),
    ]
    for index, (kind, title, body) in enumerate(rows):
        Notification.objects.create(
            tenant=tenant, user=user, kind=kind, key=f"shot:{index}", title=title, body=body, url="/billing/"
        )
    Notification.objects.filter(key__in=["shot:0", "shot:1"]).update(read_at="2025-01-01T00:00:00Z")


def test_it_shows_the_count_after_an_event_and_reads_without_reload(
    page, shot, alice, tenant, transactional_db
):
    billing.reserve_credit(tenant=tenant, amount_micros=6 * DOLLAR, idempotency_key="fund")
    sign_in(page, alice)
    badge = page.locator("#notification-count .ar-bell-badge")
    expect(badge).to_have_count(0)

    # Work elsewhere takes the balance under the threshold: the dispatcher makes the notification.
    billing.reserve_deduct(tenant=tenant, amount_micros=2 * DOLLAR, idempotency_key="use-1")
    assert Notification.objects.filter(user=alice, kind="balance_low").count() == 1
    expect(badge).to_have_text("1")  # the open page polls the badge; no reload

    page.locator("#notification-bell-button").click()
    menu = page.locator("#notification-menu")
    expect(menu.get_by_text("Your balance is under $5.00")).to_be_visible()

    page.goto("/notifications/")
    item = page.locator(".ar-notification").first
    expect(item).to_have_class("ar-notification is-unread")
    page.evaluate("window.__marker = 'same page'")
    item.get_by_role("button", name="Mark “Your balance is under $5.00” read").click()
    expect(item.get_by_text("Read", exact=True)).to_be_visible()
    expect(badge).to_have_count(0)
    expect(page.locator("#notification-read-all")).to_have_count(0)
    assert page.evaluate("window.__marker") == "same page"  # no reload happened
    assert Notification.objects.get(user=alice).read_at is not None


def test_it_marks_all_read_from_the_bell(page, alice, tenant, transactional_db):
    _some(tenant, alice)
    sign_in(page, alice)
    expect(page.locator("#notification-count .ar-bell-badge")).to_have_text("3")
    page.locator("#notification-bell-button").click()
    page.locator("#notification-menu").get_by_role("button", name="Mark all read").click()
    expect(page.locator("#toasts")).to_contain_text("Marked 3 notifications read.")
    expect(page.locator("#notification-count .ar-bell-badge")).to_have_count(0)
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_it_screenshots_the_bell_the_page_and_the_settings(page, alice, tenant, transactional_db):
    _some(tenant, alice)
    sign_in(page, alice)
    for width, theme in VARIANTS:
        page.set_viewport_size({"width": width, "height": 860})
        page.goto("/")
        _theme(page, theme)
        page.locator("#notification-bell-button").click()
        expect(page.locator("#notification-menu").get_by_text("Failed: Export of the log")).to_be_visible()
        box = page.locator(".ar-bell-menu").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, box
        page.screenshot(path=str(SCREENSHOTS / f"notifications__bell_{width}_{theme}.png"))

        page.goto("/notifications/")
        expect(page.get_by_role("heading", name="Notifications", exact=True)).to_be_visible()
        _fits(page)
        page.screenshot(path=str(SCREENSHOTS / f"notifications__page_{width}_{theme}.png"), full_page=True)

        page.goto("/notifications/settings/")
        expect(page.get_by_role("heading", name="Notification settings")).to_be_visible()
        _fits(page)
        page.screenshot(
            path=str(SCREENSHOTS / f"notifications__settings_{width}_{theme}.png"), full_page=True
        )


def test_it_saves_the_settings(page, alice, tenant, transactional_db):
    sign_in(page, alice)
    page.goto("/notifications/settings/")
    page.locator("#id_capture_reminder-email").check()
    page.locator("#id_reminder_weekday").select_option(label="Monday")
    page.locator("#id_reminder_hour").select_option(label="08:00")
    expect(page.locator("#id_new_sign_in-email")).to_be_disabled()
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#toasts")).to_contain_text("Notification settings saved.")
    expect(page.locator("#id_capture_reminder-email")).to_be_checked()
    expect(page.locator("#id_reminder_hour")).to_have_value("8")


def test_it_renders_a_notification_email(page, alice, bob, tenant, transactional_db):
    billing.reserve_credit(tenant=tenant, amount_micros=6 * DOLLAR, idempotency_key="fund")
    billing.reserve_deduct(tenant=tenant, amount_micros=2 * DOLLAR, idempotency_key="use-1")
    message = next(m for m in mail.outbox if m.to == ["alice@example.com"])
    html = message.alternatives[0][0]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width, theme in VARIANTS:  # dark: a mail client that follows the reader's dark mode
        page.emulate_media(color_scheme=theme)
        page.set_viewport_size({"width": width, "height": 800})
        page.set_content(html)
        expect(page.get_by_role("heading", name="Your balance is under $5.00")).to_be_visible()
        expect(page.get_by_role("link", name="Top up")).to_be_visible()
        _fits(page)
        card = page.locator(".m-card").evaluate("element => getComputedStyle(element).backgroundColor")
        assert card == ("rgb(27, 30, 37)" if theme == "dark" else "rgb(255, 255, 255)")
        page.screenshot(path=str(SCREENSHOTS / f"notifications__email_{width}_{theme}.png"), full_page=True)


def test_it_unsubscribes_signed_out_in_one_click(page, alice, transactional_db):
    from apps.notifications.emails import unsubscribe_token
    from apps.notifications.selectors import preference_choices

    url = f"/notifications/unsubscribe/{unsubscribe_token(user_id=alice.pk, kind='job_failed')}/"
    for width, theme in VARIANTS:
        page.set_viewport_size({"width": width, "height": 760})
        page.goto(url)
        _theme(page, theme)
        expect(page.get_by_role("heading", name="Stop these emails?")).to_be_visible()
        page.screenshot(path=str(SCREENSHOTS / f"notifications__unsubscribe_{width}_{theme}.png"))
        page.get_by_role("button", name="Unsubscribe").click()
        expect(page.get_by_role("heading", name="You're unsubscribed")).to_be_visible()
        _fits(page)
        page.screenshot(path=str(SCREENSHOTS / f"notifications__unsubscribed_{width}_{theme}.png"))
        assert preference_choices(user=alice)["job_failed"].email is False
        page.get_by_role("button", name="Undo: email me again").click()
        expect(page.get_by_role("heading", name="Emails are back on")).to_be_visible()
        assert preference_choices(user=alice)["job_failed"].email is True


def test_it_never_swaps_the_login_page_into_the_bell_after_signing_out(page, alice, tenant, transactional_db):
    _some(tenant, alice)
    sign_in(page, alice)
    badge = page.locator("#notification-count .ar-bell-badge")
    expect(badge).to_have_text("3")
    page.context.clear_cookies()  # signed out elsewhere: the next poll finds no session
    with page.expect_response(lambda response: "/notifications/" in response.url):
        page.evaluate("document.body.dispatchEvent(new Event('notifications-changed'))")
    notice = page.locator("#signed-out-notice")
    expect(notice).to_contain_text("You were signed out.")
    expect(badge).to_have_text("3")
    expect(page.locator("#notification-bell input[name=login]")).to_have_count(0)

    notice.get_by_role("link", name="Sign in again").click()  # back to this page after signing in
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/"))
