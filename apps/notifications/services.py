"""Writes for notifications: delivering drafts (in-app and email), reading, preferences, unsubscribing,
remembering sign-in devices, and the two scheduled sweeps (weekly reminder, follow-ups due).

Delivery is idempotent: a notification's key is unique per person in the database, so an event delivered
twice, or a schedule run twice, makes one notification and one email. Email goes out from a django-q2 task
queued when the notification's transaction commits, never inside a request.
"""

import logging
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django_q.tasks import async_task

from apps.accounts.models import Tenant, User
from apps.accounts.selectors import tenant_for_user
from apps.core.dates import day_start
from apps.core.errors import ValidationFailed
from apps.core.events import emit_event
from apps.notifications import selectors
from apps.notifications.devices import agent_family, ip_network
from apps.notifications.emails import email_build, unsubscribe_token_read
from apps.notifications.kinds import KINDS, Kind
from apps.notifications.models import KnownDevice, Notification, Preference, ReminderSchedule

logger = logging.getLogger(__name__)

EMAIL_TASK = "apps.notifications.tasks.notification_email_send"


@dataclass(frozen=True)
class Draft:
    """A notification to make for one person, if their preferences want it."""

    user: User
    tenant: Tenant
    kind: str
    key: str
    title: str
    body: str = ""
    url: str = ""
    action_label: str = ""
    event_id: int | None = None


