"""The assist pages: the panel on an entry, decisions through the review form, the text history, many
entries at once, the review queue and the voice settings (with HTMX and as plain forms)."""

import re

import pytest
from django.urls import reverse

from apps.assist import services
from apps.assist.models import Suggestion
from apps.core.models import Job
from apps.worklog import services as worklog_services
from apps.worklog.models import EntryVersion
from tests.assist.conftest import DEPLOY_ENTRY, model_draft

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def entry(make_entry):
    return make_entry(**DEPLOY_ENTRY)


@pytest.fixture
def suggestion(entry, improve):
    improve(entry)
    return Suggestion.objects.get(entry=entry)


def panel(client, entry, **params):
    return client.get(reverse("assist_entry_panel", args=[entry.pk]), params, **HTMX)


def decide(client, suggestion, data, **headers):
    return client.post(reverse("assist_suggestion_decide", args=[suggestion.pk]), data, **headers)


# ------------------------------------------------------------------ the panel


def test_it_offers_to_improve_an_entry_with_the_provider(alice_client, entry):
    page = alice_client.get(reverse("worklog_entry_detail", args=[entry.pk])).content.decode()
    assert 'id="assist-panel"' in page and 'data-assist-state="idle"' in page
    assert "Drafted without AI" in page and reverse("assist_entry_improve", args=[entry.pk]) in page
    assert 'id="history"' in page and "No earlier versions yet" in page


def test_it_shows_the_estimate_and_provider_before_starting(alice_client, entry):
    response = alice_client.get(reverse("assist_entry_improve", args=[entry.pk]), **HTMX)
    html = response.content.decode()
    assert 'data-assist-state="confirm"' in html and "Drafted without AI" in html
    assert "<dd data-assist-estimate>Free</dd>" in html and "data-assist-start" in html
    plain = alice_client.get(reverse("assist_entry_improve", args=[entry.pk]))
    assert plain.status_code == 200 and "<html" in plain.content.decode()  # a page without JavaScript


def test_it_shows_the_cost_and_refuses_with_a_top_up_link_under_block(alice_client, entry, external_model):
    html = alice_client.get(reverse("assist_entry_improve", args=[entry.pk]), **HTMX).content.decode()
    assert "AI model: local-model" in html and re.search(r"up to \$0\.\d+ from your reserve", html)
    assert "can't cover this" in html and 'href="/billing/"' in html
    assert "data-assist-start disabled" in html
    response = alice_client.post(reverse("assist_entry_improve", args=[entry.pk]), **HTMX)
    assert response.status_code == 402
    html = response.content.decode()
    assert "Not enough in the reserve" in html and "Top up</a>" in html
    assert not Job.objects.exists() and external_model.chat_requests == []


