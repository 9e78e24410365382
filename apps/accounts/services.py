"""Writes for accounts, workspaces and invites."""

import hashlib
import secrets
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.text import slugify

from apps.accounts.models import (
    TIME_ZONE_CHOICES,
    Invite,
    InviteRedemption,
    Membership,
    PersonalAccessToken,
    Tenant,
    User,
)
from apps.core.errors import ApplicationError, PermissionDenied, ValidationFailed
from apps.core.events import emit_event

INVITE_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L, U: easy to read aloud
INVITE_CODE_GROUPS = 5  # 5 groups of 4 from 30 symbols: about 98 bits of entropy
INVITE_MAX_USES = 10_000
INVITE_MAX_DAYS = 365


class InviteRejected(ApplicationError):
    field = "invite_code"


class InviteUnknown(InviteRejected):
    def __init__(self):
        super().__init__("We don't recognise this invite code. Check it for typos, or ask for a new one.")


class InviteExpired(InviteRejected):
    def __init__(self):
        super().__init__("This invite code has expired. Ask the person who invited you for a new one.")


class InviteRevoked(InviteRejected):
    def __init__(self):
        super().__init__("This invite code has been withdrawn. Ask the person who invited you for a new one.")


class InviteUsedUp(InviteRejected):
    def __init__(self):
        super().__init__("This invite code has already been used as many times as it allows.")


def invite_code_normalise(code: str) -> str:
    return "".join(code.split()).upper()


def invite_code_hash(code: str) -> str:
    return hashlib.sha256(invite_code_normalise(code).encode()).hexdigest()


def _invite_code_generate() -> str:
    groups = [
        "".join(secrets.choice(INVITE_CODE_ALPHABET) for _ in range(4)) for _ in range(INVITE_CODE_GROUPS)
    ]
    return "AR-" + "-".join(groups)


def invite_create(
    *, created_by: User | None, max_uses: int = 1, expires_in_days: int | None = None, note: str = ""
) -> tuple[Invite, str]:
    """Create an invite and return it with its code. The code is not stored and cannot be shown again."""
    if not 1 <= max_uses <= INVITE_MAX_USES:
        raise ValidationFailed(f"Uses must be between 1 and {INVITE_MAX_USES:,}.", field="uses")
    if expires_in_days is not None and not 1 <= expires_in_days <= INVITE_MAX_DAYS:
        raise ValidationFailed(
            f"Expiry must be between 1 and {INVITE_MAX_DAYS} days, or empty for none.",
            field="expires_in_days",
        )
    code = _invite_code_generate()
    expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    with transaction.atomic():
        invite = Invite.objects.create(
            code_hash=invite_code_hash(code),
            code_prefix=code[:7],
            max_uses=max_uses,
            expires_at=expires_at,
            note=note.strip()[:200],
            created_by=created_by,
        )
        emit_event(
            "invite.created", actor=created_by, invite_id=invite.pk, max_uses=max_uses, expires_at=expires_at
        )
    return invite, code


def invite_revoke(*, invite: Invite, actor: User) -> Invite:
    with transaction.atomic():
        revoked = Invite.objects.filter(pk=invite.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), updated_at=timezone.now()
        )
        if revoked:
            emit_event("invite.revoked", actor=actor, invite_id=invite.pk)
    invite.refresh_from_db()
    return invite


def invite_check(*, code: str) -> Invite:
    """The invite for `code` if it can be redeemed now; otherwise the error that says why not."""
    code = invite_code_normalise(code or "")
    if not code:
        raise InviteUnknown()
    invite = Invite.objects.filter(code_hash=invite_code_hash(code)).first()
    if invite is None:
        raise InviteUnknown()
    status = invite.status
    if status == "revoked":
        raise InviteRevoked()
    if status == "used_up":
        raise InviteUsedUp()
    if status == "expired":
        raise InviteExpired()
    return invite


def invite_redeem(*, code: str, user: User, ip_address: str | None) -> InviteRedemption:
    """Take one use of the invite for `user`.

    The use is taken by one conditional UPDATE, so two sign-ups racing for the last use cannot both
    get it: the database re-checks the condition on the locked row and the loser updates nothing.
    """
    invite = invite_check(code=code)
    now = timezone.now()
    taken = (
        Invite.objects.filter(pk=invite.pk, revoked_at__isnull=True, used_count__lt=F("max_uses"))
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .update(used_count=F("used_count") + 1, updated_at=now)
    )
    if not taken:
        invite_check(code=code)  # raises the reason it stopped being redeemable
        raise InviteUsedUp()
    return InviteRedemption.objects.create(invite=invite, user=user, redeemed_at=now, ip_address=ip_address)


def tenant_create(*, owner: User, name: str) -> Tenant:
    name = name.strip()[:100] or "My workspace"
    base_slug = slugify(name)[:40] or "workspace"
    slug = base_slug
    for _attempt in range(10):
        try:
            with transaction.atomic():
                tenant = Tenant.objects.create(name=name, slug=slug)
                Membership.objects.create(user=owner, tenant=tenant, role=Membership.Role.OWNER)
        except IntegrityError:
            slug = f"{base_slug}-{secrets.token_hex(3)}"
            continue
        emit_event("tenant.created", tenant=tenant, actor=owner, name=name)
        return tenant
    raise ApplicationError("Could not find a free address for the workspace; please try again.")


