"""Rate cards and usage: price an event with the version in force at its time, then charge the reserve."""

import dataclasses
import functools
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from django.db import connection, models, transaction
from django.db.models import F, Max
from django.utils import timezone

from apps.accounts.models import Tenant
from apps.billing.errors import IdempotencyConflict
from apps.billing.models import (
    Hold,
    LedgerEntry,
    Meter,
    RateCard,
    RateCardVersion,
    RateLineItem,
    UsageEvent,
    UsageLine,
)
from apps.billing.services.prices import (
    DEFAULT_PLAN,
    QUANTITY_PLACES,
    PriceQuote,
    prices_in_force,
)
from apps.billing.services.reserve import (
    _all_or_nothing,
    _check_key,
    _hold_capture_up_to,
    _insert_unless_exists,
    hold_capture,
    refusals_recorded,
    reserve_account_ensure,
    reserve_deduct,
)
from apps.core.errors import ValidationFailed
from apps.core.events import emit_event
from apps.core.models import Job
from apps.core.money import price_micros

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


_METERS = frozenset(Meter.values)


def _quantity(meter: str, value) -> Decimal:
    if meter not in _METERS:
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


def _prices_in_force(*, tenant: Tenant, at: datetime) -> tuple[int, dict[tuple[str, str], Decimal]]:
    """(version id, {(meter, model): unit price}) in force for the tenant at `at`; the same version as
    rate_version_in_force(plan=<the account's plan>, at=at). Creates the account on first use, as before."""
    saved, version_id, prices = prices_in_force(tenant_id=tenant.pk, at=at)
    if not saved:
        reserve_account_ensure(tenant=tenant)
    if version_id is None:
        raise ValidationFailed(f"No prices are in force on {at:%Y-%m-%d}; staff must install a rate card.")
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


# The last quote this process read for each workspace, for usage_quote_reused (a few hundred bytes each).
_LAST_QUOTES: dict[int, PriceQuote] = {}
LAST_QUOTES_KEPT = 1000


def usage_quote(*, tenant: Tenant, at: datetime | None = None) -> PriceQuote:
    at = at or timezone.now()
    if timezone.is_naive(at):
        raise ValidationFailed("Give the time with a time zone.", field="at")
    version_id, prices = _prices_in_force(tenant=tenant, at=at)
    quote = PriceQuote(tenant_id=tenant.pk, at=at, version_id=version_id, prices=prices)
    if len(_LAST_QUOTES) >= LAST_QUOTES_KEPT:
        _LAST_QUOTES.clear()
    _LAST_QUOTES[tenant.pk] = quote
    return quote


def usage_quote_reused(*, tenant: Tenant) -> PriceQuote:
    """A quote for now without reading the rate card, when this process quoted the workspace before: the
    prices of the last quote, marked `reused` because they may be out of date. Only for an operation that
    places a hold with it: hold_place(quote=...) checks that the prices are still in force, in the
    statement that places the hold, and raises PricesChanged when they are not (then take usage_quote)."""
    last = _LAST_QUOTES.get(tenant.pk)
    if last is None:
        return usage_quote(tenant=tenant)
    return dataclasses.replace(last, at=timezone.now(), reused=True)


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


@dataclass(frozen=True)
class UsageCompanions:
    """What a caller records with a charge, written with it (in its statement or its transaction) only
    when the charge is made, so that it commits with the charge or not at all, and never twice.

    `rows`: unsaved instances of models with the fields `usage_event_id` and `cost_micros`, which are set
    to the event's id and its cost (the gateway's request log row). `job`: a core.Job whose `cost_micros`
    (what its steps were actually charged, whatever its status) grows by the cost."""

    rows: tuple[models.Model, ...] = ()
    job: Job | None = None

    def __post_init__(self):
        for row in self.rows:
            names = {field.attname for field in row._meta.concrete_fields}
            if not {"usage_event_id", "cost_micros"} <= names or not row._state.adding:
                raise TypeError(f"{type(row).__name__}: not unsaved, or no usage_event_id and cost_micros")

    def write(self, event: UsageEvent) -> None:
        """The locked path's way: inside the charge's transaction."""
        for row in self.rows:
            row.usage_event_id, row.cost_micros = event.pk, event.cost_micros
            row.save(force_insert=True)
        if self.job is not None and event.cost_micros:
            Job.objects.filter(pk=self.job.pk).update(cost_micros=F("cost_micros") + event.cost_micros)
            self.job.cost_micros += event.cost_micros

    def written(self, event: UsageEvent, row_ids) -> None:
        """The statement's way: it wrote them; bring the instances up to date."""
        for row, pk in zip(self.rows, row_ids, strict=True):
            row.pk, row.usage_event_id, row.cost_micros = pk, event.pk, event.cost_micros
            row._state.adding = False
        if self.job is not None:
            self.job.cost_micros += event.cost_micros


