"""Reports written by a model: the OpenAI-compatible server on loopback scripts the answers (a good
report, a citation of another workspace's entry, a number its sources do not have, an answer that ignores
the JSON format, and entries too many for one request, which forces map-then-reduce)."""

import json

import pytest
from django.urls import reverse

from apps.billing.models import UsageEvent
from apps.reporting import generate, services
from apps.reporting.citations import REASON_BAD_CITATION, REASON_NOT_IN_SOURCES
from apps.reporting.models import Report
from apps.reporting.selectors import report_api
from tests.reporting.conftest import SECRET_TITLE, entry, sections

pytestmark = pytest.mark.usefixtures("funded")


def _prompt(request) -> str:
    return "\n".join(message["content"] for message in request["body"]["messages"])


def _data(report) -> dict:
    report.refresh_from_db()
    assert report.status == Report.Status.READY, report.error
    return report_api(report=report)


def test_it_writes_a_good_report_with_the_model_and_charges_what_it_used(
    alice_client, log, model, write_report
):
    model.answer(
        sections(
            ("Projects", [("Cut deploy time from 40 to 8 minutes on Checkout", [log["deploys"].pk])]),
            ("Collaboration and mentoring", [("Mentored two new engineers", [log["mentor"].pk])]),
        ),
        usage=(900, 120),
    )
    response, report = write_report(
        {"kind": "brag_document", "audience": "shareable"}, as_client=alice_client
    )
    assert response.status_code == 202
    assert response.json()["estimate_micros"] > 0
    data = _data(report)
    assert [s["title"] for s in data["sections"]][:2] == ["Projects", "Collaboration and mentoring"]
    assert data["sections"][0]["bullets"][0] == {
        "text": "Cut deploy time from 40 to 8 minutes on Checkout",
        "citations": [log["deploys"].pk],
        "flags": [],
    }
    usage = UsageEvent.objects.get(tenant=report.tenant)
    assert report.cost_micros == usage.cost_micros == data["cost_micros"] > 0
    assert not report.drafted_without_ai and report.model == "local-model"
    assert (report.prompt_tokens, report.completion_tokens) == (900, 120)
    assert report.cost_micros <= report.estimate_micros
    [request] = model.chat_requests
    prompt = _prompt(request)
    assert f"[E{log['deploys'].pk}]" in prompt and "Cut deploy time from 40 to 8 minutes" in prompt
    assert SECRET_TITLE not in prompt and "4.7M" not in prompt  # shareable: never selected
    page = alice_client.get(reverse("reporting_detail", args=[report.pk])).content.decode()
    assert "Drafted without AI" not in page and "local-model" in page


def test_it_removes_a_citation_of_another_workspaces_entry_and_flags_the_bullet(
    alice_client, log, model, write_report, other_tenant, charlie
):
    outsider = entry(other_tenant, charlie, "Charlie's secret launch")
    model.answer(
        sections(
            (
                "Projects",
                [
                    ("Cut deploy time from 40 to 8 minutes", [log["deploys"].pk, outsider.pk]),
                    ("Launched something big", [outsider.pk]),
                ],
            ),
        )
    )
    _response, report = write_report({"kind": "brag_document"}, as_client=alice_client)
    bullets = _data(report)["sections"][0]["bullets"]
    assert bullets[0]["citations"] == [log["deploys"].pk]
    assert {"text": f"E{outsider.pk}", "reason": REASON_BAD_CITATION} in bullets[0]["flags"]
    assert bullets[1]["citations"] == [] and any(f["reason"] == "cites no entry" for f in bullets[1]["flags"])
    page = alice_client.get(reverse("reporting_detail", args=[report.pk])).content.decode()
    assert reverse("worklog_entry_detail", args=[outsider.pk]) not in page  # never a link
    assert "Charlie's secret launch" not in page


def test_it_flags_a_number_the_cited_entries_do_not_have_and_the_fix_removes_it(
    alice_client, log, model, write_report
):
    model.answer(sections(("Projects", [("Cut deploy time by 75% for 300 developers", [log["deploys"].pk])])))
    _response, report = write_report({"kind": "brag_document"}, as_client=alice_client)
    item = _data(report)["sections"][0]["bullets"][0]
    assert {"text": "75%", "reason": REASON_NOT_IN_SOURCES} in item["flags"]
    assert {"text": "300", "reason": REASON_NOT_IN_SOURCES} in item["flags"]
    page = alice_client.get(reverse("reporting_detail", args=[report.pk])).content.decode()
    assert '<mark class="ar-claim" title="Not in the cited entries">75%</mark>' in page
    assert reverse("worklog_entry_edit", args=[log["deploys"].pk]) in page  # open the entry to add it
    url = reverse("reporting_claim_remove", args=[report.pk, "projects", 0])
    assert alice_client.post(url, {"claim": "75%"}).status_code == 302
    item = _data(report)["sections"][0]["bullets"][0]
    assert "75%" not in item["text"] and report.version == 2
    assert [f["text"] for f in item["flags"]] == ["300"]


def test_it_drafts_without_ai_when_the_model_ignores_the_json_format(alice_client, log, model, write_report):
    model.answer_text("Sure! Here is a lovely brag document about your year.")
    model.answer_text("Of course. Your year was great.")  # the gateway's one repair round
    _response, report = write_report({"kind": "brag_document"}, as_client=alice_client)
    data = _data(report)
    assert report.drafted_without_ai and "Drafted without AI" in data["markdown"]
    assert any("not in the required format" in note for note in report.generation_notes)
    assert data["sections"][0]["bullets"] and all(
        item["citations"] for s in data["sections"] for item in s["bullets"]
    )
    assert report.cost_micros == 0 and not UsageEvent.objects.filter(tenant=report.tenant).exists()  # voided
    assert len(model.chat_requests) == 2


