"""What the staff dashboards keep: daily snapshots of the business, our own model costs, reconcile runs.

A snapshot is a summary computed from the source tables (events, entries, usage, the ledger); it is
never edited by hand. Computing a day again replaces that day's rows (see services/snapshots.py), so the
schedule, the backfill command and a staff refresh can all run it as often as they like.

Money is integer micros, as everywhere (apps.core.money).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.models import TimeStampedModel


class ProviderCost(TimeStampedModel):
    """What a model provider charges *us*, per million tokens: the "cost to us" behind the margin.

    The rate cards say what we charge; this table says what we pay. Edited by staff in the Django admin.
    Snapshots price tokens with the row in force when they are computed: after a change, recompute the
    days it should apply to with `manage.py metrics_backfill --since YYYY-MM-DD`.
    """

    model = models.CharField(
        max_length=100,
        unique=True,
        help_text="The model name exactly as usage records it (e.g. gpt-4o-mini).",
    )
    input_micros_per_million = models.BigIntegerField(
        help_text="Our cost per 1,000,000 prompt tokens, in micros ($0.15 = 150000)."
    )
    output_micros_per_million = models.BigIntegerField(
        help_text="Our cost per 1,000,000 completion tokens, in micros ($0.60 = 600000)."
    )
    note = models.CharField(max_length=200, blank=True, help_text="Where the price comes from.")

    class Meta:
        ordering = ["model"]
        verbose_name = "model cost to us"
        verbose_name_plural = "model costs to us"
        constraints = [
            models.CheckConstraint(
                condition=Q(input_micros_per_million__gte=0) & Q(output_micros_per_million__gte=0),
                name="provider_cost_not_negative",
            )
        ]

    def __str__(self) -> str:
        return self.model


class DailySnapshot(models.Model):
    """The whole business on one day (METRICS_TIME_ZONE). Flows count what happened that day; stocks
    (active people over 7 and 30 days, balances, workspaces) are the state at the end of it."""

    day = models.DateField(unique=True)
    computed_at = models.DateTimeField()

    signups = models.PositiveIntegerField(default=0)
    invites_issued = models.PositiveIntegerField(default=0)
    invites_redeemed = models.PositiveIntegerField(default=0)
    dau = models.PositiveIntegerField(default=0, help_text="People with an event that day.")
    wau = models.PositiveIntegerField(default=0, help_text="People with an event in the 7 days to it.")
    mau = models.PositiveIntegerField(default=0, help_text="People with an event in the 30 days to it.")
    entries_logged = models.PositiveIntegerField(default=0)
    entries_improved = models.PositiveIntegerField(default=0, help_text="Suggestions accepted.")
    reports_generated = models.PositiveIntegerField(default=0)
    ai_jobs_succeeded = models.PositiveIntegerField(default=0)
    ai_jobs_failed = models.PositiveIntegerField(default=0)
    ai_calls = models.BigIntegerField(default=0)
    tokens_in = models.BigIntegerField(default=0)
    tokens_out = models.BigIntegerField(default=0)
    ai_charged_micros = models.BigIntegerField(default=0, help_text="What the AI meters charged reserves.")
    ai_cost_micros = models.BigIntegerField(default=0, help_text="What those tokens cost us (ProviderCost).")
    topups = models.PositiveIntegerField(default=0)
    topup_revenue_micros = models.BigIntegerField(default=0)
    refunds = models.PositiveIntegerField(default=0)
    refund_micros = models.BigIntegerField(default=0, help_text="Money refunded, as a positive amount.")
    liability_micros = models.BigIntegerField(default=0, help_text="Sum of positive balances at day end.")
    negative_balance_micros = models.BigIntegerField(
        default=0, help_text="Sum of negative balances at day end (owed to us), as a positive amount."
    )
    accounts_negative = models.PositiveIntegerField(default=0)
    workspaces_total = models.PositiveIntegerField(default=0)
    workspaces_quiet = models.PositiveIntegerField(
        default=0, help_text="Workspaces at least 30 days old with no entry created in the last 30 days."
    )

    class Meta:
        ordering = ["day"]

    def __str__(self) -> str:
        return f"Snapshot of {self.day:%Y-%m-%d}"

    @property
    def ai_margin_micros(self) -> int:
        return self.ai_charged_micros - self.ai_cost_micros


class WorkspaceDailySnapshot(models.Model):
    """One workspace on one day; a row only for a workspace that did something that day."""

    day = models.DateField()
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    active_people = models.PositiveIntegerField(default=0)
    entries_logged = models.PositiveIntegerField(default=0)
    entries_improved = models.PositiveIntegerField(default=0)
    reports_generated = models.PositiveIntegerField(default=0)
    ai_jobs_succeeded = models.PositiveIntegerField(default=0)
    ai_jobs_failed = models.PositiveIntegerField(default=0)
    tokens_in = models.BigIntegerField(default=0)
    tokens_out = models.BigIntegerField(default=0)
    ai_charged_micros = models.BigIntegerField(default=0)
    ai_cost_micros = models.BigIntegerField(default=0)
    topup_revenue_micros = models.BigIntegerField(default=0)
    refund_micros = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["day", "tenant_id"]
        constraints = [models.UniqueConstraint(fields=["day", "tenant"], name="workspace_snapshot_once")]
        indexes = [models.Index(fields=["tenant", "day"], name="workspace_snapshot_tenant")]

    def __str__(self) -> str:
        return f"{self.tenant_id} on {self.day:%Y-%m-%d}"


class ModelDailySnapshot(models.Model):
    """AI usage of one model on one day: tokens, what we charged, what it cost us."""

    day = models.DateField()
    model = models.CharField(max_length=100, blank=True)
    ai_calls = models.BigIntegerField(default=0)
    tokens_in = models.BigIntegerField(default=0)
    tokens_out = models.BigIntegerField(default=0)
    ai_charged_micros = models.BigIntegerField(default=0)
    ai_cost_micros = models.BigIntegerField(default=0)
    cost_configured = models.BooleanField(
        default=True, help_text="False: no ProviderCost row for the model, so its cost counted as zero."
    )

    class Meta:
        ordering = ["day", "model"]
        constraints = [models.UniqueConstraint(fields=["day", "model"], name="model_snapshot_once")]

    def __str__(self) -> str:
        return f"{self.model or '(no model)'} on {self.day:%Y-%m-%d}"


class ReconcileRun(models.Model):
    """One run of the reserve reconciliation (`billing_reconcile`): what it checked and what differed."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        STAFF = "staff", "Staff"
        COMMAND = "command", "Command"

    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.SCHEDULE)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    accounts_checked = models.PositiveIntegerField(default=0)
    problem_count = models.PositiveIntegerField(default=0)
    problems = models.JSONField(default=list, blank=True, help_text='[{"account_id", "tenant", "problem"}]')
    error = models.TextField(blank=True, help_text="Set when the run itself broke.")

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            # Staff ask for one check at a time: the database refuses a second waiting request.
            models.UniqueConstraint(
                fields=["trigger"],
                condition=Q(trigger="staff", finished_at__isnull=True),
                name="reconcile_one_staff_request_waiting",
            )
        ]

    def __str__(self) -> str:
        return f"Reconcile {self.started_at:%Y-%m-%d %H:%M} ({self.problem_count} differences)"

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None

    @property
    def is_clean(self) -> bool:
        return self.is_finished and not self.error and self.problem_count == 0
