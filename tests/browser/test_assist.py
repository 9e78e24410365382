"""AI help on entries in a real browser: improve an entry, read the diff, accept one field and reject
another; walk the review queue with the keyboard; the voice settings; and, with the loopback model server
and a funded reserve, see what a real model call cost on /billing/."""

import pytest
from django_q.conf import Conf
from playwright.sync_api import expect

from apps.assist.models import Suggestion
from apps.billing import services as billing_services
from apps.llm.providers import openai_compat
from apps.worklog import services
from apps.worklog.models import Entry
from tests.assist.conftest import DEPLOY_ENTRY, model_draft
from tests.conftest import PASSWORD
from tests.llm.fake_openai import FakeOpenAI


def sign_in(page, user):
    page.goto("/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name=f"Welcome, {user.name}")).to_be_visible()


@pytest.fixture
def jobs_run_inline(monkeypatch):
    """django-q2's sync mode: the live server runs a queued job as soon as its transaction commits."""
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture
def shots(page, shot):
    """shots("name"): the page at 1280 and 390 px wide, light and dark."""

    def take(name: str) -> None:
        page.evaluate("window.scrollTo(0, 0)")  # full-page shots with the sticky bars where they belong
        for width, height in ((1280, 860), (390, 844)):
            page.set_viewport_size({"width": width, "height": height})
            for theme in ("light", "dark"):
                page.evaluate(f"document.documentElement.setAttribute('data-bs-theme', '{theme}')")
                page.wait_for_timeout(400)  # let the colour transitions finish
                shot(f"{name}-{width}-{theme}")
        page.evaluate("document.documentElement.setAttribute('data-bs-theme', 'light')")
        page.set_viewport_size({"width": 1280, "height": 860})

    return take


@pytest.fixture
def model_server(settings):
    server = FakeOpenAI()
    openai_compat._downgraded.clear()
    settings.LLM_PROVIDER = "openai"
    settings.LLM_BASE_URL = server.url
    settings.LLM_API_KEY = "sk-test-local"
    settings.LLM_MODEL = "local-model"
    settings.LLM_TIMEOUT_SECONDS = 2
    settings.LLM_MAX_RETRIES = 0
    yield server
    server.stop()
    openai_compat._downgraded.clear()


def test_it_improves_an_entry_and_applies_only_what_is_accepted(
    page, shots, shot, alice, tenant, transactional_db, jobs_run_inline
):
    entry = services.entry_create(tenant=tenant, author=alice, employer="Acme", **DEPLOY_ENTRY)
    sign_in(page, alice)
    page.goto(f"/log/entries/{entry.pk}/")
    panel = page.locator("#assist-panel")
    expect(panel).to_contain_text("Drafted without AI")

    page.locator(".ar-page-actions [data-assist-improve]").click()
    expect(panel.locator("[data-assist-estimate]")).to_have_text("Free")
    expect(panel).to_contain_text("Your own words, rearranged on this server.")
    page.evaluate("window.scrollTo(0, 0)")
    shot("confirm")

    panel.get_by_role("button", name="Start").click()
    expect(page.locator('#assist-panel[data-assist-state="review"]')).to_be_visible()
    title = panel.locator('[data-sg-field="title"]')
    expect(title.locator("del.ar-diff-del")).to_have_text("I migrated")
    expect(title.locator("ins.ar-diff-ins")).to_have_text("Migrated")
    expect(panel.locator("[data-drafted-without-ai]")).to_have_text("Drafted without AI")
    expect(panel.locator('[data-sg-field="metrics"]')).to_contain_text("12 minutes (from 40 to 12)")
    shots("entry-with-suggestion")

    body = panel.locator('[data-sg-field="body"]')
    body.get_by_text("Reject", exact=True).click()
    expect(body).to_have_attribute("data-decision", "reject")
    panel.locator('[data-sg-field="metrics"]').get_by_text("Reject", exact=True).click()
    panel.locator("label.ar-sg-skill", has_text="Kubernetes").click()  # untick: add only Python
    impact = panel.locator('[data-sg-field="impact"]')
    impact.get_by_text("Edit", exact=True).click()
    edit = impact.locator("textarea")
    expect(edit).to_be_focused()
    edit.fill("Deploys take 12 minutes, down from 40.")
    expect(impact.locator(".ar-flags-clear")).to_have_text("Everything in your text is in your entry.")
    page.evaluate("window.scrollTo(0, 0)")
    shot("decisions-made")

    panel.get_by_role("button", name="Apply changes").click()
    expect(page.locator("#toasts")).to_contain_text("Applied 2 changes and 1 skill")
    expect(page.locator("h1")).to_have_text("Migrated the deploy scripts")
    expect(page.locator("#assist-panel")).to_have_attribute("data-assist-state", "idle")
    history = page.locator("#history")
    expect(history).to_contain_text("I migrated the deploy scripts")
    expect(history).to_contain_text(f"Replaced by accepted suggestion #{Suggestion.objects.get().pk}")
    history.get_by_text("Compare with now").click()
    expect(history.locator(".ar-version-change").first).to_be_visible()
    shots("entry-after-accepting")

    entry.refresh_from_db()
    assert entry.title == "Migrated the deploy scripts" and entry.body == DEPLOY_ENTRY["body"]
    assert entry.impact == "Deploys take 12 minutes, down from 40." and entry.metric_value is None
    assert list(entry.skills.values_list("name", flat=True)) == ["Python"]

    # Restore the original: the suggestion's text is kept too.
    page.once("dialog", lambda dialog: dialog.accept())
    history.get_by_role("button", name="Restore this version").first.click()
    expect(page.locator("#toasts")).to_contain_text("Version restored.")
    expect(page.locator("h1")).to_have_text("I migrated the deploy scripts")
    expect(history.locator(".ar-version")).to_have_count(2)


def test_it_walks_the_review_queue_with_the_keyboard(
    page, shots, alice, tenant, transactional_db, jobs_run_inline
):
    services.entry_create(tenant=tenant, author=alice, **DEPLOY_ENTRY)
    services.entry_create(
        tenant=tenant,
        author=alice,
        title="fixed the checkout bug",
        body="Checkout failed for 3 users. I fixed the retry.",
    )
    services.entry_create(
        tenant=tenant,
        author=alice,
        title="i led the retro",
        body="Deploys kept failing. I led the retro. We now ship daily.",
    )
    services.entry_create(tenant=tenant, author=alice, title="Wrote the runbook", impact="Pages halved.")
    sign_in(page, alice)
    page.get_by_role("link", name="Improve", exact=True).click()
    expect(page.get_by_role("heading", name="Improve entries")).to_be_visible()
    page.get_by_role("link", name="No impact yet").click()
    expect(page.locator("[data-bulk-count]")).to_have_text("3")
    page.get_by_role("checkbox", name="i led the retro").uncheck()
    expect(page.locator("[data-bulk-count]")).to_have_text("2")
    page.get_by_role("checkbox", name="i led the retro").check()
    expect(page.locator("[data-bulk-count]")).to_have_text("3")
    shots("improve-entries")

    page.get_by_role("button", name="Improve 3 entries").click()
    expect(page.locator("#toasts")).to_contain_text("Improving 3 entries.")
    page.get_by_role("link", name="Review suggestions").click()
    card = page.locator("#queue-card")
    expect(card.locator("[data-queue-position]")).to_have_text("Suggestion 1 of 3")
    shots("review-queue")

    first = card.get_attribute("data-queue-suggestion")
    page.keyboard.press("a")
    expect(page.locator("#toasts")).to_contain_text("Applied")
    expect(card.locator("[data-queue-position]")).to_have_text("Suggestion 1 of 2")
    assert card.get_attribute("data-queue-suggestion") != first

    page.keyboard.press("s")
    expect(page.locator("#toasts")).to_contain_text("Skipped; it stays in the queue for later.")
    expect(card.locator("[data-queue-position]")).to_contain_text("1 skipped")

    page.keyboard.press("e")
    edit = card.locator('.ar-sg-field[data-decision="edit"] .ar-sg-edit').locator("input, textarea").first
    expect(edit).to_be_focused()
    edit.fill("Led the retro on failing deploys")
    edit.press("Escape")  # leaves the box, keeping the text
    expect(edit).not_to_be_focused()
    page.keyboard.press("r")
    expect(page.locator("#toasts")).to_contain_text("Suggestion rejected")
    expect(card).to_contain_text("Only skipped suggestions are left")
    shots("review-queue-end")
    statuses = sorted(Suggestion.objects.values_list("status", flat=True))
    assert statuses == ["accepted", "pending", "rejected"]


def test_it_previews_the_prompt_as_the_voice_changes(page, shots, alice, tenant, transactional_db):
    services.entry_create(tenant=tenant, author=alice, **DEPLOY_ENTRY)
    sign_in(page, alice)
    page.goto("/improve/voice/")
    preview = page.locator("#prompt-preview")
    expect(preview).to_contain_text("Plain and direct")
    expect(preview).to_contain_text("I migrated the deploy scripts")
    page.select_option("select[name=tone]", "formal")
    expect(preview).to_contain_text("Formal: complete sentences")
    page.fill("textarea[name=instructions]", "Use British spelling.")
    expect(preview).to_contain_text("Use British spelling.")
    shots("voice-settings")
    page.get_by_role("button", name="Save voice settings").click()
    expect(page.locator("#toasts")).to_contain_text("Voice settings saved.")
    expect(page.locator("select[name=tone]")).to_have_value("formal")


def test_it_pays_a_real_model_call_from_the_reserve_and_shows_it_on_billing(
    page, shots, shot, alice, tenant, transactional_db, jobs_run_inline, model_server
):
    billing_services.rate_card_install_default()
    billing_services.reserve_credit(tenant=tenant, amount_micros=5_000_000, idempotency_key="top-up-5")
    model_server.answer(model_draft(title="Cut deploy time at Globex by 70%"), usage=(300, 80))
    entry = services.entry_create(tenant=tenant, author=alice, **DEPLOY_ENTRY)
    sign_in(page, alice)
    page.goto(f"/log/entries/{entry.pk}/")
    panel = page.locator("#assist-panel")
    expect(panel).to_contain_text("AI model: local-model")
    panel.locator("[data-assist-improve]").click()
    expect(panel.locator("[data-assist-estimate]")).to_contain_text("from your reserve")
    panel.get_by_role("button", name="Start").click()

    expect(panel).to_contain_text("Drafted by local-model")
    expect(panel).to_contain_text("cost $0.0022")
    title = panel.locator('[data-sg-field="title"]')
    expect(title.locator("mark.ar-flag").first).to_have_text("Globex")
    expect(title).to_have_attribute("data-decision", "reject")
    expect(title).to_contain_text("not in your entry")
    shots("entry-with-flagged-suggestion")

    title.get_by_text("Edit", exact=True).click()
    edit = title.locator("input[name=edit_title]")
    edit.fill("Cut deploy time from 40 to 12 minutes")
    expect(title.locator(".ar-flags-clear")).to_be_visible()
    panel.locator('[data-sg-field="body"]').get_by_text("Reject", exact=True).click()
    panel.get_by_role("button", name="Apply changes").click()
    expect(page.locator("h1")).to_have_text("Cut deploy time from 40 to 12 minutes")
    assert Entry.objects.get().body == DEPLOY_ENTRY["body"]
    assert len(model_server.chat_requests) == 1

    page.get_by_role("link", name="Billing", exact=True).click()
    ledger = page.locator("#ledger-table")
    expect(ledger).to_contain_text("-$0.0022")
    expect(ledger).to_contain_text("Hold capture")
    expect(ledger).to_contain_text("local-model")
    usage = page.locator("#usage-table")
    expect(usage).to_contain_text("300")
    expect(usage).to_contain_text("80")
    shot("billing-after-model-call")
