"""Improve jobs end to end: the builtin for free, an external model (the loopback server) paid through a
hold, a retry that skips what was done and charges nothing twice, cancellation between entries, refusals
before anything is sent, and the privacy rule for confidential entries (read from the server's log)."""

import pytest
from django.db.models import Sum

from apps.assist import services
from apps.assist.models import Suggestion
from apps.billing import services as billing_services
from apps.billing.errors import InsufficientFunds
from apps.billing.models import LedgerEntry, UsageEvent
from apps.billing.selectors import reconcile_problems
from apps.core.jobs import job_retry
from apps.core.models import Job
from apps.llm.models import LLMRequest
from tests.assist.conftest import DEPLOY_ENTRY, model_draft

pytestmark = pytest.mark.django_db


def charged(tenant) -> int:
    return -(
        LedgerEntry.objects.filter(account__tenant=tenant)
        .exclude(kind="topup")
        .aggregate(s=Sum("amount_micros"))["s"]
        or 0
    )


def sent_texts(server) -> str:
    return "\n".join(
        message["content"] for request in server.chat_requests for message in request["body"]["messages"]
    )


def test_it_improves_an_entry_for_free_with_the_builtin(make_entry, improve, tenant):
    entry = make_entry(**DEPLOY_ENTRY)
    job, plan = improve(entry)
    assert plan.estimate_micros == 0 and plan.drafted_without_ai
    assert job.status == "succeeded" and job.kind == "assist.improve" and job.cost_micros == 0
    suggestion = Suggestion.objects.get()
    assert job.summary["suggestion_ids"] == [suggestion.pk]
    assert job.summary["lines"] == ["1 suggestion ready for review."]
    assert suggestion.job == job and suggestion.drafted_without_ai
    assert not LedgerEntry.objects.exists() and not UsageEvent.objects.exists()


def test_it_improves_many_entries_in_one_job(make_entry, improve):
    entries = [make_entry(**DEPLOY_ENTRY), make_entry("Fixed the flaky test"), make_entry("Led the retro")]
    job, _plan = improve(*entries)
    assert job.status == "succeeded" and job.progress_done == job.progress_total == 3
    assert Suggestion.objects.filter(job=job).count() == 3
    assert job.summary["lines"] == ["1 suggestion ready for review."]  # the other two need no change


def test_it_pays_an_external_model_through_a_hold(make_entry, improve, external_model, fund, tenant):
    fund(tenant, 5_000_000)
    external_model.answer(model_draft(), usage=(300, 80))
    entry = make_entry(**DEPLOY_ENTRY)
    job, plan = improve(entry)
    assert plan.estimate_micros > 0 and job.estimate_micros == plan.estimate_micros
    cost = 300 * 3 + 80 * 15 + 100  # the any-model prices: tokens in, tokens out, the call
    assert job.status == "succeeded" and job.cost_micros == cost
    suggestion = Suggestion.objects.get()
    assert (suggestion.provider, suggestion.model, suggestion.cost_micros) == ("openai", "local-model", cost)
    assert not suggestion.drafted_without_ai and suggestion.usage_event_id == UsageEvent.objects.get().pk
    assert charged(tenant) == cost
    assert len(external_model.chat_requests) == 1
    assert "Deploy time went from 40 to 12 minutes." in sent_texts(external_model)
    assert reconcile_problems()[1] == []


