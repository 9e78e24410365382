"""The request log: one row per model call the gateway made or refused. Never the prompt or the answer.

A row is written as `pending` once money is held and the request is about to go out, and finished with
its outcome; a `pending` row that stays so belongs to a worker that died (its hold expires by itself).
"""

from django.db import models
from django.utils import timezone


class LLMRequest(models.Model):
    class Outcome(models.TextChoices):
        PENDING = "pending", "In flight"
        OK = "ok", "Answered"
        REFUSED = "refused", "Refused before sending"
        FAILED = "failed", "Failed"
        TIMEOUT = "timeout", "Timed out"
        BAD_FORMAT = "bad_format", "Answer not in the expected format"
        CANCELLED = "cancelled", "Cancelled"

    # Not indexed alone: the composite indexes below lead with each (writes are on every model call).
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+", db_index=False)
    job = models.ForeignKey(
        "core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    feature = models.CharField(max_length=60, help_text="Which feature asked, e.g. assist.improve.")
    provider = models.CharField(max_length=20)
    model = models.CharField(max_length=100, blank=True)
    idempotency_key = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.PENDING)
    error_kind = models.CharField(
        max_length=30, blank=True, help_text="e.g. insufficient_funds, confidential, timeout, bad_format."
    )
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    usage_estimated = models.BooleanField(
        default=False,
        help_text="The server reported no usage (or zero prompt tokens); tokens were counted here.",
    )
    held_micros = models.BigIntegerField(default=0, help_text="Held before the call: the most it could cost.")
    cost_micros = models.BigIntegerField(default=0, help_text="Charged to the reserve.")
    latency_ms = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="HTTP requests sent, counting retries and the repair request."
    )
    hold_id = models.BigIntegerField(null=True, blank=True)
    usage_event_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "LLM request"
        verbose_name_plural = "LLM requests"
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="llmrequest_tenant_created"),
            models.Index(fields=["tenant", "idempotency_key"], name="llmrequest_tenant_key"),
            models.Index(fields=["job", "outcome"], name="llmrequest_job_outcome"),
        ]

    def __str__(self) -> str:
        return f"{self.feature} via {self.provider} ({self.get_outcome_display()})"
