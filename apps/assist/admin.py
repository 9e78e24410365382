"""AI help on entries in the Django admin: metadata only, like the work log's entries.

Suggestions hold a person's own words (and a model's rewrite of them), often confidential: staff see ids,
workspace, provider, status, counts and cost, never the text. Nothing can be changed here.
"""

from django.contrib import admin

from apps.assist.models import Suggestion, VoiceSettings
from apps.worklog.admin import MetadataOnlyAdmin


@admin.register(Suggestion)
class SuggestionAdmin(MetadataOnlyAdmin):
    list_display = [
        "id",
        "tenant",
        "entry_id",
        "job_id",
        "provider",
        "model",
        "drafted_without_ai",
        "status",
        "field_count",
        "flagged",
        "cost_micros",
        "created_at",
        "decided_at",
    ]
    list_filter = ["status", "provider", "drafted_without_ai", "created_at"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]

    @admin.display(description="fields")
    def field_count(self, obj: Suggestion) -> int:
        return len(obj.fields)

    @admin.display(description="flagged fields")
    def flagged(self, obj: Suggestion) -> int:
        return obj.flagged_count


@admin.register(VoiceSettings)
class VoiceSettingsAdmin(MetadataOnlyAdmin):
    list_display = [
        "id",
        "tenant",
        "user_id",
        "tone",
        "length",
        "person",
        "allow_confidential_external",
        "updated_at",
    ]
    list_filter = ["tone", "length", "person", "allow_confidential_external"]
