"""Rate cards and usage: price an event with the version in force at its time, then charge the reserve."""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from apps.accounts.models import Tenant
from apps.billing.errors import IdempotencyConflict
from apps.billing.models import Hold, Meter, RateCard, RateCardVersion, RateLineItem, UsageEvent, UsageLine
from apps.billing.services.reserve import (
    _check_key,
    _hold_capture_up_to,
    _insert_params,
    _insert_unless_exists,
    hold_capture,
    refusals_recorded,
    reserve_account_ensure,
    reserve_deduct,
)
from apps.core.errors import ValidationFailed
from apps.core.events import emit_event
from apps.core.money import price_micros

DEFAULT_PLAN = "standard"
DEFAULT_VERSION_START = datetime(2024, 1, 1, tzinfo=UTC)

# The default rate card that `bootstrap` installs: (meter, model, micros per unit).
# Token prices are fractions of a micro: 0.15 micros per token is $0.15 per million tokens.
# An empty model is the price for any model without its own line.
DEFAULT_RATE_LINES: list[tuple[str, str, str]] = [
    (Meter.LLM_PROMPT_TOKENS, "", "3"),
    (Meter.LLM_COMPLETION_TOKENS, "", "15"),
    (Meter.LLM_PROMPT_TOKENS, "gpt-4o-mini", "0.15"),
    (Meter.LLM_COMPLETION_TOKENS, "gpt-4o-mini", "0.6"),
    (Meter.LLM_PROMPT_TOKENS, "builtin", "0"),
    (Meter.LLM_COMPLETION_TOKENS, "builtin", "0"),
    (Meter.LLM_CALL, "", "100"),
    (Meter.STORAGE_GB_MONTH, "", "25000"),
    (Meter.REPORT_EXPORT, "", "10000"),
]

QUANTITY_PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class PricedLine:
    meter: str
    quantity: Decimal
    unit_price_micros: Decimal
    cost_micros: int


@transaction.atomic
def rate_card_install_default() -> tuple[RateCard, bool]:
    """Install the standard rate card with its first version. Running it again changes nothing."""
    card, _ = RateCard.objects.get_or_create(plan=DEFAULT_PLAN, defaults={"name": "Standard"})
    if card.versions.exists():
        return card, False
    version = RateCardVersion.objects.create(
        rate_card=card, effective_from=DEFAULT_VERSION_START, note="Default prices installed by bootstrap"
    )
    RateLineItem.objects.bulk_create(
        RateLineItem(version=version, meter=meter, model=model, unit_price_micros=Decimal(price))
        for meter, model, price in DEFAULT_RATE_LINES
    )
    emit_event("billing.rate_card.installed", plan=card.plan, version_id=version.pk)
    return card, True


def rate_version_is_used(*, version: RateCardVersion) -> bool:
    return UsageEvent.objects.filter(rate_version=version).exists()


def rate_version_start_check(*, rate_card: RateCard, effective_from: datetime, version_id: int | None = None):
    """A new or edited version may only start after every event already priced with this card.

    Versions are ordered by start, so they never overlap; starting after the last priced event means a
    supersession never changes which prices applied to usage already charged.
    """
    if timezone.is_naive(effective_from):
        raise ValidationFailed("Give the start time with a time zone.", field="effective_from")
    last_priced = UsageEvent.objects.filter(rate_version__rate_card=rate_card).aggregate(
        last=Max("occurred_at")
    )["last"]
    if last_priced is not None and effective_from <= last_priced:
        raise ValidationFailed(
            f"Usage up to {last_priced:%Y-%m-%d %H:%M:%S} UTC is already priced with this card; "
            "a new version must start after it.",
            field="effective_from",
        )
    clash = RateCardVersion.objects.filter(rate_card=rate_card, effective_from=effective_from)
    if version_id is not None:
        clash = clash.exclude(pk=version_id)
    if clash.exists():
        raise ValidationFailed(
            "Another version of this card starts at that exact time.", field="effective_from"
        )


