"""The model gateway: the one way any feature asks a model for something. It knows no entry.

Public interface (import from here):

    LLMTask(feature, system, prompt, schema, max_output_tokens, builtin, validate=None,
            contains_confidential=False, confidential_allowed=False, schema_name="answer")
    llm_estimate(*, tenant, tasks: Iterable[LLMTask]) -> int          # micros, the most it can cost
    llm_run(*, tenant, task: LLMTask, idempotency_key: str, job: Job | None = None) -> LLMResult
    llm_step_key(job: Job, step: str) -> str                           # "job:<id>:a<attempt>:<step>"
    llm_provider_info() -> {"name", "model", "external"}

A feature writes an `LLMTask`: the system text, the `prompt` (what is sent to an external model), the JSON
schema of the answer, the most output tokens it needs, and `builtin`, a deterministic offline function
that returns an answer of the same shape from the same input (it must not call the network). `validate`
may check or normalise the parsed answer further and raises ValueError on a bad one. The feature marks a
task `contains_confidential` when its prompt carries text the person marked confidential, and
`confidential_allowed` when the person turned sending such text on; it filters confidential text out
itself, and the gateway is the safety net.

The one path of `llm_run` for a metered provider (`openai`):

1. privacy net: an external provider never gets a task with `contains_confidential` unless
   `confidential_allowed` -> ConfidentialNotAllowed (403) before anything is sent or held;
2. estimate: the most the call can cost (tokens.py bounds; the answer and one repair round), priced with
   billing's `usage_estimate` on the meters llm_prompt_tokens, llm_completion_tokens and llm_call, from
   one quote (the prices in force as the call starts), which step 5 charges at too. The quote is the
   prices this process read last (`usage_quote_reused`, no query), checked in step 3;
3. `hold_place` for it, key "<key>:hold", one statement that commits on its own and places the hold only
   if the quote's prices are still in force (else PricesChanged: priced again with a fresh quote). Under
   the `block` policy a call the reserve cannot cover is refused here, before any request:
   InsufficientFunds (402, extra needed_micros, available_micros, topup_url). A key whose hold already
   exists (charged, failed or in flight) -> LLMStepAlreadyRun (409);
4. the request (provider retries, see providers/openai_compat.py), JSON parsed and validated, one repair;
5. `usage_record` with the tokens the server reported (key "<key>"), capturing the hold; tokens it did
   not report (or a zero prompt count, as Ollama gives on a cache hit) are estimated and the usage is
   flagged `estimated`. The request log row and the job's `cost_micros` are written with the charge, in
   its statement (billing.UsageCompanions);
6. on ANY failure, or when the job was cancelled meanwhile, `hold_void`: nothing is charged.

Keys: a job step uses `llm_step_key(job, step)`; llm_run checks that a job's key has that form. The
attempt is in the key, so a retried job (a new attempt) is charged for the work it does again, and a step
run twice within one attempt is never charged twice: its hold key exists, so it is refused (or, racing,
the database's unique keys on holds and usage let only one through).

Builtin (`LLM_PROVIDER=builtin`, the default): `task.builtin()` is run and checked like a model's answer;
free, no network, no hold and no usage (it uses no tokens); `drafted_without_ai=True`.

Every call that got as far as a provider (and every refusal) leaves an LLMRequest row for staff: model,
tokens, cost, latency, attempts and outcome, never the prompt or the answer. The row is written once, with
the outcome (an answered call's with its charge); a call in flight is known by its hold.

Call `llm_run` outside any transaction (a job's work is): the hold must be committed before the request
goes out, or the reserve's row lock would be held for as long as the model takes. Errors a feature may
see, all ApplicationErrors with a message for the person: InsufficientFunds (402), ConfidentialNotAllowed
(403), LLMStepAlreadyRun (409), LLMBadAnswer (502), LLMRejected (502), LLMUnavailable (503); and
JobCancelled (not an error: let it through to `job_run`).
"""

