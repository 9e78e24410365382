from django.contrib import admin

from apps.llm.models import LLMRequest


@admin.register(LLMRequest)
class LLMRequestAdmin(admin.ModelAdmin):
    """Read-only: the log is written by the gateway only. It never holds a prompt or an answer."""

    list_display = (
        "created_at",
        "tenant",
        "feature",
        "provider",
        "model",
        "outcome",
        "error_kind",
        "prompt_tokens",
        "completion_tokens",
        "usage_estimated",
        "cost_micros",
        "latency_ms",
        "attempts",
        "job",
    )
    list_filter = ("outcome", "provider", "feature", "usage_estimated", "created_at")
    search_fields = ("idempotency_key", "tenant__slug", "model", "error_kind")
    list_select_related = ("tenant",)
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    raw_id_fields = ("job",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