def _workspace_name_for(user: User) -> str:
    who = user.name.strip() or user.email.split("@")[0]
    return f"{who}'s workspace"


@transaction.atomic
def user_signup_complete(*, user: User, invite_code: str, ip_address: str | None) -> Tenant:
    """Finish a sign-up: redeem the invite and give the new person their own workspace.

    Runs inside the sign-up transaction; if the invite cannot be taken, nothing of the sign-up stays.
    """
    redemption = invite_redeem(code=invite_code, user=user, ip_address=ip_address)
    tenant = tenant_create(owner=user, name=_workspace_name_for(user))
    emit_event("user.signed_up", tenant=tenant, actor=user, invite_id=redemption.invite_id)
    return tenant


def user_profile_update(*, user: User, name: str, time_zone: str) -> User:
    if time_zone not in dict(TIME_ZONE_CHOICES):
        raise ValidationFailed("Choose a time zone from the list.", field="time_zone")
    user.name = name.strip()[:150]
    user.time_zone = time_zone
    user.save(update_fields=["name", "time_zone"])
    emit_event("user.profile_updated", actor=user)
    return user


def tenant_rename(*, tenant: Tenant, actor: User, name: str) -> Tenant:
    name = name.strip()
    if not name:
        raise ValidationFailed("The workspace needs a name.", field="name")
    if len(name) > 100:
        raise ValidationFailed("Keep the workspace name to 100 characters.", field="name")
    is_owner = Membership.objects.filter(tenant=tenant, user=actor, role=Membership.Role.OWNER).exists()
    if not is_owner:
        raise PermissionDenied("Only the workspace owner can rename it.")
    with transaction.atomic():
        old_name = tenant.name
        tenant.name = name
        tenant.save(update_fields=["name", "updated_at"])
        emit_event("tenant.renamed", tenant=tenant, actor=actor, old_name=old_name, name=name)
    return tenant


@transaction.atomic
def admin_ensure(*, email: str, password: str) -> tuple[User, bool]:
    """Create or update the staff admin (and their workspace). Safe to run any number of times."""
    email = email.strip().lower()
    if not email or not password:
        raise ValidationFailed("Both an admin email and a password are needed.")
    user = User.objects.filter(email__iexact=email).first()
    created = user is None
    if created:
        user = User.objects.create_superuser(email=email, password=password, name="Admin")
    else:
        user.is_staff = True
        user.is_superuser = True
        user.is_active = True
        if not user.check_password(password):
            user.set_password(password)
        user.save()
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    if not Membership.objects.filter(user=user).exists():
        tenant_create(owner=user, name="Admin workspace")
    emit_event("admin.ensured", actor=user, created=created)
    return user, created


ACCESS_TOKEN_PREFIX = "arpat_"  # noqa: S105 - a public marker that makes leaked tokens easy to scan for
ACCESS_TOKENS_PER_USER = 50
ACCESS_TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


def access_token_hash(raw: str) -> str:
    return hashlib.sha256(raw.strip().encode()).hexdigest()


def access_token_create(*, user: User, tenant: Tenant, name: str) -> tuple[PersonalAccessToken, str]:
    """Make a token for `user` in `tenant`. The raw token is returned once and never stored."""
    name = name.strip()
    if not name:
        raise ValidationFailed("Give the token a name, so you know later what uses it.", field="name")
    if len(name) > 100:
        raise ValidationFailed("Keep the token name to 100 characters.", field="name")
    if not Membership.objects.filter(user=user, tenant=tenant).exists():
        raise PermissionDenied("You are not a member of that workspace.")
    active = PersonalAccessToken.objects.filter(user=user, revoked_at__isnull=True).count()
    if active >= ACCESS_TOKENS_PER_USER:
        raise ValidationFailed(f"You have {active} active tokens; revoke one you no longer use first.")
    raw = ACCESS_TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = PersonalAccessToken.objects.create(
            user=user, tenant=tenant, name=name, token_hash=access_token_hash(raw), token_prefix=raw[:10]
        )
        emit_event("access_token.created", tenant=tenant, actor=user, token_id=token.pk, name=name)
    return token, raw


def access_token_revoke(*, token: PersonalAccessToken, actor: User) -> PersonalAccessToken:
    with transaction.atomic():
        revoked = PersonalAccessToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if revoked:
            emit_event("access_token.revoked", tenant=token.tenant, actor=actor, token_id=token.pk)
    token.refresh_from_db()
    return token


def access_token_authenticate(*, raw: str) -> PersonalAccessToken | None:
    """The active token for `raw` (with its user and tenant), or None. Records when it was last used.

    A token acts for its user in its workspace only while both still hold: the user is active and is
    still a member of that workspace (leaving or being removed ends every token there at once).
    """
    still_member = Membership.objects.filter(user_id=OuterRef("user_id"), tenant_id=OuterRef("tenant_id"))
    token = (
        PersonalAccessToken.objects.select_related("user", "tenant")
        .filter(token_hash=access_token_hash(raw), revoked_at__isnull=True, user__is_active=True)
        .filter(Exists(still_member))
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > ACCESS_TOKEN_TOUCH_INTERVAL:
        PersonalAccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