import functools
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from apps.billing import services as billing
from apps.billing.errors import IdempotencyConflict, InsufficientFunds, PricesChanged
from apps.billing.models import Hold
from apps.billing.services.pricing import price_lines
from apps.core.jobs import JobCancelled, job_check_cancelled
from apps.core.models import Job
from apps.core.money import micros_to_decimal_string
from apps.llm.errors import (
    ConfidentialNotAllowed,
    LLMBadAnswer,
    LLMError,
    LLMRejected,
    LLMStepAlreadyRun,
    LLMUnavailable,
)
from apps.llm.models import LLMRequest
from apps.llm.providers import ChatReply, ChatRequest, Provider, ProviderError, provider_get
from apps.llm.structured import REPAIR_MAX_TEXT, AnswerInvalid, answer_check, messages_for, repair_messages
from apps.llm.structured import schema_text as _schema_text
from apps.llm.tokens import (
    PER_MESSAGE_TOKENS,
    prompt_tokens_bound,
    prompt_tokens_estimate,
    text_tokens_bound,
    text_tokens_estimate,
)

logger = logging.getLogger("afterresume.llm")

__all__ = ["LLMResult", "LLMTask", "llm_estimate", "llm_provider_info", "llm_run", "llm_step_key"]

MAX_OUTPUT_TOKENS_LIMIT = 32_000
CALLS_AT_MOST = 2  # the answer and one repair


@dataclass(frozen=True)
class LLMTask:
    feature: str
    system: str
    prompt: str
    schema: dict
    max_output_tokens: int
    builtin: Callable[[], dict]
    validate: Callable[[dict], dict] | None = None
    contains_confidential: bool = False
    confidential_allowed: bool = False
    schema_name: str = "answer"

    def messages(self) -> list[dict]:
        return list(self._messages)

    @functools.cached_property
    def _messages(self) -> tuple[dict, ...]:  # estimated, then sent: built once
        return tuple(messages_for(system=self.system, prompt=self.prompt, schema=self.schema))


@dataclass(frozen=True)
class LLMResult:
    data: dict
    provider: str
    model: str
    drafted_without_ai: bool
    prompt_tokens: int
    completion_tokens: int
    usage_estimated: bool
    cost_micros: int
    usage_event_id: int | None
    latency_ms: int
    request_id: int | None = None


def job_key_prefix(job: Job) -> str:
    """What the keys of every step of every attempt of the job start with (its holds' keys too)."""
    return f"job:{job.pk}:"


def llm_step_key(job: Job, step: str) -> str:
    """The idempotency key of one step of a job's current attempt: job:<id>:a<attempt>:<step>."""
    step = str(step).strip()
    if not step or ":" in step:
        raise ValueError("A step name is a non-empty string without colons, e.g. 'entry-42'.")
    return f"{job_key_prefix(job)}a{job.attempts}:{step}"


def llm_provider_info() -> dict:
    """For pages: which provider answers, with which model, and whether text leaves this system."""
    provider = provider_get()
    return {"name": provider.name, "model": provider.model, "external": provider.external}


def _money(micros: int) -> str:
    """$0.0123-style: the exact amount, trailing zeros dropped, at least cents."""
    whole, _, fraction = micros_to_decimal_string(micros).partition(".")
    fraction = fraction.rstrip("0").ljust(2, "0")
    return f"${whole}.{fraction}"


def _check_task(task: LLMTask) -> None:
    if (
        not isinstance(task.max_output_tokens, int)
        or not 0 < task.max_output_tokens <= MAX_OUTPUT_TOKENS_LIMIT
    ):
        raise ValueError(f"max_output_tokens is between 1 and {MAX_OUTPUT_TOKENS_LIMIT}.")
    if not task.feature or not callable(task.builtin):
        raise ValueError("An LLMTask names its feature and has a builtin answer.")


# ----------------------------------------------------------------------------------------- estimates


