"""The work log in the Django admin.

Entries and their evidence are people's own words, often confidential, so staff see metadata only: ids,
workspace, dates, flags, counts and sizes; never a title, body, impact, file name or URL. There is no
detail page (every admin detail page prints the object's name, which for an entry is its title): an
entry's or an evidence item's admin URL opens the list filtered to it. Nothing can be added, changed or
deleted here; writes go through the work log's services.
"""

from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html

from apps.worklog.models import Employer, Entry, Evidence, Project, Skill, Tag


def _per_entry(queryset, aggregate):
    """One number per entry from a related table, as a subquery (no join that multiplies rows)."""
    rows = queryset.filter(entry=OuterRef("pk")).order_by().values("entry").annotate(value=aggregate)
    return Coalesce(Subquery(rows.values("value"), output_field=IntegerField()), 0)


class MetadataOnlyAdmin(admin.ModelAdmin):
    """A read-only list with no detail page; the change URL redirects to the list filtered by id."""

    actions = None
    list_display_links = None
    list_select_related = ["tenant"]
    search_fields = ["tenant__slug", "tenant__name"]
    search_help_text = "Search by workspace slug or name."

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view
        return [
            path("", view(self.changelist_view), name="{}_{}_changelist".format(*info)),
            path("<path:object_id>/", view(self.filtered_list_view), name="{}_{}_change".format(*info)),
        ]

    def filtered_list_view(self, request, object_id: str):
        target = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        object_id = object_id.split("/", 1)[0]
        return redirect(f"{target}?id={object_id}" if object_id.isdigit() else target)


@admin.register(Entry)
class EntryAdmin(MetadataOnlyAdmin):
    list_display = [
        "id",
        "tenant",
        "occurred_on",
        "created_at",
        "updated_at",
        "confidential",
        "outcome_pending",
        "follow_up_on",
        "deleted_at",
        "evidence_items",
        "evidence_size",
        "skill_count",
        "tag_count",
    ]
    list_filter = ["confidential", "outcome_pending", ("deleted_at", admin.EmptyFieldListFilter)]
    date_hierarchy = "occurred_on"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                evidence_items=_per_entry(Evidence.objects, Count("pk")),
                evidence_size=_per_entry(Evidence.objects, Sum("size_bytes")),
                skill_count=_per_entry(Entry.skills.through.objects, Count("pk")),
                tag_count=_per_entry(Entry.tags.through.objects, Count("pk")),
            )
        )

    @admin.display(description="evidence", ordering="evidence_items")
    def evidence_items(self, entry) -> int:
        return entry.evidence_items

    @admin.display(description="evidence bytes", ordering="evidence_size")
    def evidence_size(self, entry) -> int:
        return entry.evidence_size

    @admin.display(description="skills", ordering="skill_count")
    def skill_count(self, entry) -> int:
        return entry.skill_count

    @admin.display(description="tags", ordering="tag_count")
    def tag_count(self, entry) -> int:
        return entry.tag_count


@admin.register(Evidence)
class EvidenceAdmin(MetadataOnlyAdmin):
    list_display = ["id", "tenant", "entry_ref", "kind", "content_type", "size_bytes", "created_at"]
    list_filter = ["kind"]

    @admin.display(description="entry", ordering="entry_id")
    def entry_ref(self, evidence):
        url = reverse("admin:worklog_entry_changelist")
        return format_html('<a href="{}?id={}">{}</a>', url, evidence.entry_id, evidence.entry_id)


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
