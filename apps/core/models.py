import uuid

from django.conf import settings
from django.db import models
from django.db.models import Value
from django.db.models.functions import Cast


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class TenantQuerySet(models.QuerySet):
    def for_tenant(self, tenant):
        """The rows of `tenant`. The id is compared as a bigint, the column's type: with server-side binding a
        small id is sent as a smallint, the comparison becomes cross-type, and btree_gin's operator classes
        (the work log's search index, `GIN (tenant_id, search_document)`) cannot use it, so the index was
        scanned for every workspace's matches. Btree indexes work either way."""
        if tenant is None:
            return self.none()
        return self.filter(tenant_id=Cast(Value(tenant.pk), models.BigIntegerField()))


class TenantOwnedModel(TimeStampedModel):
    """A row that belongs to exactly one workspace. Read it through selectors that take the tenant."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


class Event(models.Model):
    """Something that happened, for the audit trail and the event log (see emit_event)."""

    kind = models.CharField(max_length=100, db_index=True)
    tenant = models.ForeignKey(
        "accounts.Tenant", null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    data = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at"]),
            # The staff event log filters by kind or by actor, newest first, paging by (created_at, id);
            # the daily metrics count kinds over a day's range.
            models.Index(fields=["kind", "-created_at", "-id"], name="event_kind_recent"),
            models.Index(fields=["actor", "-created_at", "-id"], name="event_actor_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} at {self.created_at:%Y-%m-%d %H:%M:%S}"


def job_file_upload_to(instance: "Job", filename: str) -> str:
    # Random, tenant-scoped names: a job's files are only served through the auth-checked job views.
    owner = instance.tenant_id or "system"
    return f"jobs/{owner}/{uuid.uuid4().hex}-{filename}"


class Job(models.Model):
    """One piece of background work a person can watch: status, progress, error and an optional result file.

    Created by `apps.core.jobs.job_enqueue`; the task claims it with `job_run`, so running it twice is safe.
    Each claim is a new attempt (`attempts` counts them); only the current attempt may move the job on.
    Money is integer micros: `estimate_micros` is the most the work may cost, shown before it starts;
    `cost_micros` is what was actually charged, summed over all attempts.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    tenant = models.ForeignKey(
        "accounts.Tenant", null=True, blank=True, on_delete=models.CASCADE, related_name="jobs"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    kind = models.CharField(max_length=60, db_index=True)
    label = models.CharField(max_length=200, help_text="What the job does, in words a person reads.")
    func_path = models.CharField(max_length=200)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    step = models.CharField(max_length=120, blank=True, help_text="What the job is doing now.")
    error = models.TextField(blank=True)
    summary = models.JSONField(default=dict, blank=True, help_text="What the job did, e.g. counts.")
    input_file = models.FileField(upload_to=job_file_upload_to, max_length=255, blank=True)
    result_file = models.FileField(upload_to=job_file_upload_to, max_length=255, blank=True)
    result_name = models.CharField(max_length=200, blank=True, help_text="The download's file name.")
    result_content_type = models.CharField(max_length=100, blank=True)
    next_url = models.CharField(max_length=300, blank=True, help_text="Where to go once the job is done.")
    retryable = models.BooleanField(
        default=True, help_text="Whether a failed or cancelled run may be started again with the same input."
    )
    estimate_micros = models.BigIntegerField(default=0, help_text="The most the work may cost, in micros.")
    cost_micros = models.BigIntegerField(default=0, help_text="What the work was charged, in micros.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "kind", "-created_at"], name="job_tenant_kind")]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def can_cancel(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def can_retry(self) -> bool:
        return self.retryable and self.status in (self.Status.FAILED, self.Status.CANCELLED)

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.progress_total:
            return 0
        return min(100, int(self.progress_done * 100 / self.progress_total))