@transaction.atomic
def rate_card_version_create(
    *,
    rate_card: RateCard,
    effective_from: datetime,
    lines: list[tuple[str, str, Decimal | str]],
    note: str = "",
) -> RateCardVersion:
    """Supersede the current prices from `effective_from` on."""
    rate_version_start_check(rate_card=rate_card, effective_from=effective_from)
    if not lines:
        raise ValidationFailed("A version needs at least one price.", field="lines")
    version = RateCardVersion.objects.create(
        rate_card=rate_card, effective_from=effective_from, note=note[:200]
    )
    for meter, model, price in lines:
        if meter not in Meter.values:
            raise ValidationFailed(f"Unknown meter {meter!r}.", field="lines")
        RateLineItem.objects.create(
            version=version, meter=meter, model=model, unit_price_micros=Decimal(price)
        )
    emit_event("billing.rate_card.superseded", plan=rate_card.plan, version_id=version.pk)
    return version


def rate_version_in_force(*, plan: str, at: datetime) -> RateCardVersion:
    version = (
        RateCardVersion.objects.filter(rate_card__plan=plan, effective_from__lte=at)
        .order_by("-effective_from")
        .prefetch_related("line_items")
        .first()
    )
    if version is None and plan != DEFAULT_PLAN:
        return rate_version_in_force(plan=DEFAULT_PLAN, at=at)
    if version is None:
        raise ValidationFailed(f"No prices are in force on {at:%Y-%m-%d}; staff must install a rate card.")
    return version


def _quantity(meter: str, value) -> Decimal:
    if meter not in Meter.values:
        raise ValidationFailed(f"Unknown meter {meter!r}.", field="quantities")
    if isinstance(value, float | bool):
        raise ValidationFailed(
            "Quantities are integers or decimal strings, never floats.", field="quantities"
        )
    try:
        quantity = Decimal(value)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValidationFailed(f"{value!r} is not a quantity.", field="quantities") from exc
    if not quantity.is_finite() or quantity < 0 or quantity.quantize(QUANTITY_PLACES) != quantity:
        raise ValidationFailed("Quantities are non-negative with at most six decimals.", field="quantities")
    return quantity


def price_lines(*, version: RateCardVersion, model: str, quantities: dict) -> list[PricedLine]:
    """Price each meter with the model's own line, else the card's any-model line. Rounded once per line."""
    prices = {(item.meter, item.model): item.unit_price_micros for item in version.line_items.all()}
    return _priced(prices, model=model, quantities=quantities)


# The prices in force for a tenant at a time, in one statement: the account's plan (the default plan when
# there is no account yet, or when the plan has no version in force: rate_version_in_force's rule), the
# latest version of that card started by then, and its lines (none: one row of NULLs). Prices come back as
# text so that both databases give the exact decimal the ORM would.
_PRICES_IN_FORCE = """
WITH account AS (
    SELECT COALESCE(MAX(plan), %(default)s) AS plan, COUNT(*) AS saved
    FROM billing_reserveaccount WHERE tenant_id = %(tenant)s
), version AS (
    SELECT v.id FROM billing_ratecardversion v
    JOIN billing_ratecard c ON c.id = v.rate_card_id
    JOIN account a ON c.plan IN (a.plan, %(default)s)
    WHERE v.effective_from <= %(at)s
    ORDER BY CASE WHEN c.plan = a.plan THEN 0 ELSE 1 END, v.effective_from DESC
    LIMIT 1
)
SELECT a.saved, version.id, li.meter, li.model, CAST(li.unit_price_micros AS TEXT)
FROM account a
LEFT JOIN version ON 1 = 1
LEFT JOIN billing_ratelineitem li ON li.version_id = version.id
"""


def _prices_in_force(*, tenant: Tenant, at: datetime) -> tuple[int, dict[tuple[str, str], Decimal]]:
    """(version id, {(meter, model): unit price}) in force for the tenant at `at`; the same version as
    rate_version_in_force(plan=<the account's plan>, at=at). Creates the account on first use, as before."""
    at_value = connection.ops.adapt_datetimefield_value(at)
    params = {"default": DEFAULT_PLAN, "tenant": tenant.pk, "at": at_value}
    with connection.cursor() as cursor:
        cursor.execute(_PRICES_IN_FORCE, params)
        rows = cursor.fetchall()
    saved, version_id = rows[0][0], rows[0][1]
    if not saved:
        reserve_account_ensure(tenant=tenant)
    if version_id is None:
        raise ValidationFailed(f"No prices are in force on {at:%Y-%m-%d}; staff must install a rate card.")
    prices = {
        (meter, model): Decimal(price).quantize(QUANTITY_PLACES)
        for _saved, _version, meter, model, price in rows
        if meter is not None
    }
    return version_id, prices


