"""The one path of every model call, against a real OpenAI-compatible server on loopback."""

import json
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import Tenant
from apps.billing import services
from apps.billing.errors import InsufficientFunds
from apps.billing.models import Hold, LedgerEntry, ReserveAccount, UsageEvent
from apps.llm.errors import ConfidentialNotAllowed, LLMBadAnswer, LLMStepAlreadyRun, LLMUnavailable
from apps.llm.gateway import llm_estimate, llm_provider_info, llm_run
from apps.llm.models import LLMRequest
from apps.llm.tokens import prompt_tokens_estimate
from tests.concurrency import needs_postgres
from tests.llm.conftest import GOOD, MODEL, SCHEMA, make_task

DOLLAR = 1_000_000
# The default card's any-model prices: 3 micros a prompt token, 15 a completion token, 100 a call.
PROMPT, COMPLETION, CALL = 3, 15, 100


def _fund(tenant, micros=DOLLAR):
    services.reserve_credit(tenant=tenant, amount_micros=micros, idempotency_key=f"top-{micros}")


def _balance(tenant) -> int:
    return ReserveAccount.objects.get(tenant=tenant).balance_micros


def _available(tenant) -> int:
    return ReserveAccount.objects.get(tenant=tenant).available_micros


def test_it_holds_calls_and_charges_the_reported_usage(tenant, llm_on):
    _fund(tenant)
    llm_on.answer(GOOD, usage=(120, 30))
    task = make_task()

    estimate = llm_estimate(tenant=tenant, tasks=[task])
    result = llm_run(tenant=tenant, task=task, idempotency_key="manual:1")

    assert result.data == GOOD
    assert (result.provider, result.model, result.drafted_without_ai) == ("openai", MODEL, False)
    assert (result.prompt_tokens, result.completion_tokens, result.usage_estimated) == (120, 30, False)
    cost = 120 * PROMPT + 30 * COMPLETION + CALL
    assert result.cost_micros == cost
    assert _balance(tenant) == DOLLAR - cost and _available(tenant) == DOLLAR - cost

    hold = Hold.objects.get(tenant=tenant)
    assert hold.idempotency_key == "manual:1:hold" and hold.status == Hold.Status.CAPTURED
    assert hold.amount_micros == estimate  # the estimate shown is what is held
    assert hold.captured_micros == cost < estimate
    event = UsageEvent.objects.get(pk=result.usage_event_id)
    assert (event.idempotency_key, event.cost_micros, event.estimated) == ("manual:1", cost, False)

    log = LLMRequest.objects.get()
    assert (log.outcome, log.prompt_tokens, log.completion_tokens, log.cost_micros) == ("ok", 120, 30, cost)
    assert (log.held_micros, log.attempts, log.usage_event_id) == (estimate, 1, event.pk)
    assert log.feature == "test.summary" and log.provider == "openai" and log.model == MODEL

    (request,) = llm_on.chat_requests
    body = request["body"]
    assert request["headers"]["authorization"] == "Bearer sk-test-local"
    assert body["model"] == MODEL and body["max_tokens"] == 200
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"] == SCHEMA
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert json.dumps(SCHEMA, sort_keys=True, separators=(",", ":")) in body["messages"][0]["content"]
    assert body["messages"][1]["content"] == task.prompt


