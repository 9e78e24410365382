from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.models import TenantOwnedModel


class VoiceSettings(TenantOwnedModel):
    """How one person wants their entries written, used by every prompt; and the privacy switch."""

    class Tone(models.TextChoices):
        PLAIN = "plain", "Plain and direct"
        CONFIDENT = "confident", "Confident"
        MODEST = "modest", "Modest"
        FORMAL = "formal", "Formal"
        WARM = "warm", "Warm"

    class Length(models.TextChoices):
        SHORT = "short", "Short"
        MEDIUM = "medium", "Medium"
        DETAILED = "detailed", "Detailed"

    class Person(models.TextChoices):
        FIRST = "first", "First person (“I led…”)"
        THIRD = "third", "Third person (“Led…”, for a resume or a manager)"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    tone = models.CharField(max_length=12, choices=Tone.choices, default=Tone.PLAIN)
    length = models.CharField(max_length=12, choices=Length.choices, default=Length.MEDIUM)
    person = models.CharField(max_length=8, choices=Person.choices, default=Person.FIRST)
    instructions = models.TextField(blank=True, help_text="Free-text instructions added to every prompt.")
    allow_confidential_external = models.BooleanField(
        default=False, help_text="Send entries marked confidential to an external model."
    )

    class Meta:
        verbose_name = verbose_name_plural = "voice settings"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="voice_settings_one_per_person")
        ]

    def __str__(self) -> str:
        return f"Voice of {self.user}"


class Suggestion(TenantOwnedModel):
    """A proposed rewrite of one entry, field by field, waiting for the person's decision.

    `fields` is a list of {"name", "original", "proposed", "flags": [{"text", "reason"}], "decision",
    "applied"}: only fields whose proposal differs from the entry. `source_texts` are the entry's own words
    when the suggestion was drafted: an edited proposal is checked against them again. Nothing here changes
    the entry; accepting does, through worklog's `entry_update`, which keeps the replaced text as a version.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for you"
        ACCEPTED = "accepted", "Accepted"
        PARTIAL = "partially_accepted", "Partially accepted"
        REJECTED = "rejected", "Rejected"
        SUPERSEDED = "superseded", "Replaced by a newer suggestion"
        NO_CHANGES = "no_changes", "Nothing to change"

    DECIDED = (Status.ACCEPTED, Status.PARTIAL, Status.REJECTED)

    entry = models.ForeignKey("worklog.Entry", on_delete=models.CASCADE, related_name="suggestions")
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    provider = models.CharField(max_length=30)
    model = models.CharField(max_length=100, blank=True)
    drafted_without_ai = models.BooleanField(default=True)
    note = models.CharField(max_length=300, blank=True, help_text="Why it was drafted the way it was.")
    fields = models.JSONField(default=list)
    skills = models.JSONField(default=list, help_text="Skill names proposed.")
    accepted_skills = models.JSONField(default=list)
    source_texts = models.JSONField(default=list)
    cost_micros = models.BigIntegerField(default=0)
    usage_event_id = models.BigIntegerField(null=True, blank=True, help_text="billing.UsageEvent, when paid.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "status", "created_at"], name="suggestion_queue")]
        constraints = [
            # One suggestion per entry and job: a job delivered twice, or retried, skips what it already did.
            models.UniqueConstraint(
                fields=["job", "entry"], condition=Q(job__isnull=False), name="suggestion_once_per_job_entry"
            )
        ]

    def __str__(self) -> str:
        return f"Suggestion {self.pk} for entry {self.entry_id} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def flagged_count(self) -> int:
        return sum(1 for item in self.fields if item.get("flags"))

    def field(self, name: str) -> dict | None:
        return next((item for item in self.fields if item["name"] == name), None)