NO_COMPANIONS = UsageCompanions()

# PostgreSQL, the common case of usage with a hold, in one statement that writes all of it or nothing:
# the key is new, the account row is locked, the hold is pending and covers the cost. Each write reads
# the rows the one before it returned, so when any condition fails nothing is written and the locked path
# (usage_record) says why or does the rest; a key a racing statement used first fails the event's INSERT
# (a unique violation), which undoes the whole statement. Outside a transaction it commits on its own.
# Rows come as JSON objects of column values (jsonb_populate_record reads them with each column's own
# type), so the statement has a handful of parameters however many columns it writes.
_CHARGE = """
WITH fresh AS (
    SELECT NOT EXISTS (
        SELECT 1 FROM billing_usageevent WHERE tenant_id = %(tenant)s::bigint AND idempotency_key = %(key)s
    ) AS yes
), locked AS (
    SELECT id FROM billing_reserveaccount
    WHERE tenant_id = %(tenant)s::bigint AND (SELECT yes FROM fresh)
    FOR UPDATE
), settled AS (
    UPDATE billing_hold SET status = 'captured', settled_at = %(now)s::timestamptz, captured_micros = {cost}
    WHERE id = %(hold)s::bigint AND account_id = (SELECT id FROM locked) AND status = 'pending'
      AND amount_micros >= {cost}
    RETURNING amount_micros
), event AS (
    INSERT INTO billing_usageevent ({event_columns})
    SELECT {event_values} FROM settled, jsonb_populate_record(NULL::billing_usageevent, %(event)s::jsonb) u
    RETURNING id
), line AS (
    INSERT INTO billing_usageline (event_id, {line_columns})
    SELECT event.id, {line_values}
    FROM event, jsonb_populate_recordset(NULL::billing_usageline, %(lines)s::jsonb) l
), spent AS (
    UPDATE billing_reserveaccount
    SET balance_micros = balance_micros - {cost}, held_micros = held_micros - settled.amount_micros,
        updated_at = %(now)s::timestamptz
    FROM settled WHERE billing_reserveaccount.id = (SELECT id FROM locked)
    RETURNING billing_reserveaccount.id, billing_reserveaccount.balance_micros
), entry AS (
    INSERT INTO billing_ledgerentry ({entry_columns})
    SELECT {entry_values}
    FROM spent, event, jsonb_populate_record(NULL::billing_ledgerentry, %(entry)s::jsonb) e
    WHERE {cost} > 0
){companions}
SELECT event.id{companion_ids} FROM event
"""
# The companions' parts of _CHARGE: a row that records the charge, the job whose cost it adds to.
_CHARGE_ROW = (
    "c{i} AS (INSERT INTO {table} ({columns}) "
    "SELECT {values} FROM event, jsonb_populate_record(NULL::{table}, %(c{i})s::jsonb) c{i} RETURNING id)"
)
_CHARGE_ROW_ID = ", (SELECT id FROM c{i})"
_CHARGE_JOB = (
    "job AS (UPDATE {job} SET cost_micros = {job}.cost_micros + {cost} FROM event "
    "WHERE {job}.id = %(job)s::bigint AND {cost} > 0)"
)
_COST = "%(cost)s::bigint"


@functools.cache
def _fields(model, skip: tuple[str, ...] = ()) -> list:
    return [
        field for field in model._meta.concrete_fields if not field.primary_key and field.attname not in skip
    ]


