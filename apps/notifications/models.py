"""Notifications for one person, their choices per kind and channel, their reminder time and known devices.

A notification's `key` says what it is about ("event:123", "balance_low:4:987", "capture_reminder:2025-W14");
it is unique per person in the database, so the same fact never makes two notifications for one person
however often the event is delivered or the schedule runs.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.models import TenantOwnedModel
from apps.notifications.kinds import Kind


class Notification(TenantOwnedModel):
    class EmailState(models.TextChoices):
        NONE = "none", "Not emailed"
        PENDING = "pending", "To be emailed"
        SENT = "sent", "Emailed"
        FAILED = "failed", "Email failed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    key = models.CharField(max_length=200, help_text="What it is about; unique per person.")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, help_text="Plain text; paragraphs separated by blank lines.")
    url = models.CharField(max_length=300, blank=True, help_text="A path on this site to act on it.")
    action_label = models.CharField(max_length=60, blank=True)
    event = models.ForeignKey(
        "core.Event", null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    in_app = models.BooleanField(default=True, help_text="Shown under the bell.")
    read_at = models.DateTimeField(null=True, blank=True)
    email_state = models.CharField(max_length=10, choices=EmailState.choices, default=EmailState.NONE)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="notification_unique_key_per_person")
        ]
        indexes = [
            models.Index(fields=["user", "tenant", "-created_at", "-id"], name="notification_list"),
            models.Index(
                fields=["user", "tenant"],
                condition=Q(in_app=True, read_at__isnull=True),
                name="notification_unread",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} for {self.user_id}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Preference(models.Model):
    """A person's choice for one kind; without a row, the kind's defaults apply (kinds.py)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=40, choices=Kind.choices)
    in_app = models.BooleanField()
    email = models.BooleanField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="preference_unique_kind")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}: in-app {self.in_app}, email {self.email}"


class ReminderSchedule(models.Model):
    """When the weekly reminder goes out, in the person's own time zone (their profile's)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    DEFAULT_WEEKDAY = Weekday.FRIDAY
    DEFAULT_HOUR = 16

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminder_schedule"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices, default=DEFAULT_WEEKDAY)
    hour = models.PositiveSmallIntegerField(default=DEFAULT_HOUR)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(hour__lte=23), name="reminder_hour_in_day"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="reminder_weekday_in_week"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.hour:02d}:00 for {self.user_id}"


class KnownDevice(models.Model):
    """A browser family on an IP network a person signed in from; a new one is worth telling them about."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="known_devices")
    agent = models.CharField(max_length=100, help_text='The browser and system, e.g. "Firefox on Linux".')
    network = models.CharField(max_length=50, help_text="The /24 (IPv4) or /64 (IPv6) signed in from.")
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "agent", "network"], name="known_device_unique")
        ]

    def __str__(self) -> str:
        return f"{self.agent} from {self.network}"
