"""Reports written from the work log, their saved versions and their share links.

A report's content lives in versions: generation saves version 1 before anyone sees it, and every edit,
regeneration, arrangement or restore saves the next one. `Report.version` is the number shown.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.models import TenantOwnedModel


class Report(TenantOwnedModel):
    class Kind(models.TextChoices):
        SELF_REVIEW = "self_review", "Self-review"
        BRAG_DOCUMENT = "brag_document", "Brag document"
        RESUME_BULLETS = "resume_bullets", "Resume bullets"
        SUMMARY = "summary", "Summary"
        TAILORED_RESUME = "tailored_resume", "Tailored resume"

    class Audience(models.TextChoices):
        PRIVATE = "private", "Private"
        SHAREABLE = "shareable", "Shareable"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        GENERATING = "generating", "Writing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    variant = models.CharField(
        max_length=20, blank=True, help_text="Summaries: weekly, monthly, quarterly or manager_update."
    )
    title = models.CharField(max_length=200)
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.PRIVATE)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True)
    filters = models.JSONField(default=dict, blank=True, help_text="since, until, employers, projects, ...")
    job_description = models.TextField(blank=True)
    options = models.JSONField(
        default=dict, blank=True, help_text="Sections arrangement, roles per employer."
    )
    selected_entry_ids = models.JSONField(default=list, blank=True)
    requirements = models.JSONField(
        default=list, blank=True, help_text="Tailored resume: requirement -> ids."
    )
    version = models.PositiveIntegerField(default=0)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    estimate_micros = models.BigIntegerField(default=0)
    cost_micros = models.BigIntegerField(default=0)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    provider = models.CharField(max_length=40, blank=True)
    model = models.CharField(max_length=100, blank=True)
    drafted_without_ai = models.BooleanField(default=False)
    generation_notes = models.JSONField(default=list, blank=True, help_text="What happened while writing.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="report_tenant_recent")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_shareable(self) -> bool:
        return self.audience == self.Audience.SHAREABLE

    @property
    def is_busy(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.GENERATING)


class ReportVersion(TenantOwnedModel):
    """One saved state of a report: its sections (with citations and flags) and its Markdown."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    sections = models.JSONField(default=list)
    markdown = models.TextField(blank=True)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["report", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["report", "number"], name="report_version_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.report_id} v{self.number}"


class ReportShare(TenantOwnedModel):
    """A read-only link to a shareable report. The token is the only key; revoking ends it for good."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="shares")
    token = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    view_count = models.PositiveIntegerField(default=0)
    last_viewed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["report"], condition=Q(revoked_at__isnull=True), name="report_share_one_open"
            ),
        ]

    def __str__(self) -> str:
        return f"Share of {self.report_id}"
