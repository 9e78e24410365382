from django.contrib import admin

from apps.core.money import format_micros
from apps.metrics.models import ProviderCost, ReconcileRun


@admin.register(ProviderCost)
class ProviderCostAdmin(admin.ModelAdmin):
    """What models cost us per 1M tokens. After a change, recompute the days it applies to with
    `manage.py metrics_backfill --since YYYY-MM-DD` (snapshots keep the cost they were computed with)."""

    list_display = ["model", "input_per_million", "output_per_million", "note", "updated_at"]
    search_fields = ["model"]

    @admin.display(description="Prompt, per 1M tokens")
    def input_per_million(self, obj):
        return format_micros(obj.input_micros_per_million)

    @admin.display(description="Completion, per 1M tokens")
    def output_per_million(self, obj):
        return format_micros(obj.output_micros_per_million)


@admin.register(ReconcileRun)
class ReconcileRunAdmin(admin.ModelAdmin):
    """Runs are written by the reconcile task only."""

    list_display = ["started_at", "trigger", "accounts_checked", "problem_count", "finished_at"]
    list_filter = ["trigger"]
    readonly_fields = [field.name for field in ReconcileRun._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