def _priced(prices: dict[tuple[str, str], Decimal], *, model: str, quantities: dict) -> list[PricedLine]:
    if not quantities:
        raise ValidationFailed("Usage needs at least one meter.", field="quantities")
    priced = []
    for meter, value in sorted(quantities.items()):
        quantity = _quantity(meter, value)
        unit_price = prices.get((meter, model), prices.get((meter, "")))
        if unit_price is None:
            raise ValidationFailed(
                f"The rate card has no price for {meter} on model {model or 'any'}.", field="quantities"
            )
        cost = price_micros(quantity=quantity, unit_price_micros=unit_price)
        priced.append(PricedLine(meter, quantity, unit_price, cost))
    return priced


@dataclass(frozen=True)
class PriceQuote:
    """The prices in force for a workspace at one moment: an operation that estimates its cost and then
    records its usage priced at the same moment reads the rate card once."""

    tenant_id: int
    at: datetime
    version_id: int
    prices: dict[tuple[str, str], Decimal]


def usage_quote(*, tenant: Tenant, at: datetime | None = None) -> PriceQuote:
    at = at or timezone.now()
    if timezone.is_naive(at):
        raise ValidationFailed("Give the time with a time zone.", field="at")
    version_id, prices = _prices_in_force(tenant=tenant, at=at)
    return PriceQuote(tenant_id=tenant.pk, at=at, version_id=version_id, prices=prices)


def _quoted(tenant: Tenant, quote: PriceQuote | None, at: datetime | None) -> PriceQuote:
    if quote is None:
        return usage_quote(tenant=tenant, at=at)
    if quote.tenant_id != tenant.pk or (at is not None and at != quote.at):
        raise ValidationFailed("That price quote is for another workspace or another time.", field="quote")
    return quote


def usage_estimate(
    *,
    tenant: Tenant,
    quantities: dict,
    model: str = "",
    at: datetime | None = None,
    quote: PriceQuote | None = None,
) -> int:
    """The most an operation can cost (for a hold), given the largest quantities it may use."""
    prices = _quoted(tenant, quote, at).prices
    return sum(line.cost_micros for line in _priced(prices, model=model, quantities=quantities))


@functools.cache
def _event_insert_statement(line_count: int) -> tuple[str, list, list]:
    """PostgreSQL: the event's INSERT ... ON CONFLICT and its lines' INSERT in one statement."""
    quote = connection.ops.quote_name
    event_fields = [field for field in UsageEvent._meta.concrete_fields if not field.primary_key]
    line_fields = [
        field
        for field in UsageLine._meta.concrete_fields
        if not field.primary_key and field.attname != "event_id"
    ]
    row_sql = "(" + ", ".join(f"%s::{field.db_type(connection)}" for field in line_fields) + ")"
    sql = f"""
WITH event AS (
    INSERT INTO billing_usageevent ({", ".join(quote(field.column) for field in event_fields)})
    VALUES ({", ".join(f"%s::{field.db_type(connection)}" for field in event_fields)})
    ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
    RETURNING id
)
INSERT INTO billing_usageline (event_id, {", ".join(quote(field.column) for field in line_fields)})
SELECT event.id, line.* FROM event, (VALUES {", ".join([row_sql] * line_count)}) AS line
RETURNING event_id
"""  # noqa: S608 - names from model meta, values as parameters
    return sql, event_fields, line_fields


def _event_insert(event: UsageEvent, lines: list[PricedLine]) -> int | None:
    """Insert the event and its lines unless the event's key was used: the event's id, or None (nothing
    written). One statement on PostgreSQL (the lines' INSERT reads the event's from a CTE), two elsewhere."""
    rows = [
        UsageLine(
            event=event,
            tenant=event.tenant,
            meter=line.meter,
            quantity=line.quantity,
            unit_price_micros=line.unit_price_micros,
            cost_micros=line.cost_micros,
        )
        for line in lines
    ]
    if connection.vendor != "postgresql":
        pk = _insert_unless_exists(event, ("tenant_id", "idempotency_key"))
        if pk is not None:
            event.pk = pk
            UsageLine.objects.bulk_create(rows)
        return pk
    sql, event_fields, line_fields = _event_insert_statement(len(rows))
    params = _insert_params(event, event_fields)
    for row in rows:
        params += _insert_params(row, line_fields)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchone()
    return found[0] if found else None