def _quantities_bound(task: LLMTask, provider: Provider) -> dict:
    """The most the task can use: the first request, and a repair request that echoes a full answer."""
    model = provider.model
    messages = task.messages()
    first = prompt_tokens_bound(messages, model)
    if getattr(provider, "response_format", "") == "json_schema":
        first += text_tokens_bound(_schema_text(task.schema), model)  # OpenAI adds the schema to the prompt
    repair = (
        first + task.max_output_tokens + text_tokens_bound(REPAIR_MAX_TEXT, model) + 2 * PER_MESSAGE_TOKENS
    )
    return {
        "llm_prompt_tokens": first + repair,
        "llm_completion_tokens": CALLS_AT_MOST * task.max_output_tokens,
        "llm_call": CALLS_AT_MOST,
    }


def llm_estimate(*, tenant, tasks: Iterable[LLMTask]) -> int:
    """The most these tasks can cost together, in micros (0 with the builtin provider)."""
    provider = provider_get()
    tasks = list(tasks)
    if not provider.metered or not tasks:
        return 0
    account = billing.reserve_account_ensure(tenant=tenant)
    version = billing.rate_version_in_force(plan=account.plan, at=timezone.now())
    total = 0
    for task in tasks:
        _check_task(task)
        lines = price_lines(
            version=version, model=provider.model, quantities=_quantities_bound(task, provider)
        )
        total += sum(line.cost_micros for line in lines)
    return total


def _hold_ttl(provider: Provider) -> timedelta:
    timeout = float(getattr(provider, "timeout", 60))
    retries = int(getattr(provider, "max_retries", 0))
    budget = float(getattr(provider, "retry_budget", 0))
    per_round = (retries + 1) * timeout + budget
    return timedelta(seconds=min(86_400, max(300, CALLS_AT_MOST * per_round + 60)))


# ------------------------------------------------------------------------------------------- the log


class _Log:
    """The request log row for one call, written once with its outcome. A call in flight has its hold
    (keyed by the call's key), which a cancel voids and which expires if the worker dies."""

    def __init__(
        self, *, tenant, job: Job | None, task: LLMTask, provider: Provider, key: str, started: float
    ):
        self.row = LLMRequest(
            tenant=tenant,
            job=job,
            feature=task.feature[:60],
            provider=provider.name,
            model=provider.model[:100],
            idempotency_key=key[:200],
        )
        self.started = started

    def elapsed_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)

    def held(self, *, hold: Hold | None, held_micros: int) -> None:
        self.row.hold_id = hold.pk if hold else None
        self.row.held_micros = held_micros

    def fill(self, outcome: str, *, error_kind: str = "", **fields) -> LLMRequest:
        """Set the outcome on the row, unsaved (an answered call's is written with its charge)."""
        row = self.row
        row.outcome, row.error_kind = outcome, error_kind[:30]
        row.latency_ms = self.elapsed_ms()
        row.finished_at = timezone.now()
        for name, value in fields.items():
            setattr(row, name, value)
        return row

    def finish(self, outcome: str, *, error_kind: str = "", **fields) -> LLMRequest:
        """Write the outcome. A failure to write is logged, never raised: the call's outcome stands."""
        row = self.fill(outcome, error_kind=error_kind, **fields)
        try:
            row.save()
        except Exception:
            logger.exception("could not write the request log for %s", row.idempotency_key)
        return row


# -------------------------------------------------------------------------------------------- calls


@dataclass
class _Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0
    estimated: bool = False
    tries: int = 0

    def add(self, reply: ChatReply, messages: list[dict], model: str, max_output_tokens: int) -> None:
        self.calls += 1
        self.tries += reply.tries
        if reply.prompt_tokens:
            self.prompt_tokens += reply.prompt_tokens
        else:  # missing, or 0 (Ollama on a cache hit): count it ourselves
            self.prompt_tokens += prompt_tokens_estimate(messages, model)
            self.estimated = True
        if reply.completion_tokens is not None and (reply.completion_tokens or not reply.text):
            self.completion_tokens += reply.completion_tokens
        else:
            self.completion_tokens += min(max_output_tokens, text_tokens_estimate(reply.text, model))
            self.estimated = True

    def quantities(self) -> dict:
        return {
            "llm_prompt_tokens": self.prompt_tokens,
            "llm_completion_tokens": self.completion_tokens,
            "llm_call": self.calls,
        }