def test_it_summarises_each_group_first_when_the_entries_do_not_fit_then_combines(
    alice_client, log, model, write_report, settings, tenant
):
    settings.REPORT_CONTEXT_TOKENS = 120  # a few entry lines per request
    inputs = services.report_inputs_clean(tenant=tenant, kind="brag_document", audience="shareable")
    the_plan = generate.plan(inputs)
    assert not the_plan.single and the_plan.chunk_count >= 4
    every_id = [e.pk for e in log.values()]
    model.answer(
        sections(("Drafts", [("Shipped work", every_id)])), usage=(60, 20), times=the_plan.chunk_count
    )
    final = sections(
        ("Projects", [("Shipped work across Checkout and Billing", [log["deploys"].pk, log["old_job"].pk])])
    )
    model.answer(final, usage=(80, 30), times=None)  # any combining round, and the final one
    _response, report = write_report(
        {"kind": "brag_document", "audience": "shareable"}, as_client=alice_client
    )
    data = _data(report)
    prompts = [_prompt(request) for request in model.chat_requests]
    maps = [p for p in prompts if "These are" in p]
    assert len(maps) == the_plan.chunk_count
    assert any("from Acme / Checkout" in p for p in maps) and any("from Globex / Billing" in p for p in maps)
    assert "Below are draft bullets" in prompts[-1]
    # each map saw only its own group; its drafts keep only the citations of entries it was given
    assert all(sum(f"[E{pk}]" in p for pk in every_id) <= 4 for p in maps)
    assert data["sections"][0]["bullets"][0]["citations"] == [log["deploys"].pk, log["old_job"].pk]
    assert report.job.progress_total == the_plan.chunk_count + 1
    assert report.cost_micros == sum(
        UsageEvent.objects.filter(tenant=report.tenant).values_list("cost_micros", flat=True)
    )


def test_it_refuses_under_block_with_a_top_up_link_before_any_request(
    alice_client, log, model, write_report, tenant
):
    from apps.billing import services as billing

    billing.reserve_deduct(tenant=tenant, amount_micros=5_000_000, idempotency_key="test:spend-it-all")
    response, report = write_report({"kind": "self_review"}, as_client=alice_client)
    assert response.status_code == 402
    body = response.json()
    assert body["extra"]["needed_micros"] > 0 and body["extra"]["available_micros"] == 0
    assert body["extra"]["topup_url"] == reverse("billing_home")
    assert report is None and not Report.objects.exists() and model.chat_requests == []


def test_it_keeps_confidential_entries_out_of_the_model_unless_allowed(
    alice_client, log, model, write_report
):
    model.answer(sections(("Projects", [("Cut deploy time", [log["deploys"].pk])])), times=2)
    _response, report = write_report({"kind": "brag_document"}, as_client=alice_client)
    assert SECRET_TITLE not in _prompt(model.chat_requests[0])
    assert log["secret"].pk in _data(report)["unused_entry_ids"]
    assert any("confidential entries were not sent" in note for note in report.generation_notes)
    payload = {"kind": "brag_document", "send_confidential": True}
    _response, report = write_report(payload, as_client=alice_client)
    assert SECRET_TITLE in _prompt(model.chat_requests[1])


def test_it_rewrites_one_section_with_the_model(
    alice_client, log, model, write_report, django_capture_on_commit_callbacks
):
    model.answer(sections(("Projects", [("Fixed the flaky payment tests", [log["flaky"].pk])]),
                          ("What I learned", [("Finished a course", [log["course"].pk])])))  # fmt: skip
    _response, report = write_report({"kind": "brag_document"}, as_client=alice_client)
    model.answer(
        sections(("What I learned", [("Finished a course on distributed systems", [log["course"].pk])]))
    )
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(reverse("reporting_section_regenerate", args=[report.pk, "what_i_learned"]))
    data = _data(report)
    learned = next(s for s in data["sections"] if s["title"] == "What I learned")
    assert learned["bullets"][0]["text"] == "Finished a course on distributed systems"
    assert data["sections"][0]["bullets"][0]["text"] == "Fixed the flaky payment tests"  # the rest kept
    assert report.version == 2
    assert "What I learned" in json.dumps(model.chat_requests[1]["body"])


def test_it_shows_the_estimate_on_the_create_page_and_refuses_what_the_reserve_cannot_pay(
    alice_client, log, model, tenant
):
    from apps.billing import services as billing

    estimate = alice_client.get(reverse("reporting_estimate"), {"kind": "brag_document"}).content.decode()
    assert "Up to <strong>$" in estimate and "local-model" in estimate
    billing.reserve_deduct(tenant=tenant, amount_micros=5_000_000, idempotency_key="test:spend-it-all")
    estimate = alice_client.get(reverse("reporting_estimate"), {"kind": "brag_document"}).content.decode()
    assert 'href="/billing/#top-up"' in estimate
    response = alice_client.post(reverse("reporting_create"), {"kind": "brag_document", "title": "Mine"})
    html = response.content.decode()
    assert response.status_code == 402 and "Top up" in html and 'value="Mine"' in html
    assert not Report.objects.exists() and model.chat_requests == []
