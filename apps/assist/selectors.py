"""Reads for AI help on entries. Every function takes the tenant; another workspace's rows are not found."""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.urls import reverse

from apps.assist.models import Suggestion, VoiceSettings
from apps.billing.errors import InsufficientFunds
from apps.billing.models import ReserveAccount
from apps.billing.selectors import reserve_account_for, reserve_policy_allows
from apps.core.errors import NotFound
from apps.core.models import Job
from apps.core.money import format_micros, micros_to_decimal_string
from apps.worklog import selectors as worklog_selectors
from apps.worklog.models import Entry
from apps.worklog.search import search_filter

IMPROVE_KINDS = ("assist.improve",)
BULK_LIMIT = 200


def voice_settings_get(*, tenant, user) -> VoiceSettings:
    """The person's voice settings; the defaults (unsaved) if they never changed them."""
    found = VoiceSettings.objects.for_tenant(tenant).filter(user=user).first()
    return found or VoiceSettings(tenant=tenant, user=user)


def suggestion_get(*, tenant, pk: int) -> Suggestion:
    suggestion = (
        Suggestion.objects.for_tenant(tenant)
        .select_related("entry", "decided_by", "created_by")
        .filter(pk=pk, entry__deleted_at__isnull=True)
        .first()
    )
    if suggestion is None:
        raise NotFound("We couldn't find that suggestion. Its entry may have been deleted.")
    return suggestion


def suggestion_for_entry(*, tenant, entry: Entry) -> Suggestion | None:
    """The entry's newest suggestion still waiting for a decision, if any."""
    return (
        Suggestion.objects.for_tenant(tenant)
        .filter(entry=entry, status=Suggestion.Status.PENDING)
        .order_by("-created_at", "-id")
        .first()
    )


def suggestion_made_by_job(*, tenant, job: Job, entry: Entry) -> Suggestion | None:
    """What one finished improve job proposed for the entry, whatever was decided since."""
    return Suggestion.objects.for_tenant(tenant).filter(job=job, entry=entry).order_by("id").first()


def suggestion_queue(*, tenant, job: Job | None = None, skip: tuple[int, ...] = ()) -> QuerySet[Suggestion]:
    """Suggestions waiting for a decision, oldest first (of one job, when given), leaving out `skip`."""
    queryset = (
        Suggestion.objects.for_tenant(tenant)
        .filter(status=Suggestion.Status.PENDING, entry__deleted_at__isnull=True)
        .select_related("entry")
        .order_by("created_at", "id")
    )
    if job is not None:
        queryset = queryset.filter(job=job)
    if skip:
        queryset = queryset.exclude(pk__in=skip)
    return queryset


def suggestion_queue_counts(*, tenant, job: Job | None, skip: tuple[int, ...]) -> tuple[int, int]:
    """(waiting in all, waiting and not skipped) for the queue's progress line, in one query."""
    counts = (
        suggestion_queue(tenant=tenant, job=job)
        .order_by()
        .aggregate(total=Count("pk"), left=Count("pk", filter=~Q(pk__in=skip)))
    )
    return counts["total"], counts["left"]


def suggestion_pending_count(*, tenant) -> int:
    return suggestion_queue(tenant=tenant).count()


def improve_job_get(*, tenant, pk: int) -> Job:
    job = (
        Job.objects.filter(tenant=tenant, pk=pk, kind__in=IMPROVE_KINDS).select_related("created_by").first()
    )
    if tenant is None or job is None:
        raise NotFound("We couldn't find that job.")
    return job


def improve_job_for_entry(*, tenant, entry: Entry) -> Job | None:
    """The unfinished improve job of this one entry, if one is queued or running."""
    return (
        Job.objects.filter(
            tenant=tenant,
            kind__in=IMPROVE_KINDS,
            status__in=[Job.Status.QUEUED, Job.Status.RUNNING],
            params__entry_ids=[entry.pk],
        )
        .order_by("-created_at", "-id")
        .first()
    )


def improve_candidates(*, tenant, filters: worklog_selectors.EntryFilters) -> QuerySet[Entry]:
    """The entries the timeline's filters select (`needs="impact"`: those with no impact yet), newest first;
    with free text, the best matches first."""
    queryset = worklog_selectors.entry_list(tenant=tenant, filters=filters)
    if filters.q.strip():
        queryset = search_filter(queryset, filters.q)
    return queryset


def improve_entries(*, tenant, ids) -> list[Entry]:
    """The workspace's live entries with these ids, in the given order (others are left out)."""
    wanted = [int(pk) for pk in ids][:BULK_LIMIT]
    found = {
        entry.pk: entry
        for entry in Entry.objects.for_tenant(tenant).filter(pk__in=wanted, deleted_at__isnull=True)
        .select_related("employer", "project")
        .prefetch_related("skills", "tags")
    }  # fmt: skip
    return [found[pk] for pk in dict.fromkeys(wanted) if pk in found]


# ------------------------------------------------------------------------- money


def money_text(micros: int, currency: str = "usd") -> str:
    """Money as people read it, keeping the digits of amounts under a cent: "$0.0012", "$2.50"."""
    if micros == 0 or abs(micros) >= 10_000:
        return format_micros(micros, currency)
    whole, _, fraction = micros_to_decimal_string(abs(micros)).partition(".")
    sign = "-" if micros < 0 else ""
    return f"{sign}{format_micros(0, currency)[:-4]}{whole}.{fraction.rstrip('0')}"


@dataclass(frozen=True)
class Affordability:
    estimate_micros: int
    available_micros: int
    policy: str
    currency: str
    covered: bool

    @property
    def needed_micros(self) -> int:
        return self.estimate_micros


def improve_affordability(*, tenant, estimate_micros: int) -> Affordability:
    """Whether the reserve's policy lets work of this estimate start (the gateway's hold decides each call),
    by billing's own rule (`reserve_policy_allows`)."""
    account = reserve_account_for(tenant=tenant) or ReserveAccount(tenant=tenant)
    return Affordability(
        estimate_micros=estimate_micros,
        available_micros=account.available_micros,
        policy=account.policy,
        currency=account.currency,
        covered=reserve_policy_allows(account=account, amount_micros=estimate_micros),
    )


def improve_refusal(affordability: Affordability) -> InsufficientFunds:
    """The 402 for work the reserve cannot cover, with what is needed and a link to top up."""
    needed = money_text(affordability.estimate_micros, affordability.currency)
    available = money_text(max(0, affordability.available_micros), affordability.currency)
    return InsufficientFunds(
        f"Not enough in the reserve: this needs up to {needed} and {available} is available. "
        "Top up to continue; nothing was sent or charged.",
        extra={
            "needed_micros": affordability.estimate_micros,
            "available_micros": affordability.available_micros,
            "topup_url": reverse("billing_home"),
        },
    )
