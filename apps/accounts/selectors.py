"""Reads for accounts, workspaces and invites."""

from collections import Counter

from allauth.mfa.models import Authenticator
from django.db.models import Case, Count, F, Q, QuerySet, Value, When
from django.utils import timezone

from apps.accounts.models import Invite, InviteRedemption, Membership, PersonalAccessToken, Tenant, User

INVITE_STATUSES = ("active", "used_up", "expired", "revoked")


def tenant_for_user(user: User) -> Tenant | None:
    """The workspace a signed-in person works in: the one they own, else the oldest they belong to."""
    if not user.is_authenticated:
        return None
    membership = (
        Membership.objects.filter(user=user)
        .select_related("tenant")
        .order_by(Case(When(role=Membership.Role.OWNER, then=Value(0)), default=Value(1)), "created_at")
        .first()
    )
    return membership.tenant if membership else None


def _invite_status_q(status: str) -> Q:
    now = timezone.now()
    not_revoked = Q(revoked_at__isnull=True)
    has_uses = Q(used_count__lt=F("max_uses"))
    not_expired = Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    return {
        "revoked": ~not_revoked,
        "used_up": not_revoked & ~has_uses,
        "expired": not_revoked & has_uses & ~not_expired,
        "active": not_revoked & has_uses & not_expired,
    }[status]


def invite_list(*, status: str = "") -> QuerySet[Invite]:
    queryset = Invite.objects.select_related("created_by").order_by("-created_at", "-id")
    if status in INVITE_STATUSES:
        queryset = queryset.filter(_invite_status_q(status))
    return queryset


def invite_status_counts() -> dict[str, int]:
    aggregates = {status: Count("id", filter=_invite_status_q(status)) for status in INVITE_STATUSES}
    return Invite.objects.aggregate(all=Count("id"), **aggregates)


def invite_redemption_list(*, invite: Invite) -> QuerySet[InviteRedemption]:
    return invite.redemptions.select_related("user").order_by("-redeemed_at", "-id")


def security_summary(*, user: User) -> dict:
    """What the dashboard's security card shows, from the person's few authenticators in one query."""
    authenticators = list(Authenticator.objects.filter(user=user).order_by("pk"))
    counts = Counter(authenticator.type for authenticator in authenticators)
    recovery = next((a for a in authenticators if a.type == Authenticator.Type.RECOVERY_CODES), None)
    recovery_left = None
    if recovery is not None:
        recovery_left = len(recovery.wrap().get_unused_codes())
    return {
        "has_password": user.has_usable_password(),
        "passkey_count": counts.get(Authenticator.Type.WEBAUTHN, 0),
        "totp_enabled": counts.get(Authenticator.Type.TOTP, 0) > 0,
        "recovery_codes_left": recovery_left,
    }


def authenticator_list(*, user: User) -> list[dict]:
    labels = {
        Authenticator.Type.WEBAUTHN: "Passkey",
        Authenticator.Type.TOTP: "Authenticator app",
        Authenticator.Type.RECOVERY_CODES: "Recovery codes",
    }
    rows = []
    for authenticator in Authenticator.objects.filter(user=user).order_by("created_at"):
        if authenticator.type == Authenticator.Type.WEBAUTHN:
            name = authenticator.wrap().name
        elif authenticator.type == Authenticator.Type.RECOVERY_CODES:
            wrapped = authenticator.wrap()
            name = f"{len(wrapped.get_unused_codes())} of {len(wrapped.generate_codes())} unused"
        else:
            name = "Time-based codes"
        rows.append(
            {
                "kind": labels.get(authenticator.type, authenticator.type),
                "name": name,
                "created_at": authenticator.created_at,
                "last_used_at": authenticator.last_used_at,
            }
        )
    return rows


def access_token_list(*, user: User) -> QuerySet[PersonalAccessToken]:
    return (
        PersonalAccessToken.objects.filter(user=user)
        .select_related("tenant")
        .order_by("revoked_at", "-created_at")
    )


def tenant_owner(*, tenant: Tenant) -> User | None:
    """The workspace's owner (the person billing paperwork goes to), or None once there is none."""
    membership = (
        Membership.objects.filter(tenant=tenant, role=Membership.Role.OWNER, user__is_active=True)
        .select_related("user")
        .order_by("created_at", "id")
        .first()
    )
    return membership.user if membership else None


def tenant_other_members(*, tenants: list[Tenant], user: User) -> dict[int, list[User]]:
    """Everyone but `user` who belongs to each of `tenants`, by tenant id, in one query."""
    others: dict[int, list[User]] = {tenant.pk: [] for tenant in tenants}
    memberships = (
        Membership.objects.filter(tenant__in=tenants)
        .exclude(user=user)
        .select_related("user")
        .order_by("created_at", "id")
    )
    for membership in memberships:
        others[membership.tenant_id].append(membership.user)
    return others
