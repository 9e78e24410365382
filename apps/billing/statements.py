"""Monthly statements: what a workspace's reserve did in one calendar month, equal to its ledger to the micro.

A month is cut at ledger ids, not timestamps: it holds the entries from the first one stamped in the month
(in the viewer's time zone) up to the first one stamped in the next. The ledger's order is its ids
(`balance_after` is continuous by id), so the months tile the ledger exactly and

    opening + top-ups + usage + adjustments + refunds == closing == balance after the month's last entry

holds for every month; the opening is the balance after the entry just before the month (0 before any).

Usage is itemised by meter from the usage lines of the events charged in the month. An event whose charges
in the month do not add up to its full cost (one charged across a month end, or a deduction with no usage
event) is shown as "other usage", so the usage rows always add up to the usage entries exactly.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from apps.accounts.models import Tenant
from apps.billing.models import LedgerEntry, Meter, Receipt, ReserveAccount, UsageLine
from apps.core.errors import NotFound
from apps.core.pdf import template_to_pdf

USAGE_KINDS = (LedgerEntry.Kind.USAGE, LedgerEntry.Kind.HOLD_CAPTURE)
EARLIEST_YEAR = 2000


@dataclass(frozen=True)
class StatementLine:
    label: str
    amount_micros: int
    count: int = 0


@dataclass(frozen=True)
class Statement:
    tenant: Tenant
    account: ReserveAccount
    month: date  # the first day
    start: datetime
    end: datetime
    opening_micros: int
    topups: StatementLine
    usage: list[StatementLine]
    adjustments: StatementLine
    refunds: StatementLine
    closing_micros: int
    entry_count: int
    last_balance_after_micros: int | None
    receipts: list[Receipt] = field(default_factory=list)

    @property
    def usage_micros(self) -> int:
        return sum(line.amount_micros for line in self.usage)

    @property
    def movements_micros(self) -> int:
        return (
            self.topups.amount_micros
            + self.usage_micros
            + self.adjustments.amount_micros
            + self.refunds.amount_micros
        )

    @property
    def currency(self) -> str:
        return self.account.currency

    @property
    def slug(self) -> str:
        return f"{self.month:%Y-%m}"

    @property
    def last_day(self) -> date:
        """The month's last day (`end` is the first moment of the next month)."""
        return _next_month(self.month) - timedelta(days=1)


def month_parse(value: str) -> date:
    """ "2026-03" -> date(2026, 3, 1), or NotFound for anything else."""
    try:
        year, month = (int(part) for part in value.split("-"))
        first = date(year, month, 1)
    except (TypeError, ValueError) as exc:
        raise NotFound("No statement for that month.") from exc
    if not EARLIEST_YEAR <= year <= 9998 or len(value) != 7:
        raise NotFound("No statement for that month.")
    return first


def _next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def _bounds(month: date) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    start = datetime.combine(month, time.min, tzinfo=zone)
    end = datetime.combine(_next_month(month), time.min, tzinfo=zone)
    return start, end


def _first_id_from(account: ReserveAccount, moment: datetime) -> int | None:
    return (
        LedgerEntry.objects.filter(account=account, created_at__gte=moment)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )


def _usage_lines(entries, total_micros: int) -> list[StatementLine]:
    """Usage by meter (negative amounts), and the part that cannot be itemised, adding up to `total`."""
    charged = (
        entries.filter(kind__in=USAGE_KINDS, usage_event__isnull=False)
        .values("usage_event_id", "usage_event__cost_micros")
        .annotate(charged=Sum("amount_micros"))
        .filter(charged=-F("usage_event__cost_micros"))
        .values("usage_event_id")
    )
    by_meter = (
        UsageLine.objects.filter(event_id__in=charged)
        .values("meter")
        .annotate(cost=Sum("cost_micros"), events=Count("event_id", distinct=True))
        .order_by("meter")
    )
    labels = dict(Meter.choices)
    lines = [
        StatementLine(labels.get(row["meter"], row["meter"]), -row["cost"], row["events"])
        for row in by_meter
        if row["cost"]
    ]
    other = total_micros - sum(line.amount_micros for line in lines)
    if other:
        lines.append(StatementLine("Other usage", other))
    return lines