def test_it_retries_only_what_failed_and_never_charges_twice(
    make_entry, improve, external_model, fund, tenant, django_capture_on_commit_callbacks
):
    fund(tenant, 5_000_000)
    first, second = (
        make_entry(**DEPLOY_ENTRY),
        make_entry("Led the incident review", body="We had an outage."),
    )
    external_model.answer(model_draft(), usage=(300, 80))
    external_model.reply(500, times=None)
    job, _plan = improve(first, second)
    assert job.status == "failed"
    assert "Improved 1 of 2 entries." in job.error and "Led the incident review" in job.error
    assert "entries already improved are skipped" in job.error
    assert list(Suggestion.objects.values_list("entry", flat=True)) == [first.pk]
    paid = charged(tenant)
    assert paid == 2200
    requests_before = len(external_model.chat_requests)

    external_model.reset()
    external_model.answer(model_draft(title="Led the incident review"), usage=(200, 40))
    with django_capture_on_commit_callbacks(execute=True):
        job_retry(job=job, user=None)
    job.refresh_from_db()
    assert job.status == "succeeded" and job.attempts == 2
    assert requests_before >= 1 and len(external_model.chat_requests) == 1  # only the second entry was sent
    assert "incident" in sent_texts(external_model) and "deploy scripts" not in sent_texts(external_model)
    assert Suggestion.objects.filter(job=job).count() == 2
    assert charged(tenant) == paid + 200 * 3 + 40 * 15 + 100
    assert job.cost_micros == charged(tenant)
    assert sorted(job.summary["suggestion_ids"]) == sorted(Suggestion.objects.values_list("pk", flat=True))
    assert reconcile_problems()[1] == []


def _run_queued(job):
    """Run the job's task as the worker would (the retry queued it after commit)."""
    from apps.assist.tasks import improve_entries

    improve_entries(job.pk, **job.params)


def test_it_runs_a_job_delivered_twice_once(make_entry, improve, external_model, fund, tenant):
    fund(tenant, 5_000_000)
    external_model.answer(model_draft(), usage=(300, 80))
    job, _plan = improve(make_entry(**DEPLOY_ENTRY))
    _run_queued(job)  # a second delivery of the same task
    assert len(external_model.chat_requests) == 1 and Suggestion.objects.count() == 1
    assert charged(tenant) == 2200


def test_it_stops_between_entries_when_cancelled(
    make_entry, external_model, fund, tenant, alice, monkeypatch
):
    fund(tenant, 5_000_000)
    entries = [make_entry(**DEPLOY_ENTRY), make_entry("Second", body="Wrote docs."), make_entry("Third")]
    external_model.answer(model_draft(), usage=(300, 80), times=None)
    job, _plan = services.improve_start(tenant=tenant, user=alice, entries=entries)  # queued, not yet run

    from apps.core.jobs import job_cancel

    real = services.suggestion_create_for_entry

    def then_cancel(**kwargs):
        made = real(**kwargs)
        job_cancel(job=Job.objects.get(pk=kwargs["job"].pk), user=alice)  # the person presses Cancel
        return made

    monkeypatch.setattr(services, "suggestion_create_for_entry", then_cancel)
    _run_queued(job)
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert Suggestion.objects.count() == 1 and len(external_model.chat_requests) == 1
    assert charged(tenant) == 2200


def test_it_refuses_work_the_reserve_cannot_cover_before_sending_anything(
    make_entry, external_model, tenant, alice
):
    entry = make_entry(**DEPLOY_ENTRY)
    with pytest.raises(InsufficientFunds) as refused:
        services.improve_start(tenant=tenant, user=alice, entries=[entry])
    assert refused.value.status_code == 402
    assert refused.value.extra["needed_micros"] > 0 and refused.value.extra["available_micros"] == 0
    assert refused.value.extra["topup_url"] == "/billing/"
    assert "nothing was sent or charged" in refused.value.message
    assert not Job.objects.exists() and external_model.chat_requests == []


def test_it_stops_when_the_reserve_runs_out_mid_job(make_entry, external_model, fund, tenant, alice):
    entries = [make_entry(**DEPLOY_ENTRY), make_entry("Second", body="Wrote the runbook.")]
    external_model.answer(model_draft(), usage=(300, 80), times=None)
    first = services.improve_plan(tenant=tenant, user=alice, entries=entries[:1]).estimate_micros
    second = services.improve_plan(tenant=tenant, user=alice, entries=entries[1:]).estimate_micros
    fund(tenant, first + second)
    job, plan = services.improve_start(tenant=tenant, user=alice, entries=entries)  # queued, not yet run
    assert plan.estimate_micros == first + second
    # Other work holds money meanwhile: what is left pays for the first entry's hold, not the second's.
    billing_services.hold_place(tenant=tenant, amount_micros=second, idempotency_key="other-work:hold")
    assert first - 2200 < second
    _run_queued(job)
    job.refresh_from_db()
    assert job.status == "failed" and "Improved 1 of 2 entries. Then the reserve ran out" in job.error
    assert "Top up" in job.error
    assert Suggestion.objects.count() == 1 and len(external_model.chat_requests) == 1
    assert charged(tenant) == 2200
    assert reconcile_problems()[1] == []


