"""A job's page in a real browser: the estimate and what was charged, Cancel and Run again with a toast,
at 1280 and 390 px, light and dark."""

from django.utils import timezone
from playwright.sync_api import expect

from apps.core.models import Job
from tests.conftest import PASSWORD

VARIANTS = [(1280, "light"), (1280, "dark"), (390, "light"), (390, "dark")]
MODEL_ERROR = (
    "The model server kept failing (HTTP 500), 3 tries in 1.8 seconds. Nothing was charged; the $0.0423 held "
    "for it was released. Try again later."
)


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
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    box = page.locator(".ar-job").first.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, box


def _job(tenant, alice, **fields) -> Job:
    values = {
        "tenant": tenant,
        "created_by": alice,
        "kind": "assist.improve",
        "label": "Improve 5 entries",
        "func_path": "tests.core.test_jobs.refuse",
        "attempts": 1,
        "estimate_micros": 42_300,
    }
    values.update(fields)
    return Job.objects.create(**values)


def test_it_shows_the_money_and_cancels_and_retries_a_job(page, shot, alice, tenant, transactional_db):
    running = _job(
        tenant,
        alice,
        status=Job.Status.RUNNING,
        started_at=timezone.now(),
        step="Improving entry 2 of 5",
        progress_done=1,
        progress_total=5,
        cost_micros=8_460,
    )
    failed = _job(
        tenant,
        alice,
        status=Job.Status.FAILED,
        attempts=2,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        error=MODEL_ERROR,
    )
    sign_in(page, alice)

    for width, theme in VARIANTS:
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"/jobs/{running.pk}/")
        _theme(page, theme)
        job = page.locator(f"#job-{running.pk}")
        expect(job.locator("[data-job-estimate]")).to_have_text("up to $0.04")
        expect(job.locator("[data-job-cost]")).to_have_text("$0.00846")
        expect(job).to_contain_text("Improving entry 2 of 5 · 1 of 5")
        _fits(page)
        shot(f"running-{width}-{theme}")

        page.goto(f"/jobs/{failed.pk}/")
        job = page.locator(f"#job-{failed.pk}")
        expect(job.get_by_role("alert")).to_contain_text("kept failing (HTTP 500)")
        expect(job.locator("[data-job-cost]")).to_have_text("Nothing charged")
        expect(job.locator("[data-job-attempts]")).to_have_text("2")
        _fits(page)
        shot(f"failed-{width}-{theme}")

    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"/jobs/{running.pk}/")
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#toasts")).to_contain_text("Job cancelled. Nothing more will be charged for it.")
    job = page.locator(f"#job-{running.pk}")
    expect(job.locator(".ar-badge")).to_have_text("Cancelled")
    expect(job).to_contain_text("what it did before that stays charged")
    expect(job.get_by_role("button", name="Cancel")).to_have_count(0)
    page.wait_for_timeout(300)  # the toast's fade-in
    shot("cancelled-390-dark")
    running.refresh_from_db()
    assert running.status == Job.Status.CANCELLED

    job.get_by_role("button", name="Run again").click()
    expect(page.locator("#toasts")).to_contain_text("Job queued to run again.")
    expect(job).to_contain_text("Waiting to start")
    shot("queued-again-390-dark")
    running.refresh_from_db()
    assert running.status == Job.Status.QUEUED