def zone_of(user: User) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(user.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


# ----------------------------------------------------------------------------------------------- delivery


def _email_enqueue(notification_id: int) -> None:
    async_task(
        EMAIL_TASK, notification_id, task_name=f"notification-email-{notification_id}", group="notifications"
    )


def notifications_deliver(*, drafts: list[Draft]) -> list[Notification]:
    """Make each draft a notification unless the person turned both channels off or already has it.

    Returns the notifications made now. Those wanted by email are handed to the email task on commit.
    """
    made = []
    choices_by_user: dict[int, dict] = {}
    for draft in drafts:
        if draft.user.pk not in choices_by_user:
            choices_by_user[draft.user.pk] = selectors.preference_choices(user=draft.user)
        choice = choices_by_user[draft.user.pk][draft.kind]
        if not (choice.in_app or choice.email):
            continue
        try:
            with transaction.atomic():
                notification = Notification.objects.create(
                    tenant=draft.tenant,
                    user=draft.user,
                    kind=draft.kind,
                    key=draft.key[:200],
                    title=draft.title[:200],
                    body=draft.body,
                    url=draft.url[:300],
                    action_label=draft.action_label[:60],
                    event_id=draft.event_id,
                    in_app=choice.in_app,
                    email_state=(
                        Notification.EmailState.PENDING if choice.email else Notification.EmailState.NONE
                    ),
                )
        except IntegrityError:
            continue  # this person was already told (the unique key): a repeat delivery
        made.append(notification)
        if choice.email:
            transaction.on_commit(lambda pk=notification.pk: _email_enqueue(pk))
    return made


def notification_email_send(*, notification_id: int) -> str:
    """Send a pending notification's email once: the row is claimed by one conditional UPDATE first, so a
    task delivered twice sends one message. A failure is kept on the row (shown in the admin)."""
    claimed = Notification.objects.filter(
        pk=notification_id, email_state=Notification.EmailState.PENDING
    ).update(email_state=Notification.EmailState.SENT, emailed_at=timezone.now())
    if not claimed:
        return "not pending"
    notification = Notification.objects.select_related("user").get(pk=notification_id)
    if not notification.user.is_active or not notification.user.email:
        Notification.objects.filter(pk=notification_id).update(
            email_state=Notification.EmailState.FAILED, email_error="The person has no active address."
        )
        return "no address"
    try:
        email_build(notification).send()
    except Exception as exc:
        logger.exception("notification %s: the email could not be sent", notification_id)
        Notification.objects.filter(pk=notification_id).update(
            email_state=Notification.EmailState.FAILED, email_error=f"{type(exc).__name__}: {exc}"[:300]
        )
        return "failed"
    return "sent"


# ----------------------------------------------------------------------------------------------- reading


def notification_mark_read(*, notification: Notification) -> Notification:
    if notification.read_at is None:
        now = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        notification.read_at = now
    return notification


def notification_mark_all_read(*, user: User, tenant: Tenant | None) -> int:
    """Mark every unread in-app notification of the person read; returns how many."""
    return selectors.notification_list(user=user, tenant=tenant, unread_only=True).update(
        read_at=timezone.now()
    )


# ----------------------------------------------------------------------------------------------- preferences


@transaction.atomic
def preferences_update(
    *, user: User, choices: dict[str, tuple[bool, bool]], reminder_weekday: int, reminder_hour: int
) -> None:
    """Save the person's channel choice per kind (locked kinds stay on) and the weekly reminder's time."""
    unknown = set(choices) - set(KINDS)
    if unknown:
        raise ValidationFailed(f"Unknown notification kinds: {', '.join(sorted(unknown))}.")
    if reminder_weekday not in ReminderSchedule.Weekday.values:
        raise ValidationFailed("Choose a day of the week for the reminder.", field="reminder_weekday")
    if not 0 <= reminder_hour <= 23:
        raise ValidationFailed("Choose an hour between 0 and 23 for the reminder.", field="reminder_hour")
    for kind, (in_app, email) in choices.items():
        if KINDS[kind].locked:
            continue
        Preference.objects.update_or_create(
            user=user, kind=kind, defaults={"in_app": bool(in_app), "email": bool(email)}
        )
    ReminderSchedule.objects.update_or_create(
        user=user, defaults={"weekday": reminder_weekday, "hour": reminder_hour}
    )
    emit_event(
        "notifications.preferences.updated",
        tenant=tenant_for_user(user),
        actor=user,
        choices={kind: list(value) for kind, value in choices.items()},
        reminder_weekday=reminder_weekday,
        reminder_hour=reminder_hour,
    )


def _claim_user(token: str) -> tuple[User, str]:
    claim = unsubscribe_token_read(token)
    user = User.objects.filter(pk=claim.user_id, is_active=True).first() if claim else None
    if claim is None or user is None or claim.kind not in KINDS:
        raise ValidationFailed(
            "This unsubscribe link is not valid: it may have been cut short when it was copied. Sign in and "
            "change what you get by email in your notification settings."
        )
    if KINDS[claim.kind].locked:
        raise ValidationFailed("Security alerts are always sent by email, so they cannot be turned off.")
    return user, claim.kind


@transaction.atomic
def email_subscription_set(*, token: str, subscribed: bool) -> tuple[User, str]:
    """Turn one kind's email on or off for the person a signed unsubscribe token names (signed out)."""
    user, kind = _claim_user(token)
    in_app = selectors.preference_choices(user=user)[kind].in_app
    Preference.objects.update_or_create(
        user=user, kind=kind, defaults={"in_app": in_app, "email": subscribed}
    )
    emit_event(
        "notifications.email.subscribed" if subscribed else "notifications.email.unsubscribed",
        tenant=tenant_for_user(user),
        actor=user,
        notification_kind=kind,
    )
    return user, kind


def email_subscription_peek(*, token: str) -> tuple[User, str]:
    """Who and what a token names, for the confirmation page; the same checks as changing it."""
    return _claim_user(token)


# ----------------------------------------------------------------------------------------------- sign-ins


def sign_in_record(*, user: User, user_agent: str, ip_address: str) -> tuple[KnownDevice, bool]:
    """Remember the browser family and network of a sign-in; (device, new). A new one, for a person who had
    signed in before, is announced as `user.new_device_sign_in` (the first sign-in ever is not)."""
    agent, network = agent_family(user_agent), ip_network(ip_address)
    now = timezone.now()
    with transaction.atomic():
        seen_before = KnownDevice.objects.filter(user=user).exists()
        device, created = KnownDevice.objects.get_or_create(
            user=user, agent=agent, network=network, defaults={"first_seen_at": now, "last_seen_at": now}
        )
        if not created:
            KnownDevice.objects.filter(pk=device.pk).update(last_seen_at=now)
        elif seen_before:
            emit_event(
                "user.new_device_sign_in",
                tenant=tenant_for_user(user),
                actor=user,
                device=device.pk,
                agent=agent,
                network=network,
            )
    return device, created and seen_before


# ----------------------------------------------------------------------------------------------- schedules


def _week_monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _reminder_due_week(schedule: ReminderSchedule, zone, now: datetime) -> date | None:
    """The Monday of the week whose reminder is due at `now` (its hour came, within the grace), or None."""
    grace = timedelta(hours=settings.NOTIFICATIONS_REMINDER_GRACE_HOURS)
    this_monday = _week_monday(now.astimezone(zone).date())
    for monday in (this_monday, this_monday - timedelta(days=7)):  # a late Sunday reminder runs into Monday
        due_day = monday + timedelta(days=schedule.weekday)
        due = datetime.combine(due_day, time(schedule.hour), tzinfo=zone)
        if due <= now < due + max(grace, timedelta(hours=1)):
            return monday
    return None


def capture_reminders_send(*, now: datetime | None = None) -> int:
    """The weekly reminder for everyone whose chosen hour has come in their time zone, unless they logged
    something that week. Safe to run twice: the key is per person per ISO week. Returns how many were made."""
    now = now or timezone.now()
    drafts = []
    for user in selectors.reminder_candidates():
        zone = zone_of(user)
        schedule = getattr(user, "reminder_schedule", None) or ReminderSchedule(user=user)
        monday = _reminder_due_week(schedule, zone, now)
        if monday is None:
            continue
        if selectors.logged_since(user=user, since=day_start(monday, zone)):
            continue
        tenant = tenant_for_user(user)
        if tenant is None:
            continue
        year, week, _ = monday.isocalendar()
        drafts.append(
            Draft(
                user=user,
                tenant=tenant,
                kind=Kind.CAPTURE_REMINDER,
                key=f"capture_reminder:{year}-W{week:02d}",
                title="A minute to log your week?",
                body=(
                    "Nothing is in your log yet for the week of "
                    f"{date_format(monday, 'M j')}. Write down what you did while you still remember the "
                    "details: the problem, what you did and what came of it.\n\n"
                    "Press N on any page to log an entry in under a minute."
                ),
                url=reverse("worklog_entry_create"),
                action_label="Log work",
            )
        )
    return len(notifications_deliver(drafts=drafts))


def follow_ups_send(*, now: datetime | None = None) -> int:
    """A notification per entry whose follow-up date has come in its author's time zone (from
    NOTIFICATIONS_FOLLOW_UP_HOUR on the day itself), once per entry and follow-up date. Safe to run twice."""
    now = now or timezone.now()
    hour = settings.NOTIFICATIONS_FOLLOW_UP_HOUR
    # No time zone is more than a day ahead of UTC, so this bounds every author's today.
    candidates = []
    for entry in selectors.follow_ups_due(
        latest_day=now.astimezone(zoneinfo.ZoneInfo("UTC")).date() + timedelta(days=1)
    ):
        local = now.astimezone(zone_of(entry.author))
        if entry.follow_up_on > local.date() or (entry.follow_up_on == local.date() and local.hour < hour):
            continue
        candidates.append((entry, f"follow_up:{entry.pk}:{entry.follow_up_on.isoformat()}"))
    done = selectors.keys_existing(user_keys=[(entry.author_id, key) for entry, key in candidates])
    drafts = [
        Draft(
            user=entry.author,
            tenant=entry.tenant,
            kind=Kind.FOLLOW_UP_DUE,
            key=key,
            title=f"Follow up: {entry.title}",
            body=(
                f"You logged “{entry.title}” on {date_format(entry.occurred_on, 'M j, Y')} and were "
                "waiting to see what came of it, with a follow-up on "
                f"{date_format(entry.follow_up_on, 'M j, Y')}.\n\n"
                "Add the result while it is fresh (numbers help), or move the follow-up date."
            ),
            url=reverse("worklog_entry_edit", kwargs={"pk": entry.pk}),
            action_label="Add the result",
        )
        for entry, key in candidates
        if (entry.author_id, key) not in done
    ]
    return len(notifications_deliver(drafts=drafts))
