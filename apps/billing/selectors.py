"""Reads for billing, always scoped by tenant except the staff-wide summaries."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum, Window
from django.db.models.functions import Coalesce, Lag, TruncDate
from django.utils import timezone

from apps.accounts.models import Tenant
from apps.billing.models import Hold, LedgerEntry, ReserveAccount, StripeEvent, TopUp, UsageEvent, UsageLine
from apps.core.dates import day_range
from apps.core.money import micros_to_cents

LEDGER_EXPORT_COLUMNS = [
    "entry_id",
    "created_at",
    "tenant",
    "kind",
    "amount",
    "balance_after",
    "currency",
    "idempotency_key",
    "stripe_object_id",
    "usage_event_id",
    "hold_id",
    "staff_user",
    "memo",
]


def reserve_account_for(*, tenant: Tenant | None) -> ReserveAccount | None:
    """The tenant's account; an unsaved empty one if it has never been used (reads never write)."""
    if tenant is None:
        return None
    has_entries = Exists(LedgerEntry.objects.filter(account=OuterRef("pk")))
    account = ReserveAccount.objects.filter(tenant=tenant).annotate(has_entries=has_entries).first()
    return account or ReserveAccount(tenant=tenant)


def reserve_policy_allows(*, account: ReserveAccount, amount_micros: int) -> bool:
    """The low-balance policy: may `amount_micros` more be spent or held from this account now?

    `block`: available never goes below zero; `limited`: down to minus the credit limit; `warn`: always
    (the services flag it). Nothing to pay is always allowed. The same rule the services enforce under the
    row lock (`_enforce_policy`, and `_POLICY_ALLOWS` in SQL on their fast paths); a test keeps them equal.
    """
    if amount_micros <= 0:
        return True
    available_after = account.available_micros - amount_micros
    if available_after >= 0 or account.policy == ReserveAccount.Policy.WARN:
        return True
    floor = -account.credit_limit_micros if account.policy == ReserveAccount.Policy.LIMITED else 0
    return available_after >= floor


def reserve_balance(*, tenant: Tenant) -> dict:
    account = reserve_account_for(tenant=tenant)
    return {
        "balance_micros": account.balance_micros,
        "available_micros": account.available_micros,
        "balance_cents": micros_to_cents(account.balance_micros),
        "currency": account.currency,
        "policy": account.policy,
    }


def _day_bounds(since: date | None, until: date | None, field: str = "created_at") -> Q:
    """Whole days `since`..`until` (inclusive) in the current time zone; open at the ends of the calendar
    (day_range leaves a side unbounded where `until + 1 day` or the shift to UTC would overflow)."""
    start, end = day_range(since, until)
    query = Q()
    if start is not None:
        query &= Q(**{f"{field}__gte": start})
    if end is not None:
        query &= Q(**{f"{field}__lt": end})
    return query


def ledger_list(
    *, tenant: Tenant, kind: str = "", since: date | None = None, until: date | None = None
) -> QuerySet[LedgerEntry]:
    entries = LedgerEntry.objects.filter(tenant=tenant).filter(_day_bounds(since, until)).order_by("-id")
    if kind:
        entries = entries.filter(kind=kind)
    return entries


def usage_by_meter_and_day(
    *, tenant: Tenant, since: date | None = None, until: date | None = None
) -> list[dict]:
    lines = UsageLine.objects.filter(tenant=tenant).filter(_day_bounds(since, until, "event__occurred_at"))
    zone = timezone.get_current_timezone()
    return list(
        lines.annotate(day=TruncDate("event__occurred_at", tzinfo=zone))
        .values("day", "meter")
        .annotate(quantity=Sum("quantity"), cost_micros=Sum("cost_micros"), events=Count("event_id"))
        .order_by("-day", "meter")
    )


def topup_recent(*, tenant: Tenant, limit: int = 5) -> list[TopUp]:
    return list(
        TopUp.objects.filter(tenant=tenant).exclude(status=TopUp.Status.PENDING, checkout_url="")[:limit]
    )


@dataclass(frozen=True)
class ReserveSummary:
    accounts: int
    liability_micros: int
    held_micros: int
    under_threshold: int
    negative: int


def _available():
    return F("balance_micros") - F("held_micros")


def staff_reserve_summary() -> ReserveSummary:
    totals = ReserveAccount.objects.aggregate(
        accounts=Count("id"),
        liability=Coalesce(Sum("balance_micros", filter=Q(balance_micros__gt=0)), 0),
        held=Coalesce(Sum("held_micros"), 0),
        under=Count("id", filter=Q(low_balance_threshold_micros__gt=_available())),
        negative=Count("id", filter=Q(balance_micros__lt=F("held_micros"))),
    )
    return ReserveSummary(
        accounts=totals["accounts"],
        liability_micros=totals["liability"],
        held_micros=totals["held"],
        under_threshold=totals["under"],
        negative=totals["negative"],
    )


