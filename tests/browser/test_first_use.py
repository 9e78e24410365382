"""What a new person sees, at 1280 and 390 px, light and dark: nothing wider than the window, long names
cut with the full name at hand, and a screenshot of each page for people to look at."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.accounts import services as account_services
from apps.worklog import services
from tests.browser.test_worklog import sign_in
from tests.conftest import PASSWORD

VARIANTS = [(1280, "light"), (1280, "dark"), (390, "light"), (390, "dark")]
LONG_EMPLOYER = "Consolidated Interplanetary Logistics and Freight Corporation"
LONG_PROJECT = "Customer onboarding and identity verification platform rewrite"
LONG_WORKSPACE = "Alice Anders' very long workspace name for the whole platform team"


def looks(page, shot, name: str, *, prepare=None) -> None:
    """Each size and theme in turn: reload (then `prepare`), check nothing overflows sideways, screenshot."""
    for width, theme in VARIANTS:
        page.set_viewport_size({"width": width, "height": 860})
        page.emulate_media(color_scheme=theme)
        page.reload()
        expect(page.locator("html")).to_have_attribute("data-bs-theme", theme)
        if prepare:
            prepare()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} at {width}px {theme} is {overflow}px wider than the window"
        shot(f"{name}-{width}-{theme}")


def is_cut_with_full_text(locator, full_text: str) -> bool:
    """The element is narrower than its text (an ellipsis shows) and its title carries the whole text."""
    cut = locator.evaluate("el => el.scrollWidth > el.clientWidth")
    return cut and full_text in (locator.get_attribute("title") or "")


@pytest.fixture
def long_names(alice, tenant):
    tenant.name = LONG_WORKSPACE
    tenant.save()
    today = timezone.localdate()
    for number in range(7):
        services.entry_create(
            tenant=tenant,
            author=alice,
            title=f"Rebuilt the carrier rate import so finance closes the month two days sooner ({number})",
            occurred_on=today - timedelta(days=number * 5),
            employer=LONG_EMPLOYER,
            project=LONG_PROJECT,
            impact="" if number % 2 else "Month-end close two days sooner",
            skills=["Python", "PostgreSQL"] if number % 3 else ["Python", "Stakeholder management"],
            outcome_pending=number == 6,
            follow_up_on=today - timedelta(days=1) if number == 6 else None,
        )


def test_it_welcomes_a_new_person_without_a_wall_of_zeros(page, shot, alice, transactional_db):
    sign_in(page, alice)
    expect(page.get_by_role("heading", name="Start your work log")).to_be_visible()
    expect(page.locator("[data-insight]")).to_have_count(0)
    expect(page.get_by_role("button", name="Log your first entry")).to_be_visible()
    looks(page, shot, "dashboard-empty")


def test_it_fits_the_dashboard_and_top_bar_on_a_phone(page, shot, alice, long_names, transactional_db):
    sign_in(page, alice)
    expect(page.locator("[data-insight]")).to_have_count(5)
    looks(page, shot, "dashboard")
    # At 390 px (the last size looked at) long names are cut, with the whole name in the title.
    chip = page.locator("#workspace-chip")
    assert chip.locator(".text-truncate").evaluate("el => el.scrollWidth > el.clientWidth")
    assert LONG_WORKSPACE in chip.get_attribute("title")
    first_row = page.locator(".ar-recent-entries .ar-row").first
    assert is_cut_with_full_text(first_row.locator(".ar-row-title"), "Rebuilt the carrier rate import")
    assert is_cut_with_full_text(first_row.locator(".ar-row-meta"), LONG_PROJECT)


def test_it_shows_quick_add_with_its_chips_and_the_toast_after_saving(
    page, shot, alice, long_names, transactional_db
):
    sign_in(page, alice)
    modal = page.locator("#quick-add-modal")

    def open_quick_add():
        page.locator("body").press("n")
        expect(modal.locator("[data-filed-chip=employer]")).to_be_visible()
        expect(modal.locator("[data-filed-chip=project]")).to_contain_text(LONG_PROJECT)
        page.wait_for_timeout(350)  # the modal's fade

    looks(page, shot, "quick-add-chips", prepare=open_quick_add)

    def save_one():
        open_quick_add()
        modal.locator("input[name=title]").fill("Walked the new hire through the billing code")
        modal.locator("input[name=title]").press("Control+Enter")
        expect(page.locator("#toasts .toast.show")).to_be_visible()
        page.wait_for_timeout(350)

    looks(page, shot, "quick-add-toast", prepare=save_one)


def test_it_fits_evidence_links_on_the_entry_page(page, shot, alice, tenant, transactional_db):
    entry = services.entry_create(
        tenant=tenant,
        author=alice,
        title="Wrote the incident review for the checkout outage",
        employer=LONG_EMPLOYER,
        project=LONG_PROJECT,
        links=[
            "https://docs.example.com/engineering/incidents/2025/checkout-outage-review-with-timeline-and-actions",
            "https://github.com/acme/checkout/pull/4812",
        ],
    )
    sign_in(page, alice)
    page.goto(f"/log/entries/{entry.pk}/")
    looks(page, shot, "entry-evidence")
    long_link = page.locator(".ar-evidence-list .ar-evidence-name").first
    assert is_cut_with_full_text(long_link, "checkout-outage-review-with-timeline-and-actions")


def test_it_shows_the_sign_in_and_sign_up_pages(page, shot, transactional_db):
    page.goto("/accounts/login/")
    expect(page.get_by_role("checkbox", name="Remember me")).to_be_visible()
    looks(page, shot, "login")
    page.goto("/accounts/signup/")
    expect(page.locator("input[name=time_zone]")).not_to_have_value("")
    looks(page, shot, "signup")


def test_it_shows_the_account_pages(page, shot, alice, transactional_db):
    sign_in(page, alice)
    page.goto("/accounts/email/")
    expect(page.get_by_role("heading", name="Email addresses")).to_be_visible()
    expect(page.get_by_role("button", name="Make primary")).to_have_count(0)
    looks(page, shot, "email-addresses")

    page.goto("/profile/")

    def type_a_zone():
        field = page.locator("input[name=time_zone]")
        field.fill("Europe/Ber")
        field.focus()

    looks(page, shot, "profile-time-zone", prepare=type_a_zone)

    page.goto("/accounts/2fa/")
    expect(page.get_by_role("heading", name="Two-factor authentication")).to_be_visible()
    looks(page, shot, "two-factor")
    page.goto("/accounts/2fa/totp/activate/")
    expect(page.get_by_role("heading", name="Confirm access")).to_be_visible()  # allauth asks again first
    looks(page, shot, "confirm-access")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Activate authenticator app")).to_be_visible()
    looks(page, shot, "two-factor-totp")


def test_it_shows_staff_invites_with_their_creator(page, shot, staff, transactional_db):
    account_services.invite_create(created_by=None, note="Made with create_invite")
    account_services.invite_create(created_by=staff, note="Made on the staff page")
    sign_in(page, staff)
    page.goto("/staff/invites/")
    expect(page.get_by_text("Command line")).to_be_visible()
    looks(page, shot, "staff-invites")