def test_it_starts_the_job_and_shows_the_review_when_it_is_done(
    alice_client, entry, sync_jobs, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the worker runs the job once it is queued
        response = alice_client.post(reverse("assist_entry_improve", args=[entry.pk]), **HTMX)
    job = Job.objects.get()
    html = response.content.decode()
    assert response.status_code == 200 and 'data-assist-state="running"' in html and f"?job={job.pk}" in html
    html = panel(alice_client, entry, job=job.pk).content.decode()
    assert 'data-assist-state="review"' in html
    assert "Suggested changes" in html and "data-drafted-without-ai" in html
    assert '<del class="ar-diff-del">I migrated</del> the deploy scripts' in html
    assert '<ins class="ar-diff-ins">Migrated</ins> the deploy scripts' in html
    assert "Measurable result" in html and "12 minutes (from 40 to 12)" in html
    assert 'name="skills" value="Python"' in html


def test_it_polls_while_the_job_runs(alice_client, entry, tenant, alice):
    job, _plan = services.improve_start(tenant=tenant, user=alice, entries=[entry])  # queued: nothing runs it
    html = panel(alice_client, entry).content.decode()
    assert (
        'data-assist-state="running"' in html and f"?job={job.pk}" in html and 'hx-trigger="every 1s"' in html
    )
    assert reverse("job_cancel", args=[job.pk]) in html
    from apps.core.jobs import job_cancel

    job_cancel(job=job, user=alice)
    html = panel(alice_client, entry, job=job.pk).content.decode()
    assert 'data-assist-state="stopped"' in html and "Cancelled" in html and "every 1s" not in html


def test_it_keeps_another_workspace_s_job_out_of_the_panel(alice_client, entry, charlie, other_tenant):
    job = Job.objects.create(tenant=other_tenant, kind="assist.improve", label="x", func_path="x")
    assert panel(alice_client, entry, job=job.pk).status_code == 404
    assert alice_client.get(reverse("assist_review"), {"job": job.pk}).status_code == 404


# -------------------------------------------------------------- the decisions


def test_it_applies_the_choices_made_field_by_field(alice_client, suggestion, entry):
    data = {
        "decision_title": "accept",
        "decision_body": "reject",
        "decision_impact": "edit",
        "edit_impact": "Deploys take 12 minutes now.",
        "decision_metrics": "accept",
        "skills": ["Kubernetes"],
    }
    response = decide(alice_client, suggestion, data, **HTMX)
    assert response.status_code == 204 and response["HX-Redirect"] == reverse(
        "worklog_entry_detail", args=[entry.pk]
    )
    entry.refresh_from_db()
    assert entry.title == "Migrated the deploy scripts" and entry.body == DEPLOY_ENTRY["body"]
    assert entry.impact == "Deploys take 12 minutes now." and entry.metric_after == 12
    assert list(entry.skills.values_list("name", flat=True)) == ["Kubernetes"]
    page = alice_client.get(reverse("worklog_entry_detail", args=[entry.pk])).content.decode()
    assert "Applied 6 changes and 1 skill to “Migrated the deploy scripts”" in page  # the toast
    assert f"Replaced by accepted suggestion #{suggestion.pk}" in page and "Restore this version" in page


def test_it_rejects_all_from_the_form(alice_client, suggestion, entry):
    response = decide(alice_client, suggestion, {"action": "reject", "decision_title": "accept"})
    assert response.status_code == 302
    suggestion.refresh_from_db()
    entry.refresh_from_db()
    assert suggestion.status == "rejected" and entry.title == DEPLOY_ENTRY["title"]
    page = alice_client.get(response["Location"]).content.decode()
    assert "Suggestion rejected; “I migrated the deploy scripts” stays as it was." in page
    assert 'data-assist-state="idle"' in page


def test_it_keeps_what_was_typed_when_a_choice_is_refused(alice_client, suggestion, entry):
    data = {"decision_title": "edit", "edit_title": "   ", "decision_body": "accept"}
    response = decide(alice_client, suggestion, data, **HTMX)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-assist-state="review"' in html and "Give the entry a title." in html
    assert 'data-sg-field="title" data-decision="edit"' in html
    entry.refresh_from_db()
    assert entry.title == DEPLOY_ENTRY["title"]


def test_it_re_checks_an_edit_as_it_is_typed(alice_client, entry, improve, external_model, fund, tenant):
    fund(tenant, 5_000_000)
    external_model.answer(model_draft(title="Cut deploy time at Globex"))
    improve(entry)
    suggestion = Suggestion.objects.get()
    page = alice_client.get(reverse("worklog_entry_detail", args=[entry.pk])).content.decode()
    assert '<mark class="ar-flag" title="Not in your entry">Globex</mark>' in page
    assert 'data-sg-field="title" data-decision="reject" data-flagged' in page
    url = reverse("assist_suggestion_check", args=[suggestion.pk])
    still = alice_client.post(url, {"field": "title", "edit_title": "Cut deploy time at Globex Corp"}, **HTMX)
    assert "Globex Corp" in still.content.decode() and "not in your entry" in still.content.decode()
    clear = alice_client.post(url, {"field": "title", "edit_title": "Cut deploy time"}, **HTMX)
    assert "Everything in your text is in your entry." in clear.content.decode()
    refused = decide(alice_client, suggestion, {"decision_title": "accept"}, **HTMX)
    assert refused.status_code == 400 and "Edit it, or confirm it is true" in refused.content.decode()
    confirmed = decide(alice_client, suggestion, {"decision_title": "accept", "confirm_title": "1"}, **HTMX)
    assert confirmed.status_code == 204
    entry.refresh_from_db()
    assert entry.title == "Cut deploy time at Globex"


def test_it_says_a_decided_suggestion_was_decided(alice_client, suggestion, alice):
    services.suggestion_reject(suggestion=suggestion, actor=alice)
    response = decide(alice_client, suggestion, {"decision_title": "accept"}, **HTMX)
    assert response.status_code == 409 and "already decided" in response.content.decode()


# ------------------------------------------------------------------ versions


def test_it_restores_a_version_from_the_entry_page(alice_client, entry, alice):
    worklog_services.entry_update(entry=entry, actor=alice, title="A worse title")
    version = EntryVersion.objects.get()
    page = alice_client.get(reverse("worklog_entry_detail", args=[entry.pk])).content.decode()
    assert "Replaced by an edit by Alice Anders" in page and "Compare with now" in page
    assert '<del class="ar-diff-del">I migrated the deploy scripts</del>' in page  # not in the text now
    response = alice_client.post(reverse("assist_version_restore", args=[entry.pk, version.pk]))
    assert response.status_code == 302 and response["Location"].endswith("#history")
    entry.refresh_from_db()
    assert entry.title == DEPLOY_ENTRY["title"] and EntryVersion.objects.count() == 2
    page = alice_client.get(response["Location"]).content.decode()
    assert "Version restored." in page and "Replaced by a restore" in page


# -------------------------------------------------------------- many at once


def test_it_chooses_entries_by_filters_and_no_impact_yet(alice_client, make_entry):
    make_entry("Wrote the runbook", impact="On-call pages halved.")
    make_entry("Fixed the flaky test", employer="Acme")
    page = alice_client.get(reverse("assist_improve")).content.decode()
    assert "Wrote the runbook" in page and "Fixed the flaky test" in page and "Improve 2 entries" in page
    page = alice_client.get(reverse("assist_improve"), {"needs": "impact"}).content.decode()
    assert "Wrote the runbook" not in page and "Improve 1 entry" in page
    page = alice_client.get(reverse("assist_improve"), {"employer": "acme"}).content.decode()
    assert "Fixed the flaky test" in page and "Wrote the runbook" not in page


def test_it_estimates_the_ticked_entries(alice_client, make_entry, external_model):
    first, second = make_entry("One", body="Did one thing."), make_entry("Two", body="Did another.")
    html = alice_client.post(
        reverse("assist_estimate"), {"entry": [first.pk, second.pk]}, **HTMX
    ).content.decode()
    assert (
        "<dd data-bulk-count>2</dd>" in html
        and re.search(r"up to \$0\.\d+", html)
        and "Improve 2 entries" in html
    )
    html = alice_client.post(reverse("assist_estimate"), {}, **HTMX).content.decode()
    assert "Tick the entries to improve." in html


def test_it_starts_one_job_for_the_chosen_entries(
    alice_client, make_entry, sync_jobs, django_capture_on_commit_callbacks
):
    chosen, left = make_entry(**DEPLOY_ENTRY), make_entry("Led the retro", body="We agreed three changes.")
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("assist_improve"), {"entry": [chosen.pk]})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("job_detail", args=[job.pk])
    assert job.params == {"entry_ids": [chosen.pk]} and job.next_url == reverse("assist_review")
    job.refresh_from_db()
    assert job.status == "succeeded" and not Suggestion.objects.filter(entry=left).exists()


