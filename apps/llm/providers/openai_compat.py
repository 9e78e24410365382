"""Any OpenAI-compatible /v1/chat/completions server (OpenAI, Ollama, vLLM, llama.cpp, LM Studio).

Through the official `openai` SDK with `base_url=LLM_BASE_URL`, `api_key=LLM_API_KEY` (a placeholder when
empty: local servers ignore it), `model=LLM_MODEL` and `timeout=LLM_TIMEOUT_SECONDS`. The SDK's own retries
are off (max_retries=0), so the ones here are the only ones:

- retried: 429, any 5xx, timeouts and connection errors; at most LLM_MAX_RETRIES more tries;
- the wait before try n+1 is the server's Retry-After (seconds, milliseconds in retry-after-ms, or an HTTP
  date) capped at LLM_RETRY_AFTER_MAX_SECONDS, else exponential backoff with full jitter:
  uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**(n-1)));
- never past LLM_RETRY_BUDGET_SECONDS since the first try: a wait that would end after it is not taken,
  and each later try's timeout is cut to what is left.

Structured output: `response_format` is a JSON schema (LLM_RESPONSE_FORMAT=json_schema). A server that
answers 400 about it is asked again at once with {"type": "json_object"}, and remembered for this process.
The schema is in the prompt either way (the gateway puts it there).
"""

import email.utils
import math
import secrets
import threading
import time
from datetime import UTC, datetime
from functools import lru_cache

import openai
from django.conf import settings

from apps.llm.providers import ChatReply, ChatRequest, ProviderError

BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
PLACEHOLDER_API_KEY = "not-needed"  # local servers take any key
FORMATS = ("json_schema", "json_object", "none")

_random = secrets.SystemRandom()
_downgraded: dict[tuple[str, str], str] = {}
_downgraded_lock = threading.Lock()


@lru_cache(maxsize=8)
def _client(base_url: str, api_key: str, timeout: float) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=base_url or None, api_key=api_key or PLACEHOLDER_API_KEY, timeout=timeout, max_retries=0
    )


def retry_after_seconds(headers, *, now: datetime | None = None) -> float | None:
    """The server's wish from Retry-After / retry-after-ms, in seconds, or None."""
    if headers is None:
        return None
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def backoff_seconds(retry_number: int) -> float:
    """Full jitter: uniform between 0 and the capped exponential step for this retry (1, 2, ...)."""
    return _random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (retry_number - 1)))


def _mentions_format(exc: openai.APIStatusError) -> bool:
    text = f"{exc.message} {exc.body}".lower()
    return "response_format" in text or "json_schema" in text or "response format" in text


def _classify(exc: Exception) -> tuple[str, int | None, bool]:
    """(kind, HTTP status, retryable)."""
    if isinstance(exc, openai.APITimeoutError):
        return "timeout", None, True
    if isinstance(exc, openai.APIConnectionError):
        return "connection", None, True
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status == 429:
            return "rate_limited", status, True
        if status >= 500:
            return "server_error", status, True
        if status in (401, 403):
            return "auth", status, False
        return "rejected", status, False
    return "bad_response", None, False


class OpenAICompatibleProvider:
    name = "openai"
    external = True
    metered = True

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str,
        timeout: float,
        max_retries: int,
        retry_budget: float,
        retry_after_max: float,
        response_format: str,
    ):
        if response_format not in FORMATS:
            response_format = "json_schema"
        self.base_url, self.api_key, self.model = base_url, api_key, model
        self.timeout, self.max_retries = float(timeout), max(0, int(max_retries))
        self.retry_budget, self.retry_after_max = float(retry_budget), float(retry_after_max)
        self.response_format = response_format

    @classmethod
    def from_settings(cls) -> "OpenAICompatibleProvider":
        return cls(
            base_url=settings.LLM_BASE_URL,
            api_key=settings.LLM_API_KEY,
            model=settings.LLM_MODEL or "gpt-4o-mini",
            timeout=settings.LLM_TIMEOUT_SECONDS,
            max_retries=settings.LLM_MAX_RETRIES,
            retry_budget=settings.LLM_RETRY_BUDGET_SECONDS,
            retry_after_max=settings.LLM_RETRY_AFTER_MAX_SECONDS,
            response_format=settings.LLM_RESPONSE_FORMAT,
        )

    def _format(self) -> str:
        with _downgraded_lock:
            return _downgraded.get((self.base_url, self.model), self.response_format)

    def _downgrade(self) -> None:
        with _downgraded_lock:
            _downgraded[(self.base_url, self.model)] = "json_object"

    @staticmethod
    def _format_param(kind: str, request: ChatRequest):
        if kind == "json_schema":
            return {
                "type": "json_schema",
                "json_schema": {"name": request.schema_name, "schema": request.schema, "strict": False},
            }
        if kind == "json_object":
            return {"type": "json_object"}
        return openai.omit

    def _create(self, request: ChatRequest, format_kind: str, timeout: float):
        return _client(self.base_url, self.api_key, self.timeout).chat.completions.create(
            model=self.model,
            messages=request.messages,
            max_tokens=request.max_output_tokens,
            response_format=self._format_param(format_kind, request),
            timeout=timeout,
        )

    def chat(self, request: ChatRequest) -> ChatReply:
        started = time.monotonic()
        tries = retries = 0
        timeout = self.timeout
        format_kind = self._format()
        while True:
            tries += 1
            try:
                completion = self._create(request, format_kind, timeout)
            except openai.BadRequestError as exc:
                if format_kind == "json_schema" and _mentions_format(exc):
                    self._downgrade()
                    format_kind = "json_object"
                    continue
                raise self._error(exc, tries, started) from exc
            except (
                openai.APIConnectionError,
                openai.APIStatusError,
                openai.APIResponseValidationError,
            ) as exc:
                kind, _status, retryable = _classify(exc)
                if not retryable or retries >= self.max_retries:
                    raise self._error(exc, tries, started) from exc
                headers = getattr(getattr(exc, "response", None), "headers", None)
                wish = retry_after_seconds(headers) if kind in ("rate_limited", "server_error") else None
                retries += 1
                delay = min(wish, self.retry_after_max) if wish is not None else backoff_seconds(retries)
                left = self.retry_budget - (time.monotonic() - started)
                if delay >= left:
                    raise self._error(exc, tries, started, budget_spent=True) from exc
                time.sleep(delay)
                timeout = max(0.1, min(self.timeout, left - delay))
                continue
            return self._reply(completion, tries, format_kind)

    def _reply(self, completion, tries: int, format_kind: str) -> ChatReply:
        choices = getattr(completion, "choices", None) or []
        if not choices:
            raise ProviderError("bad_response", "the server answered without a choice", tries=tries)
        choice = choices[0]
        usage = getattr(completion, "usage", None)
        return ChatReply(
            text=(choice.message.content if choice.message else None) or "",
            prompt_tokens=getattr(usage, "prompt_tokens", None) if usage else None,
            completion_tokens=getattr(usage, "completion_tokens", None) if usage else None,
            model=getattr(completion, "model", "") or self.model,
            finish_reason=choice.finish_reason or "",
            tries=tries,
            response_format=format_kind,
        )

    def _error(self, exc: Exception, tries: int, started: float, budget_spent: bool = False) -> ProviderError:
        kind, status, _retryable = _classify(exc)
        detail = getattr(exc, "message", "") or str(exc) or type(exc).__name__
        return ProviderError(
            kind=kind,
            detail=detail[:300],
            status=status,
            tries=tries,
            retried_for_seconds=round(time.monotonic() - started, 3),
            extra={"budget_spent": budget_spent},
        )
