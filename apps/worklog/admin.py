from django.contrib import admin

from apps.worklog.models import Employer, Entry, Evidence, Project, Skill, Tag


class EvidenceInline(admin.TabularInline):
    model = Evidence
    extra = 0
    fields = ["kind", "original_name", "content_type", "size_bytes", "url", "title", "created_at"]
    readonly_fields = fields
    can_delete = False
    show_change_link = False


@admin.register(Entry)
class EntryAdmin(admin.ModelAdmin):
    list_display = ["title", "occurred_on", "tenant", "employer", "project", "confidential", "deleted_at"]
    list_filter = ["confidential", "outcome_pending", ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "tenant__slug", "tenant__name"]
    date_hierarchy = "occurred_on"
    raw_id_fields = ["tenant", "author", "employer", "project"]
    filter_horizontal = ["skills", "tags"]
    readonly_fields = ["created_at", "updated_at"]
    list_select_related = ["tenant", "employer", "project"]
    inlines = [EvidenceInline]


@admin.register(Employer)
class EmployerAdmin(admin.ModelAdmin):
    list_display = ["name", "tenant", "created_at"]
    search_fields = ["name", "tenant__slug"]
    raw_id_fields = ["tenant"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "employer", "tenant", "created_at"]
    search_fields = ["name", "tenant__slug"]
    raw_id_fields = ["tenant", "employer"]


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "tenant"]
    search_fields = ["name", "key", "tenant__slug"]
    raw_id_fields = ["tenant"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "tenant"]
    search_fields = ["name", "tenant__slug"]
    raw_id_fields = ["tenant"]


@admin.register(Evidence)
class EvidenceAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "content_type", "size_bytes", "tenant", "created_at"]
    list_filter = ["kind"]
    search_fields = ["original_name", "url", "tenant__slug"]
    raw_id_fields = ["tenant", "entry"]
    readonly_fields = ["file", "original_name", "content_type", "size_bytes", "created_at", "updated_at"]
