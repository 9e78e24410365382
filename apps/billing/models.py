"""The prepaid reserve: accounts, the append-only ledger, holds, rate cards, usage and Stripe records.

All amounts are integer micros (see apps.core.money). The ledger is never updated or deleted: the model
refuses, and on PostgreSQL a trigger (migration 0002) refuses too.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.models import TimeStampedModel


class AppendOnlyError(Exception):
    pass


class ReserveAccount(TimeStampedModel):
    class Policy(models.TextChoices):
        BLOCK = "block", "Block: never spend below zero"
        WARN = "warn", "Warn: may go negative, flagged"
        LIMITED = "limited", "Limited: may go down to the credit limit"

    tenant = models.OneToOneField("accounts.Tenant", on_delete=models.PROTECT, related_name="reserve_account")
    currency = models.CharField(max_length=3, default="usd")
    balance_micros = models.BigIntegerField(default=0)
    held_micros = models.BigIntegerField(
        default=0, help_text="Sum of pending holds; kept under the same row lock as the balance."
    )
    policy = models.CharField(max_length=10, choices=Policy.choices, default=Policy.BLOCK)
    credit_limit_micros = models.BigIntegerField(default=0)
    low_balance_threshold_micros = models.BigIntegerField(default=5_000_000)
    plan = models.CharField(max_length=40, default="standard")

    auto_topup_enabled = models.BooleanField(default=False)
    auto_topup_amount_cents = models.PositiveIntegerField(default=2000)
    auto_topup_threshold_micros = models.BigIntegerField(default=5_000_000)
    auto_topup_failure_reason = models.CharField(max_length=300, blank=True)
    auto_topup_failed_at = models.DateTimeField(null=True, blank=True)

    stripe_customer_id = models.CharField(max_length=100, blank=True)
    stripe_payment_method_id = models.CharField(max_length=100, blank=True)
    stripe_subscription_id = models.CharField(max_length=100, blank=True)
    subscription_status = models.CharField(max_length=30, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(held_micros__gte=0), name="reserve_held_not_negative"),
            models.CheckConstraint(
                condition=Q(credit_limit_micros__gte=0), name="reserve_credit_limit_not_neg"
            ),
        ]

    def __str__(self) -> str:
        return f"Reserve of {self.tenant}"

    @property
    def available_micros(self) -> int:
        return self.balance_micros - self.held_micros

    @property
    def is_low(self) -> bool:
        return self.available_micros < self.low_balance_threshold_micros


class LedgerEntry(models.Model):
    class Kind(models.TextChoices):
        TOPUP = "topup", "Top-up"
        USAGE = "usage", "Usage"
        ADJUSTMENT = "adjustment", "Adjustment"
        REFUND = "refund", "Refund"
        HOLD_CAPTURE = "hold_capture", "Hold capture"

    # db_index=False on a foreign key here: an index below (or a unique constraint) leads with it, and every
    # model call writes these rows, so an index of its own would only cost each write.
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False)
    account = models.ForeignKey(
        ReserveAccount, on_delete=models.PROTECT, related_name="entries", db_index=False
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount_micros = models.BigIntegerField()
    balance_after_micros = models.BigIntegerField()
    idempotency_key = models.CharField(max_length=200)
    stripe_object_id = models.CharField(max_length=100, blank=True)
    usage_event = models.ForeignKey(
        "UsageEvent", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    hold = models.ForeignKey("Hold", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    memo = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.UniqueConstraint(
                fields=["account", "idempotency_key"], name="ledger_unique_key_per_account"
            )
        ]
        indexes = [models.Index(fields=["tenant", "-id"]), models.Index(fields=["account", "id"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount_micros} on {self.account_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("Ledger entries are append-only; add a correcting entry instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Ledger entries are append-only and cannot be deleted.")


class Hold(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CAPTURED = "captured", "Captured"
        VOIDED = "voided", "Voided"
        EXPIRED = "expired", "Expired"

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(
        ReserveAccount, on_delete=models.PROTECT, related_name="holds", db_index=False
    )
    amount_micros = models.BigIntegerField()
    captured_micros = models.BigIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    idempotency_key = models.CharField(max_length=200)
    memo = models.CharField(max_length=300, blank=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "idempotency_key"], name="hold_unique_key_per_account"
            ),
            models.CheckConstraint(condition=Q(amount_micros__gt=0), name="hold_amount_positive"),
            models.CheckConstraint(
                condition=Q(captured_micros__gte=0) & Q(captured_micros__lte=models.F("amount_micros")),
                name="hold_capture_within_amount",
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return f"Hold {self.pk} ({self.status})"


class RateCard(TimeStampedModel):
    plan = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)

    def __str__(self) -> str:
        return f"{self.name} ({self.plan})"


class RateCardVersion(TimeStampedModel):
    """Prices in force from `effective_from` until the next version of the same card starts."""

    rate_card = models.ForeignKey(RateCard, on_delete=models.PROTECT, related_name="versions")
    effective_from = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["rate_card", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["rate_card", "effective_from"], name="rate_version_unique_start")
        ]

    def __str__(self) -> str:
        return f"{self.rate_card.plan} from {self.effective_from:%Y-%m-%d %H:%M}"


class Meter(models.TextChoices):
    LLM_PROMPT_TOKENS = "llm_prompt_tokens", "LLM prompt tokens"
    LLM_COMPLETION_TOKENS = "llm_completion_tokens", "LLM completion tokens"
    LLM_CALL = "llm_call", "LLM call (per-call fee)"
    STORAGE_GB_MONTH = "storage_gb_month", "Storage (GB-month)"
    REPORT_EXPORT = "report_export", "Report export"


class RateLineItem(models.Model):
    version = models.ForeignKey(RateCardVersion, on_delete=models.CASCADE, related_name="line_items")
    meter = models.CharField(max_length=30, choices=Meter.choices)
    model = models.CharField(
        max_length=100, blank=True, help_text="For LLM meters: the model name; empty means any other model."
    )
    unit_price_micros = models.DecimalField(
        max_digits=20, decimal_places=6, help_text="Micros per unit; fractions of a micro are allowed."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "meter", "model"], name="rate_line_unique_meter_model")
        ]

    def __str__(self) -> str:
        # No price here: the admin shows it in dollars per unit next to this (see apps.billing.unit_prices).
        return f"{self.get_meter_display()}, {self.model or 'any model'}"


class UsageEvent(models.Model):
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False)
    model = models.CharField(max_length=100, blank=True)
    occurred_at = models.DateTimeField(db_index=True)
    duration_ms = models.PositiveIntegerField(default=0)
    job_reference = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=200)
    cost_micros = models.BigIntegerField()
    rate_version = models.ForeignKey(RateCardVersion, on_delete=models.PROTECT, related_name="usage_events")
    hold = models.ForeignKey(Hold, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    estimated = models.BooleanField(
        default=False,
        help_text="The quantities were estimated (the provider reported no usage, or zero prompt tokens).",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "idempotency_key"], name="usage_unique_key_per_tenant")
        ]
        indexes = [models.Index(fields=["tenant", "occurred_at"])]

    def __str__(self) -> str:
        return f"Usage {self.pk} ({self.cost_micros} micros)"


class UsageLine(models.Model):
    event = models.ForeignKey(UsageEvent, on_delete=models.PROTECT, related_name="lines")
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="+")
    meter = models.CharField(max_length=30, choices=Meter.choices)
    quantity = models.DecimalField(max_digits=20, decimal_places=6)
    unit_price_micros = models.DecimalField(max_digits=20, decimal_places=6)
    cost_micros = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.meter} x {self.quantity}"


class TopUp(models.Model):
    """One attempt to add money: a Checkout Session, an automatic charge, or a simulated checkout."""

    class Source(models.TextChoices):
        CHECKOUT = "checkout", "Stripe Checkout"
        AUTOMATIC = "automatic", "Automatic top-up"
        SIMULATED = "simulated", "Simulated checkout"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(ReserveAccount, on_delete=models.PROTECT, related_name="topups")
    public_id = models.CharField(max_length=60, unique=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    amount_cents = models.PositiveIntegerField(help_text="What the reserve is credited (before any tax).")
    tax_cents = models.PositiveIntegerField(default=0, help_text="Tax Stripe added on top (Stripe Tax).")
    stripe_object_id = models.CharField(max_length=100, blank=True)
    stripe_payment_intent_id = models.CharField(max_length=100, blank=True)
    stripe_tax_calculation_id = models.CharField(max_length=100, blank=True)
    checkout_url = models.URLField(max_length=2000, blank=True)
    failure_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # Lago's lesson: never two automatic top-ups in flight for one account.
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(source="automatic", status="pending"),
                name="topup_one_pending_automatic",
            ),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="topup_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.public_id} ({self.status})"

    @staticmethod
    def new_public_id(prefix: str) -> str:
        return f"{prefix}_{uuid.uuid4().hex}"

    @property
    def charged_cents(self) -> int:
        """What the card pays: the top-up plus any tax."""
        return self.amount_cents + self.tax_cents


class StripeEvent(models.Model):
    class Status(models.TextChoices):
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored (type we do not act on)"
        FAILED = "failed", "Failed (Stripe will retry)"

    event_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=Status.choices)
    tenant = models.ForeignKey(
        "accounts.Tenant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attempts = models.PositiveIntegerField(default=1)
    error = models.TextField(blank=True)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    # A FAILED event whose error starts with this was refused on purpose (it did not match our records):
    # the webhook answered 200, so Stripe does not retry it. Any other FAILED event answered 500.
    REJECTED_PREFIX = "Not credited: "

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["status", "-received_at"])]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id} ({self.status})"

    @property
    def is_rejected(self) -> bool:
        return self.status == self.Status.FAILED and self.error.startswith(self.REJECTED_PREFIX)


class ReceiptCounter(models.Model):
    """The last receipt number of a year. Locked while a receipt is numbered, in the transaction that credits
    the top-up, so numbers are gapless per year: a rolled-back credit rolls its number back too."""

    year = models.PositiveSmallIntegerField(unique=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class Receipt(models.Model):
    """The immutable record of one paid top-up: what was paid, by which card, to whom, with Stripe's ids.

    Written once, in the transaction of the ledger credit; unique per top-up, so a repeated webhook finds
    the first one. Only `emailed_at` and the erasure of personal details (account deletion) change later,
    through queryset updates in the services; `save()` refuses to overwrite a receipt.
    """

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(ReserveAccount, on_delete=models.PROTECT, related_name="receipts")
    topup = models.OneToOneField(TopUp, on_delete=models.PROTECT, related_name="receipt")
    ledger_entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="receipt")
    number = models.CharField(max_length=30, unique=True)
    year = models.PositiveSmallIntegerField()
    sequence = models.PositiveIntegerField()
    issued_at = models.DateTimeField(default=timezone.now)
    workspace_name = models.CharField(max_length=100)
    billed_to_name = models.CharField(max_length=150, blank=True)
    billed_to_email = models.CharField(max_length=254, blank=True)
    currency = models.CharField(max_length=3)
    net_cents = models.PositiveIntegerField(help_text="Credited to the reserve.")
    tax_cents = models.PositiveIntegerField(default=0)
    total_cents = models.PositiveIntegerField(help_text="Charged to the card: net plus tax.")
    source = models.CharField(max_length=10, choices=TopUp.Source.choices)
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    stripe_checkout_session_id = models.CharField(max_length=100, blank=True)
    stripe_payment_intent_id = models.CharField(max_length=100, blank=True)
    stripe_charge_id = models.CharField(max_length=100, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    personal_details_removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-year", "-sequence"]
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="receipt_unique_sequence_per_year"),
            models.CheckConstraint(
                condition=Q(total_cents=models.F("net_cents") + models.F("tax_cents")),
                name="receipt_total_is_net_plus_tax",
            ),
            models.CheckConstraint(condition=Q(net_cents__gt=0), name="receipt_net_positive"),
        ]
        indexes = [models.Index(fields=["tenant", "-issued_at"])]

    def __str__(self) -> str:
        return self.number

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("Receipts are immutable; record a refund or an adjustment instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Receipts are kept; they cannot be deleted.")

    @property
    def amount_cents(self) -> int:
        return self.total_cents


class Refund(models.Model):
    """Money sent back to the card of a top-up, and taken back out of the reserve once, when it succeeds.

    `amount_cents` goes back to the card (part of what was charged, tax included); `reversal_micros` is
    what the reserve gives back: the same share of the net credit (see services.refunds).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Refunded"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Cancelled"

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(ReserveAccount, on_delete=models.PROTECT, related_name="refunds")
    topup = models.ForeignKey(TopUp, on_delete=models.PROTECT, related_name="refunds")
    public_id = models.CharField(max_length=60, unique=True)
    stripe_refund_id = models.CharField(max_length=100, blank=True)
    amount_cents = models.PositiveIntegerField()
    reversal_micros = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    failure_reason = models.CharField(max_length=300, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    hold = models.ForeignKey(Hold, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    ledger_entry = models.OneToOneField(
        LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="refund"
    )
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_refund_id"], condition=~Q(stripe_refund_id=""), name="refund_unique_stripe_id"
            ),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(condition=Q(reversal_micros__gte=0), name="refund_reversal_not_negative"),
        ]

    def __str__(self) -> str:
        return f"Refund {self.public_id} ({self.status})"
