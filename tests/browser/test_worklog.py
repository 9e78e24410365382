"""The work log in a real browser: quick add with the keyboard, search as you type, evidence."""

import re
from datetime import date, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.worklog import services
from apps.worklog.models import Entry, Evidence
from tests.conftest import PASSWORD

PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2277e"
    "9b0000000049454e44ae426082"
)


@pytest.fixture
def media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }


def sign_in(page, user):
    page.goto("/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name=f"Welcome, {user.name}")).to_be_visible()


def test_it_logs_work_with_the_keyboard_shortcut_and_shows_it_in_the_timeline(
    page, shot, alice, transactional_db
):
    sign_in(page, alice)
    page.get_by_role("link", name="Log", exact=True).click()
    expect(page.get_by_text("Your log is empty")).to_be_visible()
    shot("timeline-empty")

    page.locator("body").press("n")
    modal = page.locator("#quick-add-modal")
    title = modal.locator("input[name=title]")
    expect(title).to_be_focused()
    modal.locator("textarea[name=body]").fill("Rewrote the deploy scripts in Python and moved them to k8s.")
    expect(modal.get_by_role("button", name="Kubernetes")).to_be_visible()  # suggested from the text
    modal.get_by_role("button", name="Save entry").click()
    expect(modal.get_by_text("This field is required.")).to_be_visible()
    expect(modal.locator("textarea[name=body]")).to_have_value(re.compile("Rewrote the deploy scripts"))
    shot("quick-add-error")

    title.fill("Cut deploys from 40 to 8 minutes")
    modal.locator("input[name=employer]").fill("Acme")
    modal.get_by_role("button", name="Kubernetes").click()
    expect(modal.locator("input[name=skills]")).to_have_value("Kubernetes, ")
    shot("quick-add-filled")
    title.press("Control+Enter")

    expect(modal).to_be_hidden()
    expect(page.locator("#toasts")).to_contain_text("Logged “Cut deploys from 40 to 8 minutes”.")
    row = page.locator(".ar-tl-entry", has_text="Cut deploys from 40 to 8 minutes")
    expect(row).to_be_visible()
    expect(row).to_contain_text("Kubernetes")
    expect(page.locator(".ar-tl-month")).to_contain_text(timezone.localdate().strftime("%B %Y"))
    shot("timeline-after-quick-add")
    entry = Entry.objects.get()
    assert entry.employer.name == "Acme" and list(entry.skills.values_list("name", flat=True)) == [
        "Kubernetes"
    ]

    # The shortcut is ignored while typing in a field.
    page.locator("#filter-q").press("n")
    expect(modal).to_be_hidden()
    expect(page.locator("#filter-q")).to_have_value("n")


def test_it_narrows_the_timeline_while_typing_a_search(page, shot, alice, tenant, transactional_db):
    for number, (title, body) in enumerate(
        [
            ("Migrated billing to Stripe", "Webhooks, retries and a ledger"),
            ("Mentored two new engineers", "Weekly pairing sessions"),
            ("Tuned the Postgres indexes", "Search went from seconds to milliseconds"),
            ("Ran the incident review", "Wrote the runbook for billing outages"),
        ]
    ):
        services.entry_create(
            tenant=tenant,
            author=alice,
            title=title,
            body=body,
            occurred_on=date(2025, 3, 3) + timedelta(days=number * 9),
            employer="Acme",
            skills=["Python"] if number % 2 else ["PostgreSQL", "Stripe API"],
            tags=["billing"] if "billing" in (title + body).lower() else [],
        )
    sign_in(page, alice)
    page.goto("/log/")
    expect(page.locator(".ar-tl-entry")).to_have_count(4)
    shot("timeline-full")

    page.locator("#filter-q").press_sequentially("billing", delay=40)
    expect(page.locator(".ar-tl-entry")).to_have_count(2)
    expect(page.locator(".ar-tl-entry mark").first).to_have_text(re.compile("billing", re.IGNORECASE))
    expect(page).to_have_url(re.compile(r"/log/\?q=billing$"))
    shot("search-results")

    page.reload()  # the view is in the URL, so it survives a reload and can be bookmarked
    expect(page.locator("#filter-q")).to_have_value("billing")
    expect(page.locator(".ar-tl-entry")).to_have_count(2)

    page.locator("#filter-q").fill("")
    page.locator("#filter-q").press("Backspace")
    expect(page.locator(".ar-tl-entry")).to_have_count(4)
    # The type-ahead lists arrive once the form is first used (not with every page of the log).
    expect(page.locator('#filter-skills option[value="Stripe API"]')).to_be_attached()
    expect(page.locator('#filter-employers option[value="Acme"]')).to_be_attached()
    page.locator("#filter-skill").fill("Python")
    page.locator("#filter-skill").press("Enter")
    expect(page.locator(".ar-tl-entry")).to_have_count(2)
    expect(page).to_have_url(re.compile(r"skill=Python"))


def test_it_uploads_evidence_and_opens_it(page, shot, alice, tenant, media, transactional_db):
    entry = services.entry_create(
        tenant=tenant,
        author=alice,
        title="Redesigned the onboarding screen",
        body="**Before:** five steps.\n\n**After:** two steps, with a progress bar.",
        impact="Activation up 12% in the first week",
        metric_value=12,
        metric_unit="% more activations",
        metric_before=31,
        metric_after=43,
        employer="Acme",
        project="Onboarding",
        skills=["Figma", "React"],
        tags=["design"],
    )
    sign_in(page, alice)
    page.goto(f"/log/entries/{entry.pk}/")
    page.locator("input[type=file][name=files]").set_input_files(
        [
            {"name": "after.png", "mimeType": "image/png", "buffer": PNG_1PX},
            {
                "name": "notes.txt",
                "mimeType": "text/plain",
                "buffer": b"Usability test notes: 5 of 5 finished.",
            },
        ]
    )
    expect(page.locator("#toasts")).to_contain_text("Attached “after.png”, “notes.txt”.")
    expect(page.get_by_role("link", name="notes.txt", exact=True)).to_be_visible()
    assert Evidence.objects.count() == 2
    shot("entry-detail")

    with page.context.expect_page() as opened:
        page.get_by_role("link", name="notes.txt", exact=True).click()
    tab = opened.value
    tab.wait_for_load_state()
    expect(tab.locator("body")).to_contain_text("Usability test notes: 5 of 5 finished.")
    tab.close()

    page.locator("input[name=url]").fill("https://www.figma.com/file/abc/onboarding")
    page.locator("input[name=title]").fill("Figma file")
    page.get_by_role("button", name="Add link").click()
    expect(page.get_by_role("link", name="Figma file")).to_be_visible()

    page.locator("input[type=file][name=files]").set_input_files(
        [{"name": "virus.exe", "mimeType": "application/octet-stream", "buffer": b"MZ\x90\x00"}]
    )
    expect(page.get_by_text("“virus.exe” is not a type we accept")).to_be_visible()
    shot("entry-detail-bad-upload")


def test_it_shows_the_entry_form_and_the_skills_pages(page, shot, alice, tenant, transactional_db):
    for skill_set in (["Python", "Django"], ["Python"], ["Go"]):
        services.entry_create(tenant=tenant, author=alice, title="Work", skills=skill_set)
    sign_in(page, alice)
    expect(page.get_by_role("heading", name="Recent entries")).to_be_visible()
    shot("dashboard")
    page.goto("/log/new/")
    page.fill("input[name=title]", "Planned the Q3 roadmap")
    page.fill("textarea[name=body]", "Worked with product on priorities; wrote the doc in Markdown.")
    page.locator("input[name=outcome_pending]").check()
    expect(page.locator("input[name=follow_up_on]")).to_be_visible()
    shot("entry-form")
    page.get_by_role("button", name="Save entry").click()
    expect(page.get_by_role("heading", name="Planned the Q3 roadmap")).to_be_visible()
    expect(page.get_by_text("Result not known yet.")).to_be_visible()

    page.get_by_role("link", name="Skills", exact=True).click()
    expect(page.get_by_role("link", name="Python", exact=True)).to_be_visible()
    shot("skills")
    page.get_by_role("link", name="Rename or merge Go").click()
    shot("skill-edit")
    page.fill("input[name=name]", "Go programming")
    page.get_by_role("button", name="Rename").click()
    expect(page.locator("#toasts")).to_contain_text("Renamed “Go” to “Go programming”.")


def test_it_loads_older_entries_while_scrolling(page, alice, tenant, transactional_db):
    for number in range(45):
        services.entry_create(
            tenant=tenant,
            author=alice,
            title=f"Entry {number:02d}",
            occurred_on=date(2025, 1, 1) + timedelta(days=number),
        )
    sign_in(page, alice)
    page.goto("/log/")
    expect(page.locator(".ar-tl-entry")).to_have_count(30)
    page.locator(".ar-tl-more").scroll_into_view_if_needed()
    expect(page.locator(".ar-tl-entry")).to_have_count(45)
    expect(page.locator(".ar-tl-more")).to_have_count(0)
    expect(page.locator(".ar-tl-entry").last).to_contain_text("Entry 00")


def test_it_shows_the_toast_and_refreshes_the_dashboard_after_a_quick_add(
    page, shot, alice, tenant, transactional_db
):
    services.entry_create(
        tenant=tenant, author=alice, title="Planned the migration", employer="Acme", project="Atlas"
    )
    sign_in(page, alice)
    this_week = page.locator("[data-insight=this-week] .ar-stat-value")
    expect(this_week).to_contain_text("1")
    page.evaluate("window.arNoReload = true")  # gone if the page reloads

    page.locator("body").press("n")
    modal = page.locator("#quick-add-modal")
    modal.locator("input[name=title]").fill("Paired with Sam on the flaky test")
    modal.get_by_role("button", name="Save entry").click()

    expect(modal).to_be_hidden()
    toast = page.locator("#toasts .toast", has_text="Logged “Paired with Sam on the flaky test”.")
    expect(toast).to_be_visible()
    expect(toast).to_have_class(re.compile(r"\bshow\b"))
    recent = page.locator(".ar-recent-entries")
    expect(recent.locator(".ar-row").first).to_contain_text("Paired with Sam on the flaky test")
    expect(this_week).to_contain_text("2")
    expect(page.locator("[data-insight=no-impact] .ar-stat-value")).to_contain_text("2")
    assert page.evaluate("window.arNoReload") is True
    shot("dashboard-after-quick-add")


def test_it_files_the_entry_with_no_project_once_the_project_chip_is_removed(
    page, shot, alice, tenant, transactional_db
):
    services.entry_create(
        tenant=tenant, author=alice, title="Planned the migration", employer="Acme", project="Atlas"
    )
    sign_in(page, alice)
    page.locator("body").press("n")
    modal = page.locator("#quick-add-modal")
    project_chip = modal.locator("[data-filed-chip=project]")
    expect(modal.locator("[data-filed-chip=employer]")).to_contain_text("Acme")
    expect(project_chip).to_contain_text("Atlas")
    expect(modal.get_by_text("(as your last entry)")).to_be_visible()
    shot("quick-add-chips")

    modal.get_by_role("button", name="Remove the project").click()
    expect(project_chip).to_be_hidden()
    expect(modal.locator("input[name=project]")).to_have_value("")
    expect(modal.locator("input[name=project]")).to_be_focused()  # ready for another name

    # Typing in a field updates its chip; the employer stays.
    modal.locator("input[name=employer]").fill("Acme Labs")
    expect(modal.locator("[data-filed-chip=employer]")).to_contain_text("Acme Labs")
    modal.locator("input[name=title]").fill("Reviewed the hiring rubric")
    modal.get_by_role("button", name="Save entry").click()
    expect(modal).to_be_hidden()
    expect(page.locator("#toasts .toast.show")).to_contain_text("Reviewed the hiring rubric")

    entry = Entry.objects.get(title="Reviewed the hiring rubric")
    assert entry.project is None and entry.employer.name == "Acme Labs"