def test_it_never_sends_a_confidential_entry_unless_allowed(
    make_entry, improve, external_model, fund, tenant
):
    fund(tenant, 5_000_000)
    secret = make_entry(
        "Negotiated the Initech acquisition", body="Agreed the price of $40M with Initech.", confidential=True
    )
    plain = make_entry(**DEPLOY_ENTRY)
    external_model.answer(model_draft(), usage=(300, 80), times=None)
    job, plan = improve(secret, plain)
    assert plan.kept_local == 1 and not plan.drafted_without_ai
    assert job.status == "succeeded"
    assert "Initech" not in sent_texts(external_model) and "$40M" not in sent_texts(external_model)
    assert len(external_model.chat_requests) == 1
    local = Suggestion.objects.get(entry=secret)
    assert local.drafted_without_ai and local.provider == "builtin" and "confidential" in local.note
    assert local.cost_micros == 0
    assert not LLMRequest.objects.filter(idempotency_key__endswith=f"entry-{secret.pk}").exists()


def test_it_sends_a_confidential_entry_when_the_person_allows_it(
    make_entry, improve, external_model, fund, tenant, alice
):
    fund(tenant, 5_000_000)
    services.voice_settings_update(
        tenant=tenant,
        user=alice,
        tone="plain",
        length="medium",
        person="first",
        allow_confidential_external=True,
    )
    secret = make_entry("Negotiated the Initech deal", body="Agreed terms with Initech.", confidential=True)
    external_model.answer(model_draft(title="Negotiated the Initech deal"), usage=(300, 80))
    job, plan = improve(secret)
    assert plan.kept_local == 0 and job.status == "succeeded"
    assert "Initech" in sent_texts(external_model)
    assert not Suggestion.objects.get().drafted_without_ai


def test_it_sends_the_voice_with_every_prompt(make_entry, improve, external_model, fund, tenant, alice):
    fund(tenant, 5_000_000)
    services.voice_settings_update(
        tenant=tenant,
        user=alice,
        tone="formal",
        length="short",
        person="third",
        instructions="Use British spelling.",
    )
    external_model.answer(model_draft(), usage=(300, 80))
    improve(make_entry(**DEPLOY_ENTRY))
    system = external_model.chat_requests[0]["body"]["messages"][0]["content"]
    assert "Formal: complete sentences" in system and "Short: a title under 80 characters" in system
    assert "never “I” or “we”" in system and "Use British spelling." in system
    assert "Never add a number, percentage, money amount, date, person, company" in system
    assert external_model.chat_requests[0]["body"]["max_tokens"] == 600  # the short length


def test_it_fails_the_job_clearly_when_the_model_keeps_failing(
    make_entry, improve, external_model, fund, tenant
):
    fund(tenant, 5_000_000)
    external_model.reply(500, times=None)
    job, _plan = improve(make_entry(**DEPLOY_ENTRY))
    assert (
        job.status == "failed" and "could not be improved" in job.error and "Nothing was charged" in job.error
    )
    assert charged(tenant) == 0 and not Suggestion.objects.exists()
    assert reconcile_problems()[1] == []


def test_it_flags_a_model_answer_that_invents_and_keeps_it_out_of_the_default(
    make_entry, improve, external_model, fund, tenant
):
    fund(tenant, 5_000_000)
    external_model.answer(
        model_draft(impact="Saved $2M for Globex in Q3 2023.", metric_value=70, metric_unit="%")
    )
    improve(make_entry(**DEPLOY_ENTRY))
    suggestion = Suggestion.objects.get()
    flags = {item["name"]: [flag["text"] for flag in item["flags"]] for item in suggestion.fields}
    assert flags["impact"] == ["$2M", "Globex", "Q3 2023"]
    assert flags["metric_value"] == ["70"] and flags["metric_unit"] == []