def _converse(provider: Provider, task: LLMTask, usage: _Usage) -> dict:
    """Ask, check, and repair once. Raises ProviderError, or LLMBadAnswer after a second bad answer."""
    messages = task.messages()
    for round_number in (1, 2):
        request = ChatRequest(
            messages=messages,
            schema=task.schema,
            schema_name=task.schema_name,
            max_output_tokens=task.max_output_tokens,
            builtin=task.builtin,
        )
        try:
            reply = provider.chat(request)
        except ProviderError as exc:
            usage.tries += exc.tries
            raise
        usage.add(reply, messages, provider.model, task.max_output_tokens)
        try:
            return answer_check(reply.text, schema=task.schema, validate=task.validate)
        except AnswerInvalid as exc:
            if round_number == 2:
                raise LLMBadAnswer(str(exc), extra={"reason": str(exc)}) from exc
            messages = repair_messages(messages, reply.text, str(exc))
    raise AssertionError("unreachable")


def _provider_failure(exc: ProviderError, provider: Provider, released: str) -> LLMError:
    if exc.kind == "timeout":
        timeout = getattr(provider, "timeout", 0)
        return LLMUnavailable(
            f"The model server did not answer within {timeout:g} seconds ({exc.tries} tries). "
            f"{released} Try again later.",
            kind="timeout",
        )
    if exc.kind in ("rate_limited", "server_error", "connection"):
        what = {
            "rate_limited": "kept answering that it is busy (429)",
            "server_error": f"kept failing (HTTP {exc.status})",
            "connection": "could not be reached",
        }[exc.kind]
        return LLMUnavailable(
            f"The model server {what}, {exc.tries} tries in {exc.retried_for_seconds:g} seconds. "
            f"{released} Try again later.",
            kind=exc.kind,
        )
    if exc.kind == "auth":
        return LLMRejected(
            f"The model server refused our credentials (HTTP {exc.status}); staff need to check LLM_API_KEY. "
            f"{released}",
            kind="auth",
        )
    if exc.kind == "rejected":
        return LLMRejected(
            f"The model server refused the request (HTTP {exc.status}: {exc.detail[:200]}); staff need to "
            f"check LLM_MODEL and LLM_BASE_URL. {released}",
            kind="rejected",
        )
    return LLMRejected(
        f"The model server sent an answer that could not be read ({exc.detail[:200]}). {released}",
        kind=exc.kind,
    )


def _released(held: int) -> str:
    if held:
        return f"Nothing was charged; the {_money(held)} held for it was released."
    return "Nothing was charged."


def _void(tenant, hold: Hold | None) -> None:
    if hold is None:
        return
    try:
        billing.hold_void(tenant=tenant, hold_id=hold.pk)
    except IdempotencyConflict:
        logger.warning("hold %s was captured before it could be voided", hold.pk)


def _check_key(job: Job | None, key: str) -> str:
    key = (key or "").strip()
    if not key:
        raise ValueError("llm_run needs an idempotency key (for a job step: llm_step_key(job, step)).")
    if job is not None and not key.startswith(f"{job_key_prefix(job)}a{job.attempts}:"):
        raise ValueError(
            f"A job step's key is llm_step_key(job, step), e.g. job:{job.pk}:a{job.attempts}:s1."
        )
    return key