@needs_postgres[0]
@needs_postgres[1]
@pytest.mark.django_db(transaction=True)
def test_it_meters_a_call_in_two_statements(llm_on):
    """Outside any transaction, as a job runs it: the hold (one statement that commits on its own), then
    the charge with the log row (one more). The first call of a process reads the prices first; later
    ones price with what it read, and the hold's statement checks it. bench/llm.py times it."""
    tenant = Tenant.objects.create(name="Counted", slug="counted")
    services.rate_card_install_default()
    _fund(tenant)
    llm_on.answer(GOOD, usage=(120, 30), times=None)
    with CaptureQueriesContext(connection) as first:
        llm_run(tenant=tenant, task=make_task(), idempotency_key="first")
    with CaptureQueriesContext(connection) as counted:
        result = llm_run(tenant=tenant, task=make_task(), idempotency_key="counted")
    assert len(first) == 3
    statements = [query["sql"].split()[:2] for query in counted.captured_queries]
    assert statements == [["WITH", "checked"], ["WITH", "fresh"]]
    assert "BEGIN" not in str(first.captured_queries)
    log = LLMRequest.objects.get(idempotency_key="counted")
    assert (log.usage_event_id, log.cost_micros) == (result.usage_event_id, result.cost_micros)
    assert Hold.objects.get(idempotency_key="counted:hold").status == Hold.Status.CAPTURED


def test_it_keeps_nothing_and_records_the_refusal_when_the_answer_costs_more_than_the_reserve(tenant, llm_on):
    from apps.core.models import Event

    task = make_task()
    held = llm_estimate(tenant=tenant, tasks=[task])
    _fund(tenant, held)  # covers the hold, not a penny more
    llm_on.answer(GOOD, usage=(held, 30))  # the server reports far more tokens than the hold allowed for

    with pytest.raises(InsufficientFunds, match=r"cost more than the .* held for it"):
        llm_run(tenant=tenant, task=task, idempotency_key="over")

    assert _balance(tenant) == _available(tenant) == held
    assert Hold.objects.get().status == Hold.Status.VOIDED and not UsageEvent.objects.exists()
    log = LLMRequest.objects.get()
    assert (log.outcome, log.error_kind) == ("refused", "above_hold")
    (refused,) = Event.objects.filter(kind="billing.reserve.refused")
    assert refused.data["needed_micros"] > 0


def test_it_never_keeps_the_prompt_or_the_answer_in_the_log(tenant, llm_on):
    _fund(tenant)
    llm_on.answer(GOOD)
    llm_run(tenant=tenant, task=make_task(prompt="Secret merger with Initech"), idempotency_key="k")
    row = LLMRequest.objects.values().get()
    stored = json.dumps(row, default=str)
    assert "Initech" not in stored and GOOD["title"] not in stored


def test_it_waits_as_long_as_retry_after_says_then_succeeds(tenant, llm_on):
    _fund(tenant)
    llm_on.reply(429, headers={"Retry-After": "1"})
    llm_on.answer(GOOD, usage=(100, 20))

    started = time.monotonic()
    result = llm_run(tenant=tenant, task=make_task(), idempotency_key="k")
    waited = time.monotonic() - started

    assert result.data == GOOD
    assert waited >= 1.0
    assert len(llm_on.chat_requests) == 2
    assert result.cost_micros == 100 * PROMPT + 20 * COMPLETION + CALL  # one answer, charged once
    assert LLMRequest.objects.get().attempts == 2


def test_it_gives_up_on_a_server_error_and_charges_nothing(tenant, llm_on):
    _fund(tenant)
    llm_on.reply(500, times=None)

    with pytest.raises(LLMUnavailable) as raised:
        llm_run(tenant=tenant, task=make_task(), idempotency_key="k")

    assert len(llm_on.chat_requests) == 3  # the first try and LLM_MAX_RETRIES=2 more, no SDK retries
    assert "kept failing (HTTP 500), 3 tries" in raised.value.message
    assert "Nothing was charged; the $" in raised.value.message
    assert raised.value.status_code == 503
    assert _balance(tenant) == DOLLAR and _available(tenant) == DOLLAR
    assert Hold.objects.get().status == Hold.Status.VOIDED
    assert not UsageEvent.objects.exists()
    log = LLMRequest.objects.get()
    assert (log.outcome, log.error_kind, log.attempts, log.cost_micros) == ("failed", "server_error", 3, 0)


