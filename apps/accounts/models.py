from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from apps.accounts.timezones import time_zone_choices
from apps.core.models import TimeStampedModel

# The canonical zones people choose from (apps/accounts/timezones.py). The field takes the function, so
# the migration state does not depend on the machine's tz database.
TIME_ZONE_CHOICES = time_zone_choices()


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField("email address", unique=True)
    name = models.CharField(max_length=150, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC", choices=time_zone_choices)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.email


class Tenant(TimeStampedModel):
    """A workspace. Every tenant-owned row points at one."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True)

    def __str__(self) -> str:
        return self.name


class Membership(TimeStampedModel):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MEMBER = "member", "Member"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="membership_unique_user_tenant")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant} ({self.role})"


class Invite(TimeStampedModel):
    """An invite code. The code itself is shown once; only its SHA-256 is stored."""

    code_hash = models.CharField(max_length=64, unique=True)
    code_prefix = models.CharField(max_length=12, help_text="The first characters, to recognise a code.")
    max_uses = models.PositiveIntegerField(default=1)
    used_count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="invites_created"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(used_count__lte=F("max_uses")), name="invite_used_within_uses"
            ),
            models.CheckConstraint(condition=Q(max_uses__gte=1), name="invite_at_least_one_use"),
        ]

    STATUS_LABELS = {"active": "Active", "used_up": "Used up", "expired": "Expired", "revoked": "Revoked"}

    def __str__(self) -> str:
        return f"{self.code_prefix}… ({self.used_count}/{self.max_uses})"

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.used_count >= self.max_uses:
            return "used_up"
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return "expired"
        return "active"

    @property
    def status_label(self) -> str:
        return self.STATUS_LABELS[self.status]


class InviteRedemption(models.Model):
    invite = models.ForeignKey(Invite, on_delete=models.CASCADE, related_name="redemptions")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invite_redemptions")
    redeemed_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-redeemed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user} redeemed {self.invite.code_prefix}…"


class PersonalAccessToken(TimeStampedModel):
    """A token for scripts and tools, sent as `Authorization: Bearer <token>`. Only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="access_tokens")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="access_tokens")
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    token_prefix = models.CharField(max_length=12)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.token_prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class LoginSession(models.Model):
    """Which sessions a person is signed in with, so they can all be ended at once (deactivation, deletion).

    Recorded on sign-in and forgotten on sign-out (apps.accounts.signals); the session itself lives in the
    session store. An inactive person is signed out on their next request anyway (Django's backend refuses
    inactive users); ending the sessions removes them from the store as well.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="login_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Session of {self.user_id} from {self.created_at:%Y-%m-%d %H:%M}"