def _run_unmetered(*, provider: Provider, task: LLMTask, log: _Log) -> LLMResult:
    reply = provider.chat(
        ChatRequest(
            messages=[],
            schema=task.schema,
            schema_name=task.schema_name,
            max_output_tokens=1,
            builtin=task.builtin,
        )
    )
    try:
        data = answer_check(reply.text, schema=task.schema, validate=task.validate)
    except AnswerInvalid as exc:
        log.finish(LLMRequest.Outcome.FAILED, error_kind="builtin_shape")
        raise RuntimeError(f"the builtin answer of {task.feature} does not match its schema: {exc}") from exc
    row = log.finish(LLMRequest.Outcome.OK, attempts=0)
    return LLMResult(
        data=data,
        provider=provider.name,
        model=provider.model,
        drafted_without_ai=True,
        prompt_tokens=0,
        completion_tokens=0,
        usage_estimated=False,
        cost_micros=0,
        usage_event_id=None,
        latency_ms=row.latency_ms,
        request_id=row.pk,
    )


PRICE_CHANGES_FOLLOWED = 2


def _hold_for(*, tenant, task: LLMTask, provider: Provider, key: str) -> tuple:
    """(quote, held, hold): the most the call can cost, at the prices of its start, held. The prices are
    those this process read last (no query), which hold_place checks as it places the hold; when they
    changed, the hold is priced again with a fresh quote. A free call (nothing to hold) is priced fresh."""
    bound = _quantities_bound(task, provider)
    quote = billing.usage_quote_reused(tenant=tenant)
    for _ in range(PRICE_CHANGES_FOLLOWED + 1):
        held = billing.usage_estimate(tenant=tenant, quantities=bound, model=provider.model, quote=quote)
        if held == 0 and quote.reused:
            quote = billing.usage_quote(tenant=tenant)
            continue
        if held == 0:
            return quote, 0, None
        try:
            hold = billing.hold_place(  # commits on its own: it must, before the request goes out
                tenant=tenant,
                amount_micros=held,
                idempotency_key=f"{key}:hold",
                ttl=_hold_ttl(provider),
                memo=f"{task.feature} ({provider.model})",
                quote=quote,
            )
        except PricesChanged:
            quote = billing.usage_quote(tenant=tenant)
            continue
        return quote, held, hold
    raise PricesChanged("The prices kept changing while this call was being priced; try again.")


class _Repeat(Exception):
    """This key was used before: its hold exists, or its free call was answered."""


def llm_run(*, tenant, task: LLMTask, idempotency_key: str, job: Job | None = None) -> LLMResult:
    """Run one task through the configured provider, paid through a hold. See the module docstring."""
    started = time.monotonic()
    _check_task(task)
    key = _check_key(job, idempotency_key)
    if job is not None:
        job_check_cancelled(job)
    provider = provider_get()
    log = _Log(tenant=tenant, job=job, task=task, provider=provider, key=key, started=started)
    if not provider.metered:
        return _run_unmetered(provider=provider, task=task, log=log)

    if provider.external and task.contains_confidential and not task.confidential_allowed:
        log.finish(LLMRequest.Outcome.REFUSED, error_kind="confidential")
        raise ConfidentialNotAllowed(
            "This includes entries marked confidential, and confidential entries are never sent to an "
            "external AI model unless you turn that on in your settings. Nothing was sent or charged."
        )

    placed_after = timezone.now()
    try:
        quote, held, hold = _hold_for(tenant=tenant, task=task, provider=provider, key=key)
        if hold is not None and (hold.status != Hold.Status.PENDING or hold.created_at < placed_after):
            raise _Repeat(f"its hold is {hold.get_status_display().lower()}")
        if (
            hold is None
            and LLMRequest.objects.filter(
                tenant=tenant, idempotency_key=key, outcome=LLMRequest.Outcome.OK
            ).exists()
        ):
            raise _Repeat("it was answered")
        log.held(hold=hold, held_micros=held)
    except InsufficientFunds as exc:  # hold_place recorded the refusal
        exc.extra.setdefault("topup_url", reverse("billing_home"))
        log.finish(
            LLMRequest.Outcome.REFUSED,
            error_kind="insufficient_funds",
            held_micros=exc.extra.get("needed_micros", 0),
        )
        raise
    except (IdempotencyConflict, _Repeat) as exc:
        log.finish(LLMRequest.Outcome.REFUSED, error_kind="repeat")
        why = f" ({exc})" if isinstance(exc, _Repeat) else " with other inputs"
        raise LLMStepAlreadyRun(
            f"This step was already run{why}; it is not run or charged again.",
            extra={"idempotency_key": key},
        ) from exc

    usage = _Usage()
    try:
        data = _converse(provider, task, usage)
        if job is not None:
            job_check_cancelled(job)

        log.fill(
            LLMRequest.Outcome.OK,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            usage_estimated=usage.estimated,
            attempts=usage.tries,
        )
        event = billing.usage_record(
            tenant=tenant,
            quantities=usage.quantities(),
            idempotency_key=key,
            model=provider.model,
            hold_id=hold.pk if hold else None,
            duration_ms=log.elapsed_ms(),
            job_reference=f"job:{job.pk}" if job else "",
            estimated=usage.estimated,
            quote=quote,
            # the log row and the job's cost are written with the charge, in its statement
            companions=billing.UsageCompanions(rows=(log.row,), job=job),
        )
        if log.row.pk is None:  # charged before, under this key: the row says this call was not
            log.finish(LLMRequest.Outcome.OK, cost_micros=0, usage_event_id=event.pk)
        row = log.row
    except BaseException as exc:
        _void(tenant, hold)
        shown = _failed(exc, log=log, usage=usage, provider=provider, held=held, job=job)
        if shown is exc:
            raise
        raise shown from exc

    return LLMResult(
        data=data,
        provider=provider.name,
        model=provider.model,
        drafted_without_ai=False,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        usage_estimated=usage.estimated,
        cost_micros=event.cost_micros,
        usage_event_id=event.pk,
        latency_ms=row.latency_ms,
        request_id=row.pk,
    )