def test_it_stops_retrying_when_the_time_budget_is_spent(tenant, llm_on, settings):
    _fund(tenant)
    settings.LLM_MAX_RETRIES = 5
    settings.LLM_RETRY_BUDGET_SECONDS = 1.5
    settings.LLM_RETRY_AFTER_MAX_SECONDS = 1
    llm_on.reply(503, headers={"Retry-After": "1"}, times=None)

    started = time.monotonic()
    with pytest.raises(LLMUnavailable):
        llm_run(tenant=tenant, task=make_task(), idempotency_key="k")

    assert time.monotonic() - started < 2.5
    assert len(llm_on.chat_requests) == 2  # the wait for a third try would end past the budget
    assert _balance(tenant) == DOLLAR


def test_it_times_out_and_charges_nothing(tenant, llm_on, settings):
    _fund(tenant)
    settings.LLM_TIMEOUT_SECONDS = 0.3
    settings.LLM_MAX_RETRIES = 1
    llm_on.answer(GOOD, delay=1.0, times=None)

    with pytest.raises(LLMUnavailable) as raised:
        llm_run(tenant=tenant, task=make_task(), idempotency_key="k")

    assert "did not answer within 0.3 seconds (2 tries)" in raised.value.message
    assert len(llm_on.chat_requests) == 2
    assert _balance(tenant) == DOLLAR and _available(tenant) == DOLLAR
    log = LLMRequest.objects.get()
    assert (log.outcome, log.error_kind) == ("timeout", "timeout")


def test_it_sends_a_malformed_answer_back_once_and_charges_both_calls(tenant, llm_on):
    _fund(tenant)
    llm_on.answer_text('Here is your JSON: {"title": "Cut the build"', usage=(100, 10))
    llm_on.answer(GOOD, usage=(150, 20))

    result = llm_run(tenant=tenant, task=make_task(), idempotency_key="k")

    assert result.data == GOOD
    _first, repair = llm_on.chat_requests
    assert [m["role"] for m in repair["body"]["messages"]] == ["system", "user", "assistant", "user"]
    assert repair["body"]["messages"][2]["content"].startswith("Here is your JSON")
    assert "not valid: it is not JSON" in repair["body"]["messages"][3]["content"]
    assert result.cost_micros == 250 * PROMPT + 30 * COMPLETION + 2 * CALL
    assert _balance(tenant) == DOLLAR - result.cost_micros
    assert LLMRequest.objects.get().attempts == 2


def test_it_repairs_an_answer_that_breaks_the_schema(tenant, llm_on):
    _fund(tenant)
    llm_on.answer({"title": "Cut the build"}, usage=(100, 10))  # no skills
    llm_on.answer(GOOD, usage=(150, 20))

    assert llm_run(tenant=tenant, task=make_task(), idempotency_key="k").data == GOOD
    repair_text = llm_on.chat_requests[1]["body"]["messages"][3]["content"]
    assert "'skills' is a required property" in repair_text


def test_it_fails_clearly_and_charges_nothing_after_two_bad_answers(tenant, llm_on):
    _fund(tenant)
    llm_on.answer_text("I cannot do that.", usage=(100, 5))
    llm_on.answer_text("Still no JSON, sorry.", usage=(180, 6))
    estimate = llm_estimate(tenant=tenant, tasks=[make_task()])

    with pytest.raises(LLMBadAnswer) as raised:
        llm_run(tenant=tenant, task=make_task(), idempotency_key="k")

    message = raised.value.message
    assert message.startswith("The model's answer was not in the expected format")
    assert f"Nothing was charged; the ${estimate / DOLLAR:.6f}".rstrip("0") in message
    assert len(llm_on.chat_requests) == 2
    assert _balance(tenant) == DOLLAR and not UsageEvent.objects.exists()
    assert not LedgerEntry.objects.exclude(kind="topup").exists()
    log = LLMRequest.objects.get()
    assert (log.outcome, log.prompt_tokens, log.completion_tokens, log.cost_micros) == (
        "bad_format",
        280,
        11,
        0,
    )


