from datetime import date, datetime

from ninja import Field, Schema

from apps.core.apicontract import IsoDate


class BalanceOut(Schema):
    balance_micros: int
    available_micros: int
    balance_cents: int
    currency: str
    policy: str


class LedgerEntryOut(Schema):
    id: int
    kind: str
    amount_micros: int
    balance_after_micros: int
    idempotency_key: str
    stripe_object_id: str
    usage_event_id: int | None
    hold_id: int | None
    memo: str
    created_at: datetime


class LedgerFilters(Schema):
    kind: str = ""
    since: IsoDate | None = None
    until: IsoDate | None = None


class UsageDayOut(Schema):
    day: date
    meter: str
    quantity: str
    cost_micros: int
    events: int


class UsageFilters(Schema):
    since: IsoDate | None = None
    until: IsoDate | None = None


class TopUpSessionIn(Schema):
    amount_cents: int = Field(..., description="Whole cents, within the configured minimum and maximum.")


class HostedSessionOut(Schema):
    session_id: str
    url: str


class PortalSessionOut(Schema):
    url: str


class WebhookOut(Schema):
    received: bool
    outcome: str
