"""Staff see what was sent to whom, and whether the email went out; the records are written by services."""

from django.contrib import admin

from apps.notifications.models import KnownDevice, Notification, Preference, ReminderSchedule


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "user", "tenant", "kind", "title", "in_app", "read_at", "email_state"]
    list_filter = ["kind", "email_state", "in_app"]
    search_fields = ["user__email", "tenant__slug", "key", "title"]
    list_select_related = ["user", "tenant"]
    raw_id_fields = ["event"]
    date_hierarchy = "created_at"


@admin.register(Preference)
class PreferenceAdmin(ReadOnlyAdmin):
    list_display = ["user", "kind", "in_app", "email", "updated_at"]
    list_filter = ["kind", "in_app", "email"]
    search_fields = ["user__email"]
    list_select_related = ["user"]


@admin.register(ReminderSchedule)
class ReminderScheduleAdmin(ReadOnlyAdmin):
    list_display = ["user", "weekday", "hour", "updated_at"]
    search_fields = ["user__email"]
    list_select_related = ["user"]


@admin.register(KnownDevice)
class KnownDeviceAdmin(ReadOnlyAdmin):
    list_display = ["user", "agent", "network", "first_seen_at", "last_seen_at"]
    search_fields = ["user__email", "agent", "network"]
    list_select_related = ["user"]
