"""From events to notifications: which events tell whom what.

`apps.core.events.event_emitted` fires once an event's transaction has committed; the receiver (receivers.py)
queues `event_notify(event_id)` for the kinds handled here, and the task turns the event into drafts, one per
person, and delivers them (services.notifications_deliver: preferences, the unique key, email on commit).

Each handler returns drafts whose key says what makes two of them the same notification:
- a low balance is one notification per crossing: the key names the credit that last lifted the balance, so
  holds placed and released again do not repeat it and the next top-up re-arms it;
- work refused is one per workspace per day (in the recipient's time zone);
- everything else is one per event.
"""

from collections.abc import Callable

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from apps.core.jobs import job_get
from apps.core.models import Event
from apps.core.money import format_micros
from apps.notifications import selectors
from apps.notifications.kinds import Kind
from apps.notifications.services import Draft, notifications_deliver, zone_of

# The memo billing gives the credit of an automatic top-up (apps/billing/services/topups.py, webhooks.py).
AUTO_TOPUP_MEMO = "Automatic top-up"
# Jobs people start and then wait for: AI work, exports and imports (not the quick import check).
JOB_KINDS = {
    "report.generate": "report",
    "report.section": "report section",
    "assist.improve": "improvement run",
    "worklog.export": "export",
    "worklog.import": "import",
}

Handler = Callable[[Event], list[Draft]]
HANDLERS: dict[str, Handler] = {}
# Whether an event of the kind may tell anyone, from its data alone: the receiver queues nothing otherwise.
WANTS: dict[str, Callable[[dict], bool]] = {}


def handles(*kinds: str, wants: Callable[[dict], bool] = lambda data: True) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for kind in kinds:
            HANDLERS[kind], WANTS[kind] = handler, wants
        return handler

    return register


def event_wanted(event: Event) -> bool:
    """Cheap (no query): could this event make a notification? Decides whether a task is queued at all."""
    return event.kind in HANDLERS and WANTS[event.kind](event.data or {})


def _money(micros, currency: str = "usd") -> str:
    return format_micros(int(micros or 0), currency or "usd")


def _members(event: Event) -> list:
    return selectors.workspace_members(tenant=event.tenant) if event.tenant_id else []


def _per_day(prefix: str, event: Event) -> Callable:
    """A key per workspace and day (the recipient's day): at most one such notification a day."""
    return lambda user: f"{prefix}:{event.tenant_id}:{event.created_at.astimezone(zone_of(user)).date()}"


def _to_members(event: Event, *, kind: str, key, title: str, body: str, action_label: str) -> list[Draft]:
    """The same billing notification for every active member of the event's workspace; `key` is a string
    or a function of the recipient."""
    return [
        Draft(
            user=user,
            tenant=event.tenant,
            kind=kind,
            key=key(user) if callable(key) else key,
            title=title,
            body=body,
            url=reverse("billing_home"),
            action_label=action_label,
            event_id=event.pk,
        )
        for user in _members(event)
    ]


# An automatic top-up on its way covers a low balance; its own notification says how it went.
@handles("billing.reserve.low", wants=lambda data: not data.get("auto_topup_started"))
def _balance_low(event: Event) -> list[Draft]:
    data = event.data
    currency = data.get("currency", "usd")
    available, threshold = (
        _money(data.get("available_micros"), currency),
        _money(data.get("threshold_micros"), currency),
    )
    return _to_members(
        event,
        kind=Kind.BALANCE_LOW,
        key=f"balance_low:{event.tenant_id}:{data.get('rearmed_by_entry_id') or 0}",
        title=f"Your balance is under {threshold}",
        body=(
            f"{available} is available in the reserve of {event.tenant.name}, under the {threshold} you "
            "asked to hear about.\n\nTop up, or turn on automatic top-up, so AI work is not refused."
        ),
        action_label="Top up",
    )


@handles("billing.reserve.refused")
def _balance_refused(event: Event) -> list[Draft]:
    data = event.data
    needed, available = _money(data.get("needed_micros")), _money(max(0, data.get("available_micros") or 0))
    return _to_members(
        event,
        kind=Kind.BALANCE_REFUSED,
        key=_per_day("balance_refused", event),
        title="Work was refused: the reserve is used up",
        body=(
            f"Work in {event.tenant.name} needed {needed} and {available} was available, so it did not "
            "start and nothing was charged for it.\n\nTop up to carry on. You hear about this at most once "
            "a day."
        ),
        action_label="Top up",
    )


def _is_automatic(data: dict) -> bool:
    return str(data.get("memo") or "").startswith(AUTO_TOPUP_MEMO)


