"""Reports in a real browser: choose filters and see the estimate, write the report, follow a citation,
fix a flagged claim in the editor, export a PDF, share, open the link signed out, revoke, see it gone.
Screenshots of the create page, a report, the editor and the share page at 1280 and 390 px, light and dark."""

import re

import pytest
from django_q.conf import Conf
from playwright.sync_api import expect

from apps.reporting.models import Report
from tests.browser.test_worklog import sign_in
from tests.reporting import conftest as reporting_fixtures
from tests.reporting.conftest import SECRET_TITLE

funded, rates, log = reporting_fixtures.funded, reporting_fixtures.rates, reporting_fixtures.log

pytestmark = pytest.mark.usefixtures("funded")


@pytest.fixture(autouse=True)
def _jobs_inline(monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", True)


def shots(page, shot, name: str) -> None:
    """The page at 1280 and 390 px wide, light and dark."""
    size = page.viewport_size
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 860})
        for theme in ("light", "dark"):
            page.evaluate("theme => document.documentElement.setAttribute('data-bs-theme', theme)", theme)
            page.wait_for_timeout(400)  # let colour transitions finish
            shot(f"{name}-{width}-{theme}")
    page.evaluate("() => document.documentElement.setAttribute('data-bs-theme', 'light')")
    page.set_viewport_size(size)


def test_it_goes_from_filters_to_a_shared_report_and_back(
    page, shot, browser, live_server, alice, log, transactional_db
):
    sign_in(page, alice)
    page.get_by_role("link", name="Reports", exact=True).click()
    expect(page.get_by_text("No reports yet")).to_be_visible()
    page.get_by_role("link", name="New report").first.click()

    page.get_by_label("Brag document").check()
    expect(page.locator("fieldset[data-for-kinds='brag_document']")).to_be_visible()
    expect(page.locator("fieldset[data-for-kinds='self_review']")).to_be_hidden()
    page.locator("label.ar-pick", has_text="Acme").click()
    page.get_by_label(re.compile("^Shareable")).check()
    estimate = page.locator("#estimate")
    expect(estimate.locator("[data-estimate-entries]")).to_have_text(
        "6"
    )  # 7 at Acme, less the confidential one
    expect(estimate).to_contain_text("1 confidential entry")
    expect(estimate).to_contain_text("Free")
    shots(page, shot, "create")

    page.get_by_role("button", name="Write the report").click()
    expect(page.locator("#toasts")).to_contain_text("It is saved before it is shown")
    expect(page.get_by_role("heading", name="Projects")).to_be_visible()
    expect(page.locator("#drafted-without-ai")).to_be_visible()
    report = Report.objects.get()
    assert report.status == "ready" and report.version == 1
    expect(page.get_by_text(SECRET_TITLE)).to_have_count(0)
    shots(page, shot, "report")

    # Hover a citation: the entry's title and date; follow it to the entry.
    cite = page.locator(f"a.ar-cite[data-entry-id='{log['deploys'].pk}']").first
    cite.hover()
    expect(cite.locator(".ar-cite-card")).to_be_visible()
    expect(cite.locator(".ar-cite-card")).to_contain_text("March 5, 2024")
    cite.click()
    expect(page.get_by_role("heading", name="Cut deploy time from 40 to 8 minutes")).to_be_visible()
    page.go_back()

    # Edit a section with a claim the entry does not make: flagged in the preview, then fixed in one click.
    section = page.locator("#section-projects")
    section.get_by_role("link", name="Edit Projects").click()
    editor = page.locator("#id_markdown")
    editor.fill(f"- Cut deploy time by 75% for Checkout [E{log['deploys'].pk}]")
    expect(page.locator("#preview mark.ar-claim")).to_have_text("75%")
    shots(page, shot, "editor")
    page.get_by_role("button", name="Save as a new version").click()
    flag = page.locator(".ar-flag-row", has_text="“75%” is not in the cited entries")
    expect(flag).to_be_visible()
    expect(page.locator("#flag-summary")).to_be_visible()
    shot("report-flagged-1280-light")
    flag.get_by_role("button", name="Remove it").click()
    expect(page.locator("#toasts")).to_contain_text("Removed “75%”")
    expect(page.locator("#section-projects")).to_contain_text("Cut deploy time for Checkout")
    expect(page.locator(".ar-flag-row")).to_have_count(0)

    # Export the PDF.
    page.get_by_role("button", name="Export").click()
    with page.expect_download() as download:
        page.locator("[data-export='pdf']").click()
    assert download.value.suggested_filename.endswith("-v3.pdf")

    # Share, open the link signed out, revoke, see it gone.
    page.locator("#share").get_by_role("button", name="Create link").click()
    expect(page.locator("#toasts")).to_contain_text("Share link ready")
    url = page.locator("#share-url").input_value()
    assert "/r/" in url
    stranger = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 860})
    outside = stranger.new_page()
    outside.goto(url)
    expect(outside.get_by_role("heading", name=report.title)).to_be_visible()
    expect(outside.get_by_text("Cut deploy time for Checkout")).to_be_visible()
    expect(outside.locator("a[href*='/log/']")).to_have_count(0)
    assert outside.locator("meta[name=robots]").get_attribute("content").startswith("noindex")
    shots(outside, _shot_for(shot, outside), "share")

    page.reload()
    expect(page.locator("#share-facts")).to_contain_text("Viewed 1 time")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke link").click()
    expect(page.locator("#toasts")).to_contain_text("Link revoked")
    response = outside.goto(url)
    assert response.status == 404
    expect(outside.get_by_role("heading", name="We couldn't find that page")).to_be_visible()
    stranger.close()


def _shot_for(shot, other_page):
    """The `shot` fixture takes screenshots of the signed-in page; this one of another page."""
    from tests.browser.conftest import SCREENSHOTS

    def take(name: str):
        path = SCREENSHOTS / f"test_reporting__{name}.png"
        other_page.screenshot(path=str(path), full_page=True)
        return path

    return take
