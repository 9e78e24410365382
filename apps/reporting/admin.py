"""Reports in the Django admin: metadata only, like the entries they are written from.

A report's text, title, job description and versions carry what people logged (private reports include
confidential entries), so staff see ids, workspace, kind, status, sizes and cost, never the words. Nothing
can be changed here; the person's own pages and the reporting services do that.
"""

from django.contrib import admin

from apps.reporting.models import Report, ReportShare, ReportVersion
from apps.worklog.admin import MetadataOnlyAdmin


@admin.register(Report)
class ReportAdmin(MetadataOnlyAdmin):
    list_display = [
        "id",
        "tenant",
        "kind",
        "audience",
        "status",
        "version",
        "entry_count",
        "provider",
        "model",
        "drafted_without_ai",
        "prompt_tokens",
        "completion_tokens",
        "cost_micros",
        "created_at",
    ]
    list_filter = ["kind", "audience", "status", "drafted_without_ai", "created_at"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]

    @admin.display(description="entries")
    def entry_count(self, report: Report) -> int:
        return len(report.selected_entry_ids)


@admin.register(ReportVersion)
class ReportVersionAdmin(MetadataOnlyAdmin):
    list_display = ["id", "tenant", "report_id", "number", "section_count", "characters", "created_at"]
    ordering = ["-created_at", "-id"]

    @admin.display(description="sections")
    def section_count(self, version: ReportVersion) -> int:
        return len(version.sections)

    @admin.display(description="characters")
    def characters(self, version: ReportVersion) -> int:
        return len(version.markdown)


@admin.register(ReportShare)
class ReportShareAdmin(MetadataOnlyAdmin):
    list_display = ["id", "tenant", "report_id", "created_at", "expires_at", "revoked_at", "view_count"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    ordering = ["-created_at", "-id"]
