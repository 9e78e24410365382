from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from apps.accounts import deletion, services
from apps.accounts.models import Invite, InviteRedemption, Membership, Tenant, User
from apps.core.errors import ApplicationError


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["tenant", "user"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["name", "time_zone"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    inlines = [MembershipInline]
    list_filter = ["is_active", "is_staff"]
    actions = ["deactivate_selected", "reactivate_selected"]

    @admin.action(description="Deactivate selected people (signs them out everywhere at once)")
    def deactivate_selected(self, request, queryset):
        done = 0
        for user in queryset.filter(is_active=True):
            try:
                deletion.user_deactivate(user=user, actor=request.user, reason="Django admin")
            except ApplicationError as exc:
                messages.error(request, f"{user.email}: {exc.message}")
            else:
                done += 1
        if done:
            messages.success(request, f"Deactivated {done} person(s): signed out everywhere, tokens stopped.")

    @admin.action(description="Reactivate selected people")
    def reactivate_selected(self, request, queryset):
        done = 0
        for user in queryset.filter(is_active=False):
            try:
                deletion.user_reactivate(user=user, actor=request.user)
            except ApplicationError as exc:
                messages.error(request, f"{user.email}: {exc.message}")
            else:
                done += 1
        if done:
            messages.success(request, f"Reactivated {done} person(s).")

    def save_model(self, request, obj, form, change):
        """Unticking "active" here deactivates through the service, so the person's sessions end too."""
        toggled = change and "is_active" in form.changed_data
        deactivating, reactivating = toggled and not obj.is_active, toggled and obj.is_active
        if deactivating and obj.pk == request.user.pk:
            obj.is_active = True
            messages.error(request, "You cannot deactivate yourself; ask another member of staff.")
        if reactivating and deletion.is_tombstone(obj):
            obj.is_active, reactivating = False, False
            messages.error(request, "A deleted account cannot be reactivated.")
        super().save_model(request, obj, form, change)
        if deactivating and obj.pk != request.user.pk:
            deletion.user_deactivate(user=obj, actor=request.user, reason="Django admin")
        if reactivating:
            deletion.user_reactivate(user=obj, actor=request.user)


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


class InviteRedemptionInline(admin.TabularInline):
    model = InviteRedemption
    extra = 0
    can_delete = False
    readonly_fields = ["user", "redeemed_at", "ip_address"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    list_display = ["code_prefix", "note", "used_count", "max_uses", "expires_at", "revoked_at", "created_at"]
    list_filter = ["revoked_at", "expires_at"]
    search_fields = ["code_prefix", "note"]
    readonly_fields = ["code_hash", "code_prefix", "used_count", "revoked_at", "created_by", "created_at"]
    fields = [
        "code_prefix",
        "code_hash",
        "note",
        "max_uses",
        "used_count",
        "expires_at",
        "revoked_at",
        "created_by",
        "created_at",
    ]
    inlines = [InviteRedemptionInline]
    actions = ["revoke_selected"]

    def has_add_permission(self, request):
        # Codes are made by `invite_create` so they are shown once and only hashed; use the Invites page.
        return False

    @admin.action(description="Revoke selected invites")
    def revoke_selected(self, request, queryset):
        for invite in queryset:
            services.invite_revoke(invite=invite, actor=request.user)
        messages.success(request, f"Revoked {queryset.count()} invite(s).")