def _failed(
    exc: BaseException, *, log: _Log, usage: _Usage, provider: Provider, held: int, job
) -> BaseException:
    """Log the failure (the hold is already voided) and turn it into what the caller should see."""
    tokens = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "usage_estimated": usage.estimated,
        "attempts": usage.tries,
    }
    released = _released(held)
    cancelled = isinstance(exc, JobCancelled)
    if not cancelled and job is not None and isinstance(exc, IdempotencyConflict):
        # The hold was voided under us: the job was cancelled while the answer was on its way.
        try:
            job_check_cancelled(job)
        except JobCancelled as stopped:
            cancelled, exc = True, stopped
    if cancelled:
        log.finish(LLMRequest.Outcome.CANCELLED, error_kind="cancelled", **tokens)
        return exc
    if isinstance(exc, ProviderError):
        failure = _provider_failure(exc, provider, released)
        outcome = LLMRequest.Outcome.TIMEOUT if exc.kind == "timeout" else LLMRequest.Outcome.FAILED
        log.finish(outcome, error_kind=failure.kind, **tokens)
        return failure
    if isinstance(exc, LLMBadAnswer):
        log.finish(LLMRequest.Outcome.BAD_FORMAT, error_kind="bad_format", **tokens)
        return LLMBadAnswer(
            f"The model's answer was not in the expected format, even after it was asked once to correct it "
            f"({exc.message}). {released}",
            extra=exc.extra,
        )
    if isinstance(exc, InsufficientFunds):
        log.finish(LLMRequest.Outcome.REFUSED, error_kind="above_hold", **tokens)
        exc.extra.setdefault("topup_url", reverse("billing_home"))
        exc.message = (
            f"The answer cost more than the {_money(held)} held for it and the reserve could not cover the "
            f"rest, so it was not kept. {released} Top up to try again."
        )
        exc.args = (exc.message,)
        return exc
    if isinstance(exc, IdempotencyConflict):
        log.finish(LLMRequest.Outcome.FAILED, error_kind="not_captured", **tokens)
        return LLMError(
            "The answer could not be charged (this step was charged already, or the money held for it had "
            f"expired), so it was not kept. {released}",
            kind="not_captured",
        )
    log.finish(LLMRequest.Outcome.FAILED, error_kind=type(exc).__name__[:30], **tokens)
    return exc
