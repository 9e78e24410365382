from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from apps.accounts import services
from apps.accounts.models import Invite, InviteRedemption, Membership, Tenant, User


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
