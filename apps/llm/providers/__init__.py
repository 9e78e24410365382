"""Model providers behind one small interface (DESIGN rule 9: the one module per external system).

A provider turns a `ChatRequest` into a `ChatReply` (the answer's text and the usage the server reported)
or raises `ProviderError`. It knows nothing of money, jobs or entries; the gateway does the rest.

- `builtin`: runs the feature's own deterministic function. Offline, free, never external.
- `openai`: any OpenAI-compatible /v1/chat/completions server through the official SDK.

`provider_get()` builds the one configured by the LLM_* settings (read on every call, so tests and a
settings change need no restart; the SDK client itself is cached).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PROVIDERS = ("builtin", "openai")


@dataclass(frozen=True)
class ChatRequest:
    messages: list[dict]
    schema: dict
    schema_name: str
    max_output_tokens: int
    builtin: Callable[[], dict] | None = None


@dataclass
class ChatReply:
    text: str
    prompt_tokens: int | None
    completion_tokens: int | None
    model: str
    finish_reason: str = ""
    tries: int = 1
    response_format: str = ""


@dataclass
class ProviderError(Exception):
    """`kind`: timeout, connection, rate_limited, server_error, rejected, auth, bad_response."""

    kind: str
    detail: str
    status: int | None = None
    tries: int = 1
    retried_for_seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


class Provider(Protocol):
    name: str
    model: str
    external: bool  # the text leaves this system: the privacy net applies
    metered: bool  # calls cost money: estimate, hold, record

    def chat(self, request: ChatRequest) -> ChatReply: ...


def provider_get() -> Provider:
    name = (settings.LLM_PROVIDER or "builtin").strip().lower()
    if name == "builtin":
        from apps.llm.providers.builtin import BuiltinProvider

        return BuiltinProvider()
    if name == "openai":
        from apps.llm.providers.openai_compat import OpenAICompatibleProvider

        return OpenAICompatibleProvider.from_settings()
    raise ImproperlyConfigured(f"LLM_PROVIDER is {name!r}; use one of {', '.join(PROVIDERS)}.")
