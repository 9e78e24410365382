import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from apps.core.models import TenantOwnedModel


class Employer(TenantOwnedModel):
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("tenant", Lower("name"), name="employer_unique_name_per_tenant"),
        ]

    def __str__(self) -> str:
        return self.name


class Project(TenantOwnedModel):
    employer = models.ForeignKey(
        Employer, null=True, blank=True, on_delete=models.SET_NULL, related_name="projects"
    )
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("tenant", Lower("name"), name="project_unique_name_per_tenant"),
        ]

    def __str__(self) -> str:
        return self.name


class Skill(TenantOwnedModel):
    """A skill as the person writes it (`name`), unique by its normalised `key` (case, spacing, aliases).

    `entry_count` and `last_used_on` describe the skill's live entries (not deleted). They are counters kept
    in step by the services that link, unlink, delete, restore, import and merge (apps/worklog/services/
    counters.py), so the skills page never counts the log; `python manage.py worklog_recount` checks them.
    """

    name = models.CharField(max_length=80)
    key = models.CharField(max_length=80)
    entry_count = models.PositiveIntegerField(default=0, editable=False)
    last_used_on = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "key"], name="skill_unique_key_per_tenant")]

    def __str__(self) -> str:
        return self.name


class SkillMonth(TenantOwnedModel):
    """How many live entries dated in one calendar month (`month`, its first day) have the skill: a counter
    kept in step with `Skill.entry_count` (counters.py), so the dashboard's top skills of the last months
    add up a few rows per skill instead of reading the links of every recent entry."""

    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="months")
    month = models.DateField()
    entry_count = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["skill", "month"], name="skill_month_unique")]
        indexes = [models.Index(fields=["tenant", "month"], name="skill_month_by_tenant")]

    def __str__(self) -> str:
        return f"{self.skill_id} {self.month:%Y-%m}: {self.entry_count}"


class Tag(TenantOwnedModel):
    name = models.CharField(max_length=50)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="tag_unique_name_per_tenant")]

    def __str__(self) -> str:
        return self.name


class Entry(TenantOwnedModel):
    """One thing done at work. On PostgreSQL a generated `search_document` column (migrations 0002, 0005) is
    indexed with the workspace (`GIN (tenant_id, search_document)`, btree_gin) for search."""

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="entries"
    )
    occurred_on = models.DateField(db_index=True)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, help_text="Markdown.")
    impact = models.TextField(blank=True)
    employer = models.ForeignKey(
        Employer, null=True, blank=True, on_delete=models.SET_NULL, related_name="entries"
    )
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="entries"
    )
    skills = models.ManyToManyField(Skill, blank=True, related_name="entries")
    tags = models.ManyToManyField(Tag, blank=True, related_name="entries")
    metric_value = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    metric_unit = models.CharField(max_length=30, blank=True)
    metric_before = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    metric_after = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    confidential = models.BooleanField(default=False)
    outcome_pending = models.BooleanField(default=False)
    follow_up_on = models.DateField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True, help_text="Set by delete; cleared by undo.")

    class Meta:
        ordering = ["-occurred_on", "-id"]
        verbose_name_plural = "entries"
        indexes = [
            # Every list reads live entries newest first: the keyset `(occurred_on, id) < (d, i)` is a range
            # of this index, and counting live entries is an index-only scan.
            models.Index(
                fields=["tenant", "-occurred_on", "-id"],
                name="entry_timeline_live",
                condition=models.Q(deleted_at__isnull=True),
            ),
            # One employer's live entries newest first: the employer filter's pages and month counts are
            # ranges of this index, not a walk of the whole log or a bitmap of every entry of the employer.
            models.Index(
                fields=["tenant", "employer", "-occurred_on", "-id"],
                name="entry_employer_timeline_live",
                condition=models.Q(deleted_at__isnull=True),
            ),
            # Entries still without an impact statement: the dashboard tile and the `needs=impact` filter.
            models.Index(
                fields=["tenant", "-occurred_on", "-id"],
                name="entry_without_impact",
                condition=models.Q(deleted_at__isnull=True, impact=""),
            ),
            # Results due (the dashboard's count and card, the timeline's "result due"): live pending
            # entries alone, so counting up to the tile's bound reads the index only.
            models.Index(
                fields=["tenant", "follow_up_on"],
                name="entry_follow_up_live",
                condition=models.Q(deleted_at__isnull=True, outcome_pending=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outcome_pending=False) | models.Q(follow_up_on__isnull=False),
                name="entry_pending_needs_follow_up",
            )
        ]

    def __str__(self) -> str:
        return self.title


def evidence_upload_to(instance: "Evidence", filename: str) -> str:
    # The stored name is random; the person's file name is kept in `original_name`.
    return f"evidence/{instance.tenant_id}/{uuid.uuid4().hex}"


class Evidence(TenantOwnedModel):
    class Kind(models.TextChoices):
        FILE = "file", "File"
        LINK = "link", "Link"

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField(max_length=4, choices=Kind.choices)
    file = models.FileField(upload_to=evidence_upload_to, max_length=255, blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    url = models.URLField(max_length=2000, blank=True)
    title = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "evidence"

    def __str__(self) -> str:
        return self.title or self.original_name or self.url


class EntryVersion(TenantOwnedModel):
    """An entry's text (title, details, impact, measurable result) as it was before a change replaced it.

    Written by `entry_update` whenever one of those fields changes, so no wording is ever lost: an edit, an
    accepted suggestion and a restore each keep the text they replaced. Restoring a version is a change too.
    """

    class Source(models.TextChoices):
        EDIT = "edit", "Edit"
        SUGGESTION = "suggestion", "Accepted suggestion"
        RESTORE = "restore", "Restore"

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="versions")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who made the change that replaced this text.",
    )
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.EDIT)
    # The assist app's suggestion that replaced this text (worklog does not import assist: an id, not a key).
    suggestion_id = models.PositiveBigIntegerField(null=True, blank=True)
    restored_version = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    impact = models.TextField(blank=True)
    metric_value = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    metric_unit = models.CharField(max_length=30, blank=True)
    metric_before = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    metric_after = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["entry", "-created_at"], name="entry_version_history")]

    def __str__(self) -> str:
        return f"{self.title} (before {self.source_label})"

    @property
    def source_label(self) -> str:
        """ "edit", "suggestion 12" or "restore": what replaced this text."""
        if self.source == self.Source.SUGGESTION and self.suggestion_id:
            return f"suggestion {self.suggestion_id}"
        return self.source
