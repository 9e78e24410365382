"""The status bar: the workspace's balance and today's tokens, in one query.

`GET /api/status/bar/` and the top bar's balance badge both read `status_bar_read`. "Today" is the
person's own day (their time zone, apps/core/dates.py), so tokens used at 23:30 in Auckland count on
Auckland's day, whatever the server's clock says.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, Subquery, Sum
from django.utils import timezone

from apps.billing.models import LedgerEntry, Meter, ReserveAccount, UsageLine
from apps.core.dates import day_range


@dataclass(frozen=True)
class StatusBar:
    account: ReserveAccount
    tokens_in: int
    tokens_out: int
    updated_at: datetime

    @property
    def balance_micros(self) -> int:
        return self.account.balance_micros

    @property
    def available_micros(self) -> int:
        return self.account.available_micros

    @property
    def has_tokens(self) -> bool:
        return bool(self.tokens_in or self.tokens_out)

    def as_dict(self) -> dict:
        return {
            "balance_micros": self.balance_micros,
            "available_micros": self.available_micros,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "updated_at": self.updated_at,
        }


def _tokens_today(meter: str, start: datetime | None, end: datetime | None) -> Subquery:
    lines = UsageLine.objects.filter(event__tenant_id=OuterRef("tenant_id"), meter=meter)
    if start is not None:
        lines = lines.filter(event__occurred_at__gte=start)
    if end is not None:
        lines = lines.filter(event__occurred_at__lt=end)
    total = lines.order_by().values("event__tenant_id").annotate(total=Sum("quantity")).values("total")[:1]
    return Subquery(total)


def status_bar_read(*, tenant, zone=None, now: datetime | None = None) -> StatusBar | None:
    """Balance, available, today's tokens in and out; None without a workspace. One query.

    The account comes back annotated with `has_entries` too, so the low-balance banner reads the same row.
    """
    if tenant is None:
        return None
    now = now or timezone.now()
    zone = zone or timezone.get_current_timezone()
    today = timezone.localtime(now, zone).date()
    start, end = day_range(today, today, zone)
    account = (
        ReserveAccount.objects.filter(tenant=tenant)
        .annotate(
            has_entries=Exists(LedgerEntry.objects.filter(account=OuterRef("pk"))),
            tokens_in_today=_tokens_today(Meter.LLM_PROMPT_TOKENS, start, end),
            tokens_out_today=_tokens_today(Meter.LLM_COMPLETION_TOKENS, start, end),
        )
        .first()
    )
    if account is None:
        # Never used: an unsaved, empty account (reads never write), and no usage can exist without one.
        return StatusBar(account=ReserveAccount(tenant=tenant), tokens_in=0, tokens_out=0, updated_at=now)
    return StatusBar(
        account=account,
        tokens_in=int(account.tokens_in_today or 0),
        tokens_out=int(account.tokens_out_today or 0),
        updated_at=now,
    )