def test_it_refuses_an_empty_choice_on_the_page(alice_client, make_entry):
    make_entry("One")
    response = alice_client.post(reverse("assist_improve"), {})
    assert (
        response.status_code == 400 and "Choose at least one entry to improve." in response.content.decode()
    )


def test_it_ignores_entries_of_another_workspace_in_a_choice(alice_client, make_entry, charlie, other_tenant):
    theirs = make_entry("Charlie's work", owner=charlie, workspace=other_tenant)
    response = alice_client.post(reverse("assist_improve"), {"entry": [theirs.pk]})
    assert response.status_code == 400 and not Job.objects.exists()


# ------------------------------------------------------------------ the queue


@pytest.fixture
def queue(make_entry, improve):
    entries = [
        make_entry(**DEPLOY_ENTRY),
        make_entry("fixed the checkout bug", body="Checkout failed for 3 users. I fixed the retry."),
        make_entry("i led the retro", body="Deploys kept failing. I led the retro. We now ship daily."),
    ]
    job, _plan = improve(*entries)
    return job, list(Suggestion.objects.filter(job=job).order_by("pk"))


def test_it_walks_the_queue_one_suggestion_at_a_time(alice_client, queue):
    job, suggestions = queue
    page = alice_client.get(reverse("assist_review")).content.decode()
    assert "Suggestion 1 of 3" in page and f'data-queue-suggestion="{suggestions[0].pk}"' in page
    assert "data-review-queue" in page and "js/assist.js" in page

    data = {"origin": "queue", "skip": "", "decision_title": "accept"}
    response = decide(alice_client, suggestions[0], data, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and f'data-queue-suggestion="{suggestions[1].pk}"' in html
    assert "Suggestion 1 of 2" in html and "hx-swap-oob" in html and "Applied 1 change" in html

    skip = alice_client.get(
        reverse("assist_review"), {"skip": str(suggestions[1].pk), "skipped": "1"}, **HTMX
    )
    html = skip.content.decode()
    assert f'data-queue-suggestion="{suggestions[2].pk}"' in html and "1 skipped" in html
    assert "Skipped; it stays in the queue for later." in html

    data = {"origin": "queue", "skip": str(suggestions[1].pk), "action": "reject"}
    html = decide(alice_client, suggestions[2], data, **HTMX).content.decode()
    assert "Only skipped suggestions are left" in html and "Suggestion rejected" in html
    statuses = [s.status for s in Suggestion.objects.filter(job=job).order_by("pk")]
    assert statuses == ["partially_accepted", "pending", "rejected"]


def test_it_filters_the_queue_by_job_and_ends_with_nothing_left(alice_client, queue, alice):
    job, suggestions = queue
    for suggestion in suggestions:
        services.suggestion_reject(suggestion=suggestion, actor=alice)
    page = alice_client.get(reverse("assist_review"), {"job": job.pk}).content.decode()
    assert "Nothing left to review" in page and "Improve entries" in page


# ----------------------------------------------------------------------- voice


def test_it_saves_voice_settings_and_previews_the_prompt(alice_client, entry, tenant, alice):
    page = alice_client.get(reverse("assist_voice")).content.decode()
    assert "Shown for your latest entry." in page and "I migrated the deploy scripts" in page
    assert "Plain and direct" in page and "without AI" in page
    preview = alice_client.post(
        reverse("assist_voice_preview"),
        {"tone": "formal", "length": "short", "person": "third", "instructions": "British spelling"},
        **HTMX,
    ).content.decode()
    assert "Formal: complete sentences" in preview and "British spelling" in preview
    assert not alice.voicesettings_set.exists() if hasattr(alice, "voicesettings_set") else True
    response = alice_client.post(
        reverse("assist_voice"),
        {"tone": "formal", "length": "short", "person": "third", "instructions": "British spelling",
         "allow_confidential_external": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    page = alice_client.get(response["Location"]).content.decode()
    assert "Voice settings saved." in page and "British spelling" in page
    from apps.assist.selectors import voice_settings_get

    assert voice_settings_get(tenant=tenant, user=alice).allow_confidential_external is True


def test_it_keeps_what_was_typed_when_voice_settings_are_refused(alice_client):
    response = alice_client.post(
        reverse("assist_voice"),
        {"tone": "shouty", "length": "short", "person": "first", "instructions": "Keep me"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Select a valid choice" in html and "Keep me" in html


def test_it_previews_with_an_example_when_there_are_no_entries(alice_client):
    page = alice_client.get(reverse("assist_voice")).content.decode()
    assert "Shown for an example entry" in page and "Deploy scripts" in page