@refusals_recorded  # its transaction rolls back the deduction's record of a refusal
@transaction.atomic
def usage_record(
    *,
    tenant: Tenant,
    quantities: dict,
    idempotency_key: str,
    model: str = "",
    occurred_at: datetime | None = None,
    hold_id: int | None = None,
    duration_ms: int = 0,
    job_reference: str = "",
    estimated: bool = False,
    quote: PriceQuote | None = None,
    then: Callable[[UsageEvent], None] | None = None,
) -> UsageEvent:
    """Record usage, price it with the version in force at `occurred_at`, and charge it in one transaction.

    `estimated` marks quantities that were estimated rather than reported (e.g. an LLM response without
    usage); they are priced and charged the same way, and the flag stays on the event for everyone to see.
    With a hold, the cost is captured from it (the unused part released); anything above the hold is
    deducted under the account's policy. Without one, the cost is deducted. Same key, same usage: the
    first event is returned; same key with other quantities is a conflict. With a `quote`
    (usage_quote), the usage occurred at the quote's time and is priced with its prices. `then(event)`
    runs inside the same transaction once the usage is charged (or found), so that the caller's own record
    of it commits with the charge or not at all, without a transaction (and a savepoint) around this one.
    """
    event = _usage_charge(
        tenant=tenant,
        quantities=quantities,
        idempotency_key=idempotency_key,
        model=model,
        occurred_at=occurred_at,
        hold_id=hold_id,
        duration_ms=duration_ms,
        job_reference=job_reference,
        estimated=estimated,
        quote=quote,
    )
    if then is not None:
        then(event)
    return event


def _usage_charge(
    *,
    tenant: Tenant,
    quantities: dict,
    idempotency_key: str,
    model: str,
    occurred_at: datetime | None,
    hold_id: int | None,
    duration_ms: int,
    job_reference: str,
    estimated: bool,
    quote: PriceQuote | None,
) -> UsageEvent:
    key = _check_key(idempotency_key)
    occurred_at = occurred_at or (quote.at if quote else timezone.now())
    if timezone.is_naive(occurred_at):
        raise ValidationFailed("Give the usage time with a time zone.", field="occurred_at")
    if duration_ms < 0:
        raise ValidationFailed("A duration cannot be negative.", field="duration_ms")
    quote = _quoted(tenant, quote, occurred_at)
    version_id, prices = quote.version_id, quote.prices
    lines = _priced(prices, model=model, quantities=quantities)
    cost = sum(line.cost_micros for line in lines)

    event = UsageEvent(
        tenant=tenant,
        model=model[:100],
        occurred_at=occurred_at,
        duration_ms=duration_ms,
        job_reference=job_reference[:200],
        idempotency_key=key,
        cost_micros=cost,
        rate_version_id=version_id,
        hold_id=hold_id,
        estimated=estimated,
    )
    event.pk = _event_insert(event, lines)
    if event.pk is None:
        existing = UsageEvent.objects.get(tenant=tenant, idempotency_key=key)
        if existing.cost_micros != cost or existing.hold_id != hold_id:
            raise IdempotencyConflict(
                "This usage was already recorded with different quantities.",
                extra={"idempotency_key": key, "recorded_micros": existing.cost_micros},
            )
        return existing
    event._state.adding = False
    memo = f"{model + ' ' if model else ''}{', '.join(line.meter for line in lines)}"[:300]
    if hold_id is not None:
        captured = _hold_capture_up_to(
            tenant=tenant, hold_id=hold_id, cost_micros=cost, usage_event_id=event.pk, memo=memo
        )
        if captured is None:  # not a pending hold of this workspace: hold_capture says what it is
            holds = Hold.objects.filter(pk=hold_id, tenant=tenant)
            held = holds.values_list("amount_micros", flat=True).first()
            if held is None:
                raise ValidationFailed("No such hold in this workspace.", field="hold")
            captured = min(cost, held)
            hold_capture(
                tenant=tenant, hold_id=hold_id, amount_micros=captured, usage_event_id=event.pk, memo=memo
            )
        if cost > captured:
            reserve_deduct(
                tenant=tenant,
                amount_micros=cost - captured,
                idempotency_key=f"usage:{event.pk}:above-hold",
                usage_event_id=event.pk,
                memo=f"{memo} (above the hold)",
            )
    elif cost > 0:
        reserve_deduct(
            tenant=tenant,
            amount_micros=cost,
            idempotency_key=f"usage:{event.pk}",
            usage_event_id=event.pk,
            memo=memo,
        )
    return event