@handles("billing.reserve.credited", wants=_is_automatic)
def _auto_topup_succeeded(event: Event) -> list[Draft]:
    facts = selectors.ledger_entry_facts(tenant=event.tenant, entry_id=event.data.get("entry_id"))
    if facts is None or not facts["memo"].startswith(AUTO_TOPUP_MEMO):
        return []
    currency = facts["account__currency"]
    amount, balance = (
        _money(facts["amount_micros"], currency),
        _money(facts["balance_after_micros"], currency),
    )
    return _to_members(
        event,
        kind=Kind.AUTO_TOPUP_SUCCEEDED,
        key=f"event:{event.pk}",
        title=f"Automatic top-up: {amount} added",
        body=f"The saved card of {event.tenant.name} was charged {amount}. The balance is now {balance}.",
        action_label="See billing",
    )


# Declined: billing turned automatic top-up off (one notification each time). Failed: a charge that did
# not go through for another reason (Stripe unreachable); billing tries again at the next debit under the
# threshold, so that is told at most once a day.
@handles("billing.auto_topup.declined", "billing.auto_topup.failed")
def _auto_topup_failed(event: Event) -> list[Draft]:
    reason = str(event.data.get("reason") or "The payment failed.").strip()
    if event.kind == "billing.auto_topup.declined":
        title, key = "Automatic top-up failed and was turned off", f"event:{event.pk}"
        after = (
            f"Automatic top-up of {event.tenant.name} stays off until it is turned on again on the billing "
            "page. Top up by hand to keep AI work going."
        )
    else:
        title, key = "Automatic top-up failed", _per_day("auto_topup_failed", event)
        after = (
            "Nothing was charged. It is tried again the next time the balance is used; top up by hand if "
            "work cannot wait. You hear about this at most once a day."
        )
    return _to_members(
        event,
        kind=Kind.AUTO_TOPUP_FAILED,
        key=key,
        title=title,
        body=f"{reason}\n\n{after}",
        action_label="Open billing",
    )


@handles("job.succeeded", "job.failed", wants=lambda data: data.get("job_kind") in JOB_KINDS)
def _job_finished(event: Event) -> list[Draft]:
    what = JOB_KINDS.get(event.data.get("job_kind", ""))
    job_id = event.data.get("job")
    if what is None or not isinstance(job_id, int):
        return []
    if not selectors.member_of(user=event.actor, tenant=event.tenant):
        return []
    job = job_get(tenant=event.tenant, pk=job_id)
    if job is None:
        return []
    page = reverse("job_detail", kwargs={"pk": job.pk})
    if event.kind == "job.succeeded":
        kind, title = Kind.JOB_SUCCEEDED, f"Done: {job.label}"
        body = f"Your {what} finished."
        url, label = (job.next_url or page), ("Open it" if job.next_url else "See the job")
    else:
        kind, title = Kind.JOB_FAILED, f"Failed: {job.label}"
        error = str(event.data.get("error") or job.error or "").strip()
        body = f"Your {what} stopped before it finished.\n\n{error}" if error else f"Your {what} stopped."
        url, label = page, "See the job"
    return [
        Draft(
            user=event.actor,
            tenant=event.tenant,
            kind=kind,
            key=f"event:{event.pk}",
            title=title,
            body=body,
            url=url,
            action_label=label,
            event_id=event.pk,
        )
    ]


@handles("user.new_device_sign_in")
def _new_sign_in(event: Event) -> list[Draft]:
    user = event.actor
    if user is None or event.tenant is None:
        return []
    agent, network = event.data.get("agent", "an unknown browser"), event.data.get("network", "unknown")
    when = date_format(timezone.localtime(event.created_at, zone_of(user)), "M j, Y, H:i")
    return [
        Draft(
            user=user,
            tenant=event.tenant,
            kind=Kind.NEW_SIGN_IN,
            key=f"event:{event.pk}",
            title=f"New sign-in from {agent}",
            body=(
                f"Your account was signed in to from {agent} on the network {network}, on {when} "
                f"({user.time_zone or 'UTC'}).\n\nIf this was you, there is nothing to do. If it was not, "
                "change your password now and check your passkeys and two-factor settings."
            ),
            url=reverse("mfa_index"),
            action_label="Review security",
            event_id=event.pk,
        )
    ]


def event_notify(*, event_id: int) -> int:
    """Turn one event into notifications; safe to run twice (the keys). Returns how many were made now."""
    event = Event.objects.select_related("tenant", "actor").filter(pk=event_id).first()
    if event is None or not event_wanted(event):
        return 0
    return len(notifications_deliver(drafts=HANDLERS[event.kind](event)))
