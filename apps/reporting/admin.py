from django.contrib import admin

from apps.reporting.models import Report, ReportShare, ReportVersion


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "audience", "status", "version", "tenant", "cost_micros", "created_at"]
    list_filter = ["kind", "audience", "status", "drafted_without_ai"]
    search_fields = ["title", "tenant__name"]
    readonly_fields = [
        "selected_entry_ids",
        "requirements",
        "generation_notes",
        "job",
        "created_at",
        "updated_at",
    ]
    raw_id_fields = ["tenant", "created_by"]


@admin.register(ReportVersion)
class ReportVersionAdmin(admin.ModelAdmin):
    list_display = ["report", "number", "note", "created_at"]
    raw_id_fields = ["tenant", "report", "created_by"]
    readonly_fields = ["sections", "markdown"]


@admin.register(ReportShare)
class ReportShareAdmin(admin.ModelAdmin):
    list_display = ["report", "created_at", "expires_at", "revoked_at", "view_count"]
    raw_id_fields = ["tenant", "report", "created_by"]
    exclude = ["token"]
