"""What the model gateway refuses or fails with. Each message says what happened to the money.

Money refusals are billing's `InsufficientFunds` (402, extra: needed_micros, available_micros, topup_url).
"""

from apps.core.errors import ApplicationError, Conflict


class LLMError(ApplicationError):
    """A model call did not produce an answer. `kind` is the short name kept in the request log."""

    status_code = 502
    kind = "failed"

    def __init__(self, message: str, *, kind: str | None = None, extra: dict | None = None):
        super().__init__(message, extra=extra)
        if kind:
            self.kind = kind


class LLMUnavailable(LLMError):
    """The model server could not be reached, timed out, or kept answering 429/5xx past the retry limits."""

    status_code = 503
    kind = "unavailable"


class LLMRejected(LLMError):
    """The model server refused the request itself (4xx other than 429): a setting to fix, not to retry."""

    kind = "rejected"


class LLMBadAnswer(LLMError):
    """The model's answer was not in the expected format, even after one repair attempt."""

    kind = "bad_format"


class ConfidentialNotAllowed(ApplicationError):
    """The privacy net: confidential text is never sent to an external model unless the person allowed it."""

    status_code = 403
    kind = "confidential"


class LLMStepAlreadyRun(Conflict):
    """The idempotency key was used before: that step was charged (or is in flight) and is not run again."""

    kind = "repeat"
