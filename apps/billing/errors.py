from apps.core.errors import ApplicationError, Conflict


class InsufficientFunds(ApplicationError):
    status_code = 402


class IdempotencyConflict(Conflict):
    """The same idempotency key was used before with a different amount or meaning."""


class PricesChanged(Conflict):
    """The prices of a quote are no longer the ones in force: take a new quote and try again."""


class PaymentsUnavailable(ApplicationError):
    status_code = 503


class PaymentFailed(ApplicationError):
    """Stripe refused or could not be reached; the message says what to do."""

    status_code = 502


class CardDeclined(PaymentFailed):
    status_code = 402