def statement_get(*, tenant: Tenant | None, month: date) -> Statement:
    """The workspace's statement for the month that starts on `month` (any day of it will do)."""
    if tenant is None:
        raise NotFound("You are not in a workspace.")
    month = month.replace(day=1)
    account = ReserveAccount.objects.filter(tenant=tenant).first() or ReserveAccount(tenant=tenant)
    start, end = _bounds(month)
    first_id = _first_id_from(account, start) if account.pk else None
    next_id = _first_id_from(account, end) if account.pk else None
    ledger = LedgerEntry.objects.filter(account=account) if account.pk else LedgerEntry.objects.none()
    if first_id is None:  # nothing stamped in the month or after it: the month is empty
        entries, before = ledger.none(), ledger
    else:
        entries, before = ledger.filter(id__gte=first_id), ledger.filter(id__lt=first_id)
        if next_id is not None:
            entries = entries.filter(id__lt=next_id)
    opening = before.order_by("-id").values_list("balance_after_micros", flat=True).first() or 0
    totals = entries.aggregate(
        count=Count("id"),
        topups=Sum("amount_micros", filter=Q(kind=LedgerEntry.Kind.TOPUP)),
        topup_count=Count("id", filter=Q(kind=LedgerEntry.Kind.TOPUP)),
        usage=Sum("amount_micros", filter=Q(kind__in=USAGE_KINDS)),
        adjustments=Sum("amount_micros", filter=Q(kind=LedgerEntry.Kind.ADJUSTMENT)),
        adjustment_count=Count("id", filter=Q(kind=LedgerEntry.Kind.ADJUSTMENT)),
        refunds=Sum("amount_micros", filter=Q(kind=LedgerEntry.Kind.REFUND)),
        refund_count=Count("id", filter=Q(kind=LedgerEntry.Kind.REFUND)),
    )
    last_after = entries.order_by("-id").values_list("balance_after_micros", flat=True).first()
    topups = StatementLine("Top-ups", totals["topups"] or 0, totals["topup_count"])
    adjustments = StatementLine("Adjustments", totals["adjustments"] or 0, totals["adjustment_count"])
    refunds = StatementLine("Refunds", totals["refunds"] or 0, totals["refund_count"])
    usage = _usage_lines(entries, totals["usage"] or 0) if totals["count"] else []
    closing = opening + topups.amount_micros + sum(line.amount_micros for line in usage)
    closing += adjustments.amount_micros + refunds.amount_micros
    receipts = list(
        Receipt.objects.filter(ledger_entry__in=entries.filter(kind=LedgerEntry.Kind.TOPUP)).order_by(
            "issued_at", "id"
        )
    )
    return Statement(
        tenant=tenant,
        account=account,
        month=month,
        start=start,
        end=end,
        opening_micros=opening,
        topups=topups,
        usage=usage,
        adjustments=adjustments,
        refunds=refunds,
        closing_micros=closing,
        entry_count=totals["count"],
        last_balance_after_micros=last_after,
        receipts=receipts,
    )


def statement_months(*, tenant: Tenant | None) -> list[date]:
    """Every month from the workspace's first ledger entry to this one, newest first."""
    if tenant is None:
        return []
    first = (
        LedgerEntry.objects.filter(tenant=tenant).order_by("id").values_list("created_at", flat=True).first()
    )
    if first is None:
        return []
    month = timezone.localtime(first).date().replace(day=1)
    this_month = timezone.localdate().replace(day=1)
    months = []
    while month <= this_month:
        months.append(month)
        month = _next_month(month)
    return list(reversed(months))


def statement_pdf(*, statement: Statement) -> bytes:
    return template_to_pdf("billing/print/statement.html", {"statement": statement})