def _columns_and_values(model, alias: str, computed: dict[str, str], skip=()) -> tuple[str, str]:
    """An INSERT's column list and its values: a computed expression, or the column of the JSON row
    `alias`."""
    quote = connection.ops.quote_name
    fields = _fields(model, skip)
    columns = ", ".join(quote(field.column) for field in fields)
    values = ", ".join(computed.get(field.attname) or f"{alias}.{quote(field.column)}" for field in fields)
    return columns, values


def _json_value(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)  # read back by the numeric column exactly as written
    raise TypeError(f"{type(value).__name__} has no JSON form for a charge's row")


def _json_row(instance, skip: tuple[str, ...] = ()) -> str:
    """The instance's column values as the ORM would write them, as a JSON object."""
    return json.dumps(_row_values(instance, skip), default=_json_value)


def _new_row_values(model, skip: tuple[str, ...] = (), **values) -> dict:
    """The column values an INSERT of model(**values) writes (the fields' defaults for the rest), without
    building the instance."""
    fields = _fields(model, skip)
    unknown = values.keys() - {field.attname for field in fields}
    if unknown:
        raise TypeError(f"{model.__name__} has no columns {sorted(unknown)}")
    row = {}
    for field in fields:
        if field.attname in values:
            row[field.column] = values[field.attname]
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            row[field.column] = timezone.now()
        else:
            row[field.column] = field.get_default()
    return row


def _row_values(instance, skip: tuple[str, ...] = ()) -> dict:
    # pre_save gives what the ORM would write (defaults, auto_now); the column's type reads the JSON
    return {field.column: field.pre_save(instance, add=True) for field in _fields(type(instance), skip)}


@functools.cache
def _charge_statement(companion_models: tuple, with_job: bool) -> str:
    """_CHARGE for these companions (the lines come as one JSON array, however many)."""
    quote = connection.ops.quote_name
    event_columns, event_values = _columns_and_values(UsageEvent, "u", {"cost_micros": _COST})
    line_columns, line_values = _columns_and_values(UsageLine, "l", {}, skip=("event_id",))
    entry_columns, entry_values = _columns_and_values(
        LedgerEntry,
        "e",
        {
            "account_id": "spent.id",
            "amount_micros": f"-{_COST}",
            "balance_after_micros": "spent.balance_micros",
            "usage_event_id": "event.id",
        },
    )
    companions = []
    for i, model in enumerate(companion_models):
        columns, values = _columns_and_values(
            model, f"c{i}", {"usage_event_id": "event.id", "cost_micros": _COST}
        )
        companions.append(
            _CHARGE_ROW.format(i=i, table=quote(model._meta.db_table), columns=columns, values=values)
        )
    if with_job:
        companions.append(_CHARGE_JOB.format(job=quote(Job._meta.db_table), cost=_COST))
    return _CHARGE.format(
        cost=_COST,
        event_columns=event_columns,
        event_values=event_values,
        line_columns=line_columns,
        line_values=line_values,
        entry_columns=entry_columns,
        entry_values=entry_values,
        companions="".join(f",\n{companion}" for companion in companions),
        companion_ids="".join(_CHARGE_ROW_ID.format(i=i) for i in range(len(companion_models))),
    )


def _line_values(line: PricedLine) -> dict:
    return {
        "meter": line.meter,
        "quantity": line.quantity,
        "unit_price_micros": line.unit_price_micros,
        "cost_micros": line.cost_micros,
    }


def _charge_in_one_statement(
    event: UsageEvent, lines: list[PricedLine], *, memo: str, companions: UsageCompanions
) -> bool:
    """Run _CHARGE (reserve._all_or_nothing). True when it charged (the event, its lines, the capture, the
    companions are written and `event` has its id); False when it wrote nothing, for the locked path."""
    sql = _charge_statement(tuple(type(row) for row in companions.rows), companions.job is not None)
    now = timezone.now()
    entry = _new_row_values(
        LedgerEntry,
        tenant_id=event.tenant_id,
        kind=LedgerEntry.Kind.HOLD_CAPTURE,
        amount_micros=-event.cost_micros,
        balance_after_micros=0,  # the statement writes the balance it leaves
        idempotency_key=f"hold:{event.hold_id}:capture",
        hold_id=event.hold_id,
        memo=memo,
        created_at=now,
    )
    rows = [
        _new_row_values(UsageLine, skip=("event_id",), tenant_id=event.tenant_id, **_line_values(line))
        for line in lines
    ]
    params = {
        "tenant": event.tenant_id,
        "key": event.idempotency_key,
        "hold": event.hold_id,
        "cost": event.cost_micros,
        "now": now,
        "job": companions.job.pk if companions.job is not None else None,
        "event": _json_row(event),
        "entry": json.dumps(entry, default=_json_value),
        "lines": json.dumps(rows, default=_json_value),
    }
    for i, row in enumerate(companions.rows):
        params[f"c{i}"] = _json_row(row)
    found = _all_or_nothing(sql, params)
    if found is None:
        return False
    event.pk = found[0]
    event._state.adding = False
    companions.written(event, found[1:])
    return True


