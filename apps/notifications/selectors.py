"""Reads for notifications: always for one person in their workspace.

The recipients' lookups read the accounts, billing and work-log tables (this app sits above them all, like
metrics); it never writes them.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import F, Q, QuerySet
from django.http import Http404

from apps.accounts.models import Membership, Tenant, User
from apps.billing.models import LedgerEntry
from apps.notifications.kinds import KINDS, Kind, KindInfo
from apps.notifications.models import Notification, Preference, ReminderSchedule
from apps.worklog.models import Entry

BELL_LIMIT = 6
PAGE_SIZE = 25


def _mine(*, user, tenant) -> QuerySet[Notification]:
    if tenant is None or user is None or not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(user=user, tenant=tenant, in_app=True)


def notification_list(*, user, tenant, unread_only: bool = False) -> QuerySet[Notification]:
    """The person's in-app notifications, newest first."""
    queryset = _mine(user=user, tenant=tenant)
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    return queryset.order_by("-created_at", "-id")


def notification_unread_count(*, user, tenant) -> int:
    return _mine(user=user, tenant=tenant).filter(read_at__isnull=True).count()


def notification_get(*, user, tenant, pk: int) -> Notification:
    """The person's notification, or 404 (someone else's is a 404 too)."""
    notification = _mine(user=user, tenant=tenant).filter(pk=pk).first()
    if notification is None:
        raise Http404("No such notification.")
    return notification


@dataclass(frozen=True)
class Choice:
    info: KindInfo
    in_app: bool
    email: bool

    @property
    def kind(self) -> str:
        return self.info.kind


def preference_choices(*, user) -> dict[str, Choice]:
    """Every kind with the person's choice (or its default); locked kinds are always on."""
    stored = {row.kind: row for row in Preference.objects.filter(user=user)}
    choices = {}
    for kind, info in KINDS.items():
        row = stored.get(kind)
        if info.locked:
            choices[kind] = Choice(info, True, True)
        elif row is None:
            choices[kind] = Choice(info, info.in_app, info.email)
        else:
            choices[kind] = Choice(info, row.in_app, row.email)
    return choices


def reminder_schedule_for(*, user) -> ReminderSchedule:
    """The person's reminder time (the default, unsaved, when they never chose one)."""
    return ReminderSchedule.objects.filter(user=user).first() or ReminderSchedule(user=user)


def workspace_members(*, tenant: Tenant) -> list[User]:
    """Active people of a workspace: who hears about its balance."""
    return list(User.objects.filter(memberships__tenant=tenant, is_active=True).order_by("pk").distinct())


def member_of(*, user: User | None, tenant: Tenant | None) -> bool:
    if user is None or tenant is None or not user.is_active:
        return False
    return Membership.objects.filter(user=user, tenant=tenant).exists()


def reminder_candidates() -> QuerySet[User]:
    """People who turned the weekly reminder on (either channel), with their chosen time."""
    opted_in = Preference.objects.filter(Q(in_app=True) | Q(email=True), kind=Kind.CAPTURE_REMINDER)
    return (
        User.objects.filter(is_active=True, pk__in=opted_in.values("user_id"))
        .select_related("reminder_schedule")
        .order_by("pk")
    )


def logged_since(*, user: User, since: datetime) -> bool:
    """Whether the person logged an entry (still live) since the instant `since`."""
    return Entry.objects.filter(author=user, created_at__gte=since, deleted_at__isnull=True).exists()


def follow_ups_due(*, latest_day: date) -> QuerySet[Entry]:
    """Live entries waiting for their result with a follow-up date by `latest_day`, whose author is still an
    active member of the entry's workspace: across all workspaces, for the hourly schedule."""
    return (
        Entry.objects.filter(
            outcome_pending=True,
            deleted_at__isnull=True,
            follow_up_on__lte=latest_day,
            author__is_active=True,
            author__memberships__tenant=F("tenant"),
        )
        .select_related("author", "tenant")
        .order_by("follow_up_on", "id")
    )


def ledger_entry_facts(*, tenant: Tenant, entry_id) -> dict | None:
    """What a credit was (memo, amount, balance after), for the top-up notification."""
    if not isinstance(entry_id, int):
        return None
    return (
        LedgerEntry.objects.filter(tenant=tenant, pk=entry_id)
        .values("memo", "amount_micros", "balance_after_micros", "account__currency")
        .first()
    )


def keys_existing(*, user_keys: list[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which (person, key) pairs already have a notification: one query."""
    if not user_keys:
        return set()
    users = {user_id for user_id, _key in user_keys}
    keys = {key for _user_id, key in user_keys}
    rows = Notification.objects.filter(user_id__in=users, key__in=keys).values_list("user_id", "key")
    return set(rows) & set(user_keys)