def staff_accounts_needing_attention(*, limit: int = 50) -> list[ReserveAccount]:
    """Accounts under their threshold, most negative first."""
    return list(
        ReserveAccount.objects.select_related("tenant")
        .annotate(available=_available())
        .filter(low_balance_threshold_micros__gt=F("available"))
        .order_by("available", "id")[:limit]
    )


def staff_usage_cost_by_tenant_and_model(*, since: datetime, limit: int = 50) -> list[dict]:
    return list(
        UsageEvent.objects.filter(occurred_at__gte=since)
        .values("tenant__name", "tenant__slug", "model")
        .annotate(cost_micros=Sum("cost_micros"), events=Count("id"))
        .order_by("-cost_micros", "tenant__slug", "model")[:limit]
    )


def staff_stripe_events_needing_attention(*, limit: int = 20) -> list[StripeEvent]:
    """Failed events (retried by Stripe, or rejected as not matching a top-up) and processed ones that left
    a note (credited, but the card could not be saved), newest first."""
    return list(
        StripeEvent.objects.filter(
            Q(status=StripeEvent.Status.FAILED) | (Q(status=StripeEvent.Status.PROCESSED) & ~Q(error=""))
        ).select_related("tenant")[:limit]
    )


def staff_tenant_choices() -> QuerySet[Tenant]:
    return Tenant.objects.order_by("name", "slug")


def ledger_export_rows(
    *,
    tenant: Tenant | None = None,
    since: date | None = None,
    until: date | None = None,
    chunk_size: int = 5000,
) -> Iterator[tuple]:
    """Ledger rows as tuples in LEDGER_EXPORT_COLUMNS order, streamed (a server-side cursor on PostgreSQL)."""
    entries = LedgerEntry.objects.filter(_day_bounds(since, until))
    if tenant is not None:
        entries = entries.filter(tenant=tenant)
    rows = (
        entries.order_by("id")
        .values_list(
            "id",
            "created_at",
            "tenant__slug",
            "kind",
            "amount_micros",
            "balance_after_micros",
            "account__currency",
            "idempotency_key",
            "stripe_object_id",
            "usage_event_id",
            "hold_id",
            "staff_user__email",
            "memo",
        )
        .query
    )
    # The ORM builds the query; rows are read straight off a server-side cursor, chunk by chunk, which
    # skips the per-row model machinery that dominates a million-row export.
    sql, params = rows.sql_with_params()
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(chunk_size):
            yield from chunk


@dataclass(frozen=True)
class ReconcileProblem:
    account_id: int
    tenant_slug: str
    problem: str


def reconcile_problems() -> tuple[int, list[ReconcileProblem]]:
    """Check every account: balance == sum(entries), held == sum(pending holds), balance-after continuity."""
    problems: list[ReconcileProblem] = []
    accounts = ReserveAccount.objects.select_related("tenant").annotate(
        entry_sum=Coalesce(Sum("entries__amount_micros"), 0)
    )
    held = dict(
        Hold.objects.filter(status=Hold.Status.PENDING)
        .values("account_id")
        .annotate(total=Sum("amount_micros"))
        .values_list("account_id", "total")
    )
    slugs = {}
    count = 0
    for account in accounts:
        count += 1
        slugs[account.pk] = account.tenant.slug
        if account.entry_sum != account.balance_micros:
            problems.append(
                ReconcileProblem(
                    account.pk,
                    account.tenant.slug,
                    f"balance {account.balance_micros} != sum of entries {account.entry_sum}",
                )
            )
        if held.get(account.pk, 0) != account.held_micros:
            problems.append(
                ReconcileProblem(
                    account.pk,
                    account.tenant.slug,
                    f"held {account.held_micros} != pending holds {held.get(account.pk, 0)}",
                )
            )
    breaks = (
        LedgerEntry.objects.annotate(
            previous=Window(
                Lag("balance_after_micros", default=0), partition_by=[F("account_id")], order_by=F("id").asc()
            )
        )
        .filter(~Q(previous=F("balance_after_micros") - F("amount_micros")))
        .values_list("account_id", "id", "previous", "amount_micros", "balance_after_micros")
    )
    for account_id, entry_id, previous, amount, after in breaks:
        problems.append(
            ReconcileProblem(
                account_id,
                slugs.get(account_id, "?"),
                f"entry {entry_id}: {previous} + {amount} != balance after {after}",
            )
        )
    return count, problems


def hold_ids_pending(*, tenant: Tenant, key_prefix: str) -> list[int]:
    """The workspace's pending holds whose keys start with `key_prefix` (a job's calls in flight)."""
    holds = Hold.objects.filter(
        tenant=tenant, status=Hold.Status.PENDING, idempotency_key__startswith=key_prefix
    )
    return list(holds.order_by("pk").values_list("pk", flat=True))