def test_it_estimates_and_flags_usage_the_server_did_not_report(tenant, llm_on):
    _fund(tenant)
    llm_on.answer(GOOD, usage=None)
    task = make_task()

    result = llm_run(tenant=tenant, task=task, idempotency_key="k")

    prompt = prompt_tokens_estimate(task.messages(), MODEL)
    completion = -(-len(json.dumps(GOOD)) // 4)  # ceil(characters / 4)
    assert (result.prompt_tokens, result.completion_tokens, result.usage_estimated) == (
        prompt,
        completion,
        True,
    )
    event = UsageEvent.objects.get()
    assert event.estimated is True
    assert event.cost_micros == prompt * PROMPT + completion * COMPLETION + CALL
    assert LLMRequest.objects.get().usage_estimated is True


def test_it_estimates_prompt_tokens_when_the_server_reports_zero(tenant, llm_on):
    _fund(tenant)
    llm_on.answer(GOOD, usage=(0, 25))  # Ollama on a prompt-cache hit
    task = make_task()

    result = llm_run(tenant=tenant, task=task, idempotency_key="k")

    assert result.prompt_tokens == prompt_tokens_estimate(task.messages(), MODEL) > 0
    assert result.completion_tokens == 25
    assert result.usage_estimated and UsageEvent.objects.get().estimated


def test_it_never_sends_a_confidential_task_to_an_external_model(tenant, llm_on):
    _fund(tenant)
    llm_on.answer(GOOD, times=None)

    with pytest.raises(ConfidentialNotAllowed) as raised:
        llm_run(
            tenant=tenant,
            task=make_task(prompt="Confidential: the Initech deal", contains_confidential=True),
            idempotency_key="k",
        )

    assert "never sent to an external AI model" in raised.value.message
    assert raised.value.status_code == 403
    assert llm_on.requests == []  # proven from the server's side
    assert not Hold.objects.exists() and _balance(tenant) == DOLLAR
    assert LLMRequest.objects.get().error_kind == "confidential"


def test_it_sends_confidential_text_when_the_person_allowed_it(tenant, llm_on):
    _fund(tenant)
    llm_on.answer(GOOD)
    task = make_task(
        prompt="Confidential: the Initech deal", contains_confidential=True, confidential_allowed=True
    )

    llm_run(tenant=tenant, task=task, idempotency_key="k")

    assert "Initech" in llm_on.chat_requests[0]["body"]["messages"][1]["content"]


def test_it_answers_with_builtin_for_free_and_sends_nothing(tenant, builtin_on):
    _fund(tenant)
    task = make_task(contains_confidential=True)  # builtin may always read confidential text

    assert llm_estimate(tenant=tenant, tasks=[task]) == 0
    result = llm_run(tenant=tenant, task=task, idempotency_key="k")

    assert result.data == {"title": "Build time cut", "skills": []}
    assert result.drafted_without_ai is True
    assert (result.provider, result.model, result.cost_micros, result.usage_event_id) == (
        "builtin",
        "builtin",
        0,
        None,
    )
    assert builtin_on.requests == []
    assert not Hold.objects.exists() and not UsageEvent.objects.exists()
    assert _balance(tenant) == DOLLAR
    log = LLMRequest.objects.get()
    assert (log.provider, log.outcome, log.cost_micros, log.held_micros) == ("builtin", "ok", 0, 0)
    assert llm_provider_info() == {"name": "builtin", "model": "builtin", "external": False}


def test_it_refuses_what_the_reserve_cannot_cover_before_sending(tenant, llm_on):
    _fund(tenant, 1_000)  # far less than the hold
    llm_on.answer(GOOD, times=None)
    task = make_task()
    needed = llm_estimate(tenant=tenant, tasks=[task])

    with pytest.raises(InsufficientFunds) as raised:
        llm_run(tenant=tenant, task=task, idempotency_key="k")

    assert raised.value.status_code == 402
    assert raised.value.extra == {
        "needed_micros": needed,
        "available_micros": 1_000,
        "topup_url": "/billing/",
    }
    assert "Top up to continue" in raised.value.message
    assert llm_on.requests == []
    assert _balance(tenant) == 1_000 and not Hold.objects.exists()
    assert LLMRequest.objects.get().error_kind == "insufficient_funds"


def test_it_holds_and_charges_at_the_new_prices_once_staff_change_them(tenant, llm_on, rate_card):
    from django.utils import timezone

    _fund(tenant)
    llm_on.answer(GOOD, usage=(120, 30), times=None)
    task = make_task()
    llm_run(tenant=tenant, task=task, idempotency_key="before")  # this process now knows the prices
    version = services.rate_card_version_create(
        rate_card=rate_card,
        effective_from=timezone.now(),
        lines=[("llm_prompt_tokens", "", "6"), ("llm_completion_tokens", "", "30"), ("llm_call", "", "200")],
    )

    estimate = llm_estimate(tenant=tenant, tasks=[task])
    result = llm_run(tenant=tenant, task=task, idempotency_key="after")

    assert Hold.objects.get(idempotency_key="after:hold").amount_micros == estimate
    assert result.cost_micros == 120 * 6 + 30 * 30 + 200
    assert UsageEvent.objects.get(pk=result.usage_event_id).rate_version_id == version.pk
    assert len(llm_on.chat_requests) == 2


def test_it_never_runs_or_charges_a_step_twice(tenant, llm_on):
    _fund(tenant)
    llm_on.answer(GOOD, times=None)
    first = llm_run(tenant=tenant, task=make_task(), idempotency_key="job-step")

    with pytest.raises(LLMStepAlreadyRun):
        llm_run(tenant=tenant, task=make_task(), idempotency_key="job-step")

    assert len(llm_on.chat_requests) == 1
    assert UsageEvent.objects.count() == 1
    assert _balance(tenant) == DOLLAR - first.cost_micros


def test_it_falls_back_to_json_object_when_the_server_refuses_a_schema(tenant, llm_on):
    _fund(tenant)
    llm_on.reply(
        400,
        body={
            "error": {"message": "response_format json_schema is not supported", "type": "invalid_request"}
        },
    )
    llm_on.answer(GOOD)
    llm_on.answer(GOOD)

    llm_run(tenant=tenant, task=make_task(), idempotency_key="a")
    llm_run(tenant=tenant, task=make_task(), idempotency_key="b")  # remembered: asked as json_object at once

    formats = [request["body"]["response_format"]["type"] for request in llm_on.chat_requests]
    assert formats == ["json_schema", "json_object", "json_object"]
    assert UsageEvent.objects.count() == 2


def test_it_shows_a_refused_request_as_a_setting_to_fix(tenant, llm_on):
    _fund(tenant)
    llm_on.reply(404, body={"error": {"message": "model 'local-model' not found", "type": "invalid_request"}})

    with pytest.raises(Exception) as raised:
        llm_run(tenant=tenant, task=make_task(), idempotency_key="k")

    assert "refused the request (HTTP 404" in raised.value.message and "LLM_MODEL" in raised.value.message
    assert len(llm_on.chat_requests) == 1  # a 4xx is not retried
    assert _balance(tenant) == DOLLAR


def test_it_retries_a_server_that_cannot_be_reached_then_says_so(tenant, llm_on, settings):
    import socket

    _fund(tenant)
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.LLM_BASE_URL = f"http://127.0.0.1:{port}/v1"

    with pytest.raises(LLMUnavailable) as raised:
        llm_run(tenant=tenant, task=make_task(), idempotency_key="k")

    assert "could not be reached, 3 tries" in raised.value.message
    assert _balance(tenant) == DOLLAR and Hold.objects.get().status == Hold.Status.VOIDED