def _event_insert(event: UsageEvent, lines: list[UsageLine]) -> int | None:
    """Insert the event and its lines unless the event's key was used: the event's id, or None (nothing
    written)."""
    pk = _insert_unless_exists(event, ("tenant_id", "idempotency_key"))
    if pk is not None:
        event.pk = pk
        UsageLine.objects.bulk_create(lines)
    return pk


@refusals_recorded  # the locked path's transaction rolls back the deduction's record of a refusal
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
    companions: UsageCompanions = NO_COMPANIONS,
) -> UsageEvent:
    """Record usage, price it with the version in force at `occurred_at`, and charge it, all at once.

    `estimated` marks quantities that were estimated rather than reported (e.g. an LLM response without
    usage); they are priced and charged the same way, and the flag stays on the event for everyone to see.
    With a hold, the cost is captured from it (the unused part released); anything above the hold is
    deducted under the account's policy. Without one, the cost is deducted. Same key, same usage: the
    first event is returned (and the companions are not written); same key with other quantities is a
    conflict. With a `quote` (usage_quote), the usage occurred at the quote's time and is priced with its
    prices. `companions` (UsageCompanions) are the caller's records of the charge, written with it.

    On PostgreSQL, usage with a hold that covers it is one statement (_CHARGE); anything else, and
    anything that statement declines, takes the locked path, in a transaction."""
    key = _check_key(idempotency_key)
    occurred_at = occurred_at or (quote.at if quote else timezone.now())
    if timezone.is_naive(occurred_at):
        raise ValidationFailed("Give the usage time with a time zone.", field="occurred_at")
    if duration_ms < 0:
        raise ValidationFailed("A duration cannot be negative.", field="duration_ms")
    quote = _quoted(tenant, quote, occurred_at)
    lines = _priced(quote.prices, model=model, quantities=quantities)
    cost = sum(line.cost_micros for line in lines)
    event = UsageEvent(
        tenant=tenant,
        model=model[:100],
        occurred_at=occurred_at,
        duration_ms=duration_ms,
        job_reference=job_reference[:200],
        idempotency_key=key,
        cost_micros=cost,
        rate_version_id=quote.version_id,
        hold_id=hold_id,
        estimated=estimated,
    )
    memo = f"{model + ' ' if model else ''}{', '.join(line.meter for line in lines)}"[:300]
    fast = hold_id is not None and connection.vendor == "postgresql"
    if fast and _charge_in_one_statement(event, lines, memo=memo, companions=companions):
        return event
    return _usage_charge_locked(event, lines, memo=memo, companions=companions)


@transaction.atomic
def _usage_charge_locked(
    event: UsageEvent, lines: list[PricedLine], *, memo: str, companions: UsageCompanions
) -> UsageEvent:
    """usage_record in a transaction, under the account's row lock: a repeated key, a hold that is not
    pending (hold_capture says why), a cost above the hold, usage without a hold, and SQLite."""
    tenant, key, cost, hold_id = event.tenant, event.idempotency_key, event.cost_micros, event.hold_id
    rows = [UsageLine(event=event, tenant=tenant, **_line_values(line)) for line in lines]
    if _event_insert(event, rows) is None:
        existing = UsageEvent.objects.get(tenant=tenant, idempotency_key=key)
        if existing.cost_micros != cost or existing.hold_id != hold_id:
            raise IdempotencyConflict(
                "This usage was already recorded with different quantities.",
                extra={"idempotency_key": key, "recorded_micros": existing.cost_micros},
            )
        return existing
    event._state.adding = False
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
    companions.write(event)
    return event
