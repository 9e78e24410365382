"""Writes to the reserve: credits, deductions, holds and staff adjustments.

Every balance change runs in one transaction that first locks the account row (`select_for_update`),
so concurrent changes to one account queue up instead of losing updates. Each operation carries an
idempotency key, unique per account in the database: repeating it with the same amount returns the first
result; with another amount it raises IdempotencyConflict (TigerBeetle's "exists" / "exists with
different amount").
"""

import contextlib
import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.accounts.models import Tenant
from apps.billing.errors import IdempotencyConflict, InsufficientFunds, PricesChanged
from apps.billing.models import Hold, LedgerEntry, ReserveAccount
from apps.billing.services.auto_topup import auto_topup_maybe_start
from apps.billing.services.prices import QUOTE_IS_CURRENT, PriceQuote, quote_check_params, quote_is_current
from apps.core.errors import ValidationFailed, require_staff
from apps.core.events import emit_event
from apps.core.money import cents_to_micros, format_micros

DEFAULT_HOLD_TTL = timedelta(minutes=30)
MAX_HOLD_TTL = timedelta(days=1)
MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class Debit:
    """A request to take money, checked against the account's policy."""

    amount_micros: int
    reason: str


def reserve_account_ensure(*, tenant: Tenant) -> ReserveAccount:
    """The tenant's reserve account, created on first use (a race to create it ends in one row)."""
    account = ReserveAccount.objects.filter(tenant=tenant).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return ReserveAccount.objects.create(tenant=tenant)
    except IntegrityError:
        return ReserveAccount.objects.get(tenant=tenant)


def _lock(tenant: Tenant) -> ReserveAccount:
    account = ReserveAccount.objects.select_for_update().filter(tenant=tenant).first()
    if account is None:
        reserve_account_ensure(tenant=tenant)
        account = ReserveAccount.objects.select_for_update().get(tenant=tenant)
    return account


def _check_key(key: str) -> str:
    key = (key or "").strip()
    if not key:
        raise ValidationFailed("An idempotency key is required.", field="idempotency_key")
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed(
            f"Keep idempotency keys to {MAX_KEY_LENGTH} characters.", field="idempotency_key"
        )
    return key


def _check_positive(amount_micros: int, field: str = "amount_micros") -> int:
    if isinstance(amount_micros, bool) or not isinstance(amount_micros, int):
        raise ValidationFailed("Amounts are whole numbers of micros.", field=field)
    if amount_micros <= 0:
        raise ValidationFailed("The amount must be more than zero.", field=field)
    return amount_micros


def _existing_entry(account: ReserveAccount, key: str, amount_micros: int) -> LedgerEntry | None:
    entry = next(iter(LedgerEntry.objects.filter(account=account, idempotency_key=key).order_by()[:1]), None)
    if entry is not None and entry.amount_micros != amount_micros:
        raise IdempotencyConflict(
            "This operation was already recorded with a different amount.",
            extra={"idempotency_key": key, "recorded_micros": entry.amount_micros},
        )
    return entry


def _enforce_policy(account: ReserveAccount, debit: Debit) -> None:
    """Under `block` available never goes below zero; `limited` stops at -credit limit; `warn` flags it."""
    available_after = account.available_micros - debit.amount_micros
    if available_after >= 0:
        return
    if account.policy == ReserveAccount.Policy.WARN:
        emit_event(
            "billing.reserve.negative",
            tenant=account.tenant,
            available_after_micros=available_after,
            reason=debit.reason,
        )
        return
    floor = -account.credit_limit_micros if account.policy == ReserveAccount.Policy.LIMITED else 0
    if available_after < floor:
        raise InsufficientFunds(
            f"Not enough in the reserve: {format_micros(debit.amount_micros, account.currency)} needed, "
            f"{format_micros(account.available_micros - floor, account.currency)} available. "
            "Top up to continue.",
            extra={"needed_micros": debit.amount_micros, "available_micros": account.available_micros},
        )


def _insert_params(instance, fields) -> list:
    """The values an INSERT of `instance` writes to `fields`, as the ORM would prepare them."""
    return [field.get_db_prep_save(field.pre_save(instance, add=True), connection) for field in fields]


def _placeholder(prefix: str, field) -> str:
    """A named parameter cast to the column's type (one statement may hold several models' values)."""
    return f"%({prefix}_{field.attname})s::{field.db_type(connection)}"


def _named_params(prefix: str, instance, fields) -> dict:
    """The values _insert_params gives, keyed by the names _placeholder writes into the statement."""
    values = _insert_params(instance, fields)
    return {f"{prefix}_{field.attname}": value for field, value in zip(fields, values, strict=True)}


def _insert_unless_exists(instance, unique: tuple[str, ...]) -> int | None:
    """INSERT ... ON CONFLICT (<unique columns>) DO NOTHING RETURNING id: the new id, or None if a row with
    those values exists. One statement decides, so a repeated key can never race past a check."""
    meta = type(instance)._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    params = _insert_params(instance, fields)
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders}) "  # noqa: S608 - names from model meta
        f"ON CONFLICT ({', '.join(quote(column) for column in unique)}) DO NOTHING RETURNING {quote('id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


def _insert_unless_key_exists(entry: LedgerEntry) -> int | None:
    """The ledger's INSERT ... ON CONFLICT (account, idempotency_key) DO NOTHING RETURNING id."""
    return _insert_unless_exists(entry, ("account_id", "idempotency_key"))


def _append_once(
    account: ReserveAccount, *, kind: str, amount_micros: int, key: str, **source
) -> tuple[LedgerEntry, bool]:
    """Append an entry for `key` unless it exists: (entry, created). The caller holds the row lock.

    A repeated key returns the first entry (IdempotencyConflict if its amount differs) and moves nothing.
    """
    balance_after = account.balance_micros + amount_micros
    entry = LedgerEntry(
        tenant_id=account.tenant_id,
        account=account,
        kind=kind,
        amount_micros=amount_micros,
        balance_after_micros=balance_after,
        idempotency_key=key,
        **source,
    )
    entry.pk = _insert_unless_key_exists(entry)
    if entry.pk is None:
        return _existing_entry(account, key, amount_micros), False
    entry._state.adding = False
    account.balance_micros = balance_after
    account.save(update_fields=["balance_micros", "updated_at"])
    return entry, True


def _append(account: ReserveAccount, *, kind: str, amount_micros: int, key: str, **source) -> LedgerEntry:
    """Append one entry and move the balance; the caller holds the row lock."""
    account.balance_micros += amount_micros
    account.save(update_fields=["balance_micros", "held_micros", "updated_at"])
    return LedgerEntry.objects.create(
        tenant_id=account.tenant_id,
        account=account,
        kind=kind,
        amount_micros=amount_micros,
        balance_after_micros=account.balance_micros,
        idempotency_key=key,
        **source,
    )


def _after_debit(account: ReserveAccount, spent_micros: int = 0) -> None:
    """Money went down (or may be spent): start the automatic top-up if it is due. The row is locked."""
    topup = auto_topup_maybe_start(account=account)
    _low_balance_note(account, spent_micros, auto_topup_started=topup is not None)


def _low_balance_note(account: ReserveAccount, spent_micros: int, *, auto_topup_started: bool) -> None:
    """Say once when available money falls from at or above the low-balance threshold to under it.

    `rearmed_by_entry_id` is the latest credit: a crossing after the same credit is the same crossing (holds
    released and placed again do not make new ones); a top-up starts a new one. Read by apps.notifications.
    """
    threshold, after = account.low_balance_threshold_micros, account.available_micros
    if spent_micros <= 0 or not after < threshold <= after + spent_micros:
        return
    last_credit = (
        LedgerEntry.objects.filter(account=account, amount_micros__gt=0)
        .order_by("-id")
        .values_list("pk", flat=True)
        .first()
    )
    emit_event(
        "billing.reserve.low",
        tenant=account.tenant,
        available_micros=after,
        threshold_micros=threshold,
        currency=account.currency,
        rearmed_by_entry_id=last_credit,
        auto_topup_started=auto_topup_started,
    )


def reserve_refusal_record(*, tenant: Tenant, refusal: InsufficientFunds, memo: str = "") -> None:
    """Record that work was refused for money (`billing.reserve.refused`; apps.notifications tells the
    workspace). Call it where the refusal leaves the last transaction it rolls back: an event written
    inside a transaction that then rolls back goes with it."""
    emit_event(
        "billing.reserve.refused",
        tenant=tenant,
        needed_micros=refusal.extra.get("needed_micros"),
        available_micros=refusal.extra.get("available_micros"),
        memo=str(memo or "")[:300],
    )


def refusals_recorded(service):
    """Record each InsufficientFunds a service raises (reserve_refusal_record) once its own transaction
    has rolled back. For the outermost service a refusal leaves: billing's own, and the services of the
    apps above that refuse before they call billing (improving entries, writing reports)."""

    @functools.wraps(service)
    def recorded(*, tenant: Tenant, **kwargs):
        try:
            return service(tenant=tenant, **kwargs)
        except InsufficientFunds as exc:
            reserve_refusal_record(tenant=tenant, refusal=exc, memo=kwargs.get("memo") or "")
            raise

    return recorded


@transaction.atomic
def reserve_credit(
    *,
    tenant: Tenant,
    amount_micros: int,
    idempotency_key: str,
    kind: str = LedgerEntry.Kind.TOPUP,
    stripe_object_id: str = "",
    memo: str = "",
) -> LedgerEntry:
    """Add money (a top-up). The same key credits once, however often it is repeated."""
    key = _check_key(idempotency_key)
    _check_positive(amount_micros)
    account = _lock(tenant)
    entry, created = _append_once(
        account, kind=kind, amount_micros=amount_micros, key=key, stripe_object_id=stripe_object_id, memo=memo
    )
    if created:
        emit_event(
            "billing.reserve.credited",
            tenant=tenant,
            entry_id=entry.pk,
            amount_micros=amount_micros,
            memo=memo,
        )
    return entry


class _KeyAlreadyUsed(Exception):
    """Raised inside the fast path to roll its balance change back when the key turns out to be a repeat."""


# The low-balance policy in SQL (the same rule as _enforce_policy): may %(amount)s more be spent or held?
_POLICY_ALLOWS = """(policy = 'warn'
       OR balance_micros - held_micros - %(amount)s
          >= CASE WHEN policy = 'limited' THEN -credit_limit_micros ELSE 0 END)"""

_DEBIT_IF_ALLOWED = f"""
UPDATE billing_reserveaccount
SET balance_micros = balance_micros - %(amount)s, updated_at = %(now)s
WHERE tenant_id = %(tenant)s
  AND {_POLICY_ALLOWS}
RETURNING {{columns}}
"""  # noqa: S608 - a constant fragment


@functools.cache
def _account_columns() -> str:
    quote = connection.ops.quote_name
    return ", ".join(quote(field.column) for field in ReserveAccount._meta.concrete_fields)


def _debit_fast(*, tenant: Tenant, amount_micros: int, key: str, **source) -> LedgerEntry | None:
    """The common case in two statements: an UPDATE that takes the row lock and applies the policy in its
    WHERE clause, then the ledger INSERT ... ON CONFLICT. Returns None when the policy refuses or there is
    no account yet; raises _KeyAlreadyUsed (to roll the UPDATE back) when the key is a repeat. The caller
    then takes the locked path, which says exactly why, or returns the first entry."""
    fields = ReserveAccount._meta.concrete_fields
    statement = _DEBIT_IF_ALLOWED.format(columns=_account_columns())
    with connection.cursor() as cursor:
        cursor.execute(statement, {"amount": amount_micros, "now": timezone.now(), "tenant": tenant.pk})
        row = cursor.fetchone()
    if row is None:
        return None
    account = ReserveAccount.from_db(connection.alias, [field.attname for field in fields], row)
    entry = LedgerEntry(
        tenant_id=account.tenant_id,
        account=account,
        amount_micros=-amount_micros,
        balance_after_micros=account.balance_micros,
        idempotency_key=key,
        **source,
    )
    entry.pk = _insert_unless_key_exists(entry)
    if entry.pk is None:
        raise _KeyAlreadyUsed
    entry._state.adding = False
    if account.available_micros < 0:  # only `warn` lets it go there
        emit_event(
            "billing.reserve.negative",
            tenant=tenant,
            available_after_micros=account.available_micros,
            reason=entry.memo or entry.kind,
        )
    _after_debit(account, amount_micros)
    return entry


@refusals_recorded
def reserve_deduct(
    *,
    tenant: Tenant,
    amount_micros: int,
    idempotency_key: str,
    kind: str = LedgerEntry.Kind.USAGE,
    usage_event_id: int | None = None,
    memo: str = "",
) -> LedgerEntry:
    """Take money for usage, within the account's low-balance policy."""
    key = _check_key(idempotency_key)
    _check_positive(amount_micros)
    source = {"kind": kind, "usage_event_id": usage_event_id, "memo": memo}
    try:
        with transaction.atomic():
            entry = _debit_fast(tenant=tenant, amount_micros=amount_micros, key=key, **source)
            if entry is not None:
                return entry
    except _KeyAlreadyUsed:
        pass
    with transaction.atomic():
        account = _lock(tenant)
        try:
            _enforce_policy(account, Debit(amount_micros, memo or kind))
        except InsufficientFunds:
            # A repeat of a deduction that already went through returns it, even if money ran out since.
            existing = _existing_entry(account, key, -amount_micros)
            if existing is None:
                raise
            return existing
        entry, created = _append_once(account, amount_micros=-amount_micros, key=key, **source)
        if created:
            _after_debit(account, amount_micros)
        return entry


def _expire_due_holds(account: ReserveAccount, now: datetime) -> int:
    due = list(account.holds.filter(status=Hold.Status.PENDING, expires_at__lte=now))
    for hold in due:
        hold.status = Hold.Status.EXPIRED
        hold.settled_at = now
        hold.save(update_fields=["status", "settled_at"])
        account.held_micros -= hold.amount_micros
    if due:
        account.save(update_fields=["held_micros", "updated_at"])
    return len(due)


_HOLD_IF_ALLOWED = f"""
UPDATE billing_reserveaccount
SET held_micros = held_micros + %(amount)s, updated_at = %(now)s
WHERE tenant_id = %(tenant)s
  AND {_POLICY_ALLOWS}
RETURNING {{columns}}
"""  # noqa: S608 - a constant fragment


@functools.cache
def _hold_if_allowed() -> str:
    return _HOLD_IF_ALLOWED.format(columns=_account_columns())


def _hold_insert_fields() -> list:
    return [field for field in Hold._meta.concrete_fields if not field.primary_key]


# What _hold_in_one_statement adds to the UPDATE's conditions: the key is unused, the quote is current.
_HOLD_ONLY_IF = """  AND NOT EXISTS (
      SELECT 1 FROM billing_hold
      WHERE billing_hold.account_id = billing_reserveaccount.id
        AND billing_hold.idempotency_key = %(h_idempotency_key)s
  )
  AND (SELECT current FROM checked)
RETURNING"""


@functools.cache
def _hold_in_one_statement(*, durable: bool, checked: bool) -> str:
    """PostgreSQL: the policy check, the increment of `held_micros` and the hold's INSERT in one statement
    (the INSERT reads the account the UPDATE locked and returned). It writes all of it or nothing: a key
    already used makes the UPDATE match no row, and one used by a racing statement fails the INSERT (a
    unique violation), which undoes the statement's UPDATE with it. `checked`: it writes only if the
    quote's prices are the ones in force (prices.QUOTE_IS_CURRENT). One row: whether they are, the account
    as the UPDATE left it (NULLs when it wrote nothing) and the new hold's id.

    Not `durable`: the statement commits on its own (autocommit) without waiting for the WAL to reach the
    disk (`synchronous_commit` off for its transaction alone). It is visible to every other transaction
    at once, as any commit is; only a crash of the database in the next moments could lose it, and then
    it is lost whole, row and increment together, as if never placed. The charge that captures it commits
    durably, and a commit flushes all the WAL before it, so no charge can outlive its hold. A lost hold
    means one model call is not charged; no one's money is ever wrong."""
    quote = connection.ops.quote_name
    fields = _hold_insert_fields()
    values = ["account.id" if field.attname == "account_id" else _placeholder("h", field) for field in fields]
    update = _hold_if_allowed().replace("RETURNING", _HOLD_ONLY_IF)
    commit = "" if durable else ", set_config('synchronous_commit', 'off', true)"
    return f"""
WITH checked AS (SELECT {QUOTE_IS_CURRENT if checked else "true"} AS current),
account AS ({update}),
hold AS (
    INSERT INTO billing_hold ({", ".join(quote(field.column) for field in fields)})
    SELECT {", ".join(values)} FROM account
    RETURNING id
)
SELECT (SELECT current FROM checked),
       {", ".join(f"account.{quote(field.column)}" for field in ReserveAccount._meta.concrete_fields)},
       (SELECT id FROM hold){commit}
FROM (SELECT 1) AS one LEFT JOIN account ON true
"""  # noqa: S608 - names from model meta, values as parameters


def _hold_params(hold: Hold) -> dict:
    fields = [field for field in _hold_insert_fields() if field.attname != "account_id"]
    return _named_params("h", hold, fields)


def _new_hold(
    tenant: Tenant,
    account: ReserveAccount | None,
    *,
    amount_micros: int,
    key: str,
    memo: str,
    ttl: timedelta,
    now,
) -> Hold:
    """An unsaved pending hold on the tenant's account (both paths of hold_place write it)."""
    return Hold(
        tenant=tenant,
        account=account,
        amount_micros=amount_micros,
        idempotency_key=key,
        memo=memo[:300],
        expires_at=now + ttl,
        created_at=now,
    )


def _prices_changed() -> PricesChanged:
    return PricesChanged("The prices changed just now. Nothing was held or charged; try again.")


def _all_or_nothing(sql: str, params: dict) -> tuple | None:
    """Run a statement that writes all of its rows or none: its first row, or None when a unique violation
    (a racing statement used the key first) undid it. Outside a transaction it is a transaction of its
    own; inside the caller's it runs in a savepoint, so that the violation undoes only it, and it commits
    as the caller's does."""
    inside = connection.in_atomic_block
    try:
        with transaction.atomic() if inside else contextlib.nullcontext(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    except IntegrityError:
        return None


def _hold_row_postgres(params: dict, quote: PriceQuote | None) -> tuple | None:
    """Run _hold_in_one_statement: the account's row and the hold's id, or None (nothing written)."""
    if quote is not None:
        params = {**params, **quote_check_params(quote)}
    durable = connection.in_atomic_block  # inside a caller's transaction it commits with it, durably
    row = _all_or_nothing(_hold_in_one_statement(durable=durable, checked=quote is not None), params)
    if row is None:
        return None
    if not row[0]:
        raise _prices_changed()
    if row[1] is None:
        return None
    return row[1 : len(ReserveAccount._meta.concrete_fields) + 2]


def _hold_row_other(params: dict, hold: Hold, quote: PriceQuote | None) -> tuple | None:
    """SQLite: the quote's check, then the UPDATE and the INSERT ... ON CONFLICT in one transaction; a
    repeated key takes the increment back before the transaction ends, so no one sees it."""
    if quote is not None and not quote_is_current(quote):
        raise _prices_changed()
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(_hold_if_allowed(), params)
        row = cursor.fetchone()
        if row is None:
            return None
        hold.account_id = row[0]
        pk = _insert_unless_exists(hold, ("account_id", "idempotency_key"))
        if pk is None:
            cursor.execute(
                "UPDATE billing_reserveaccount SET held_micros = held_micros - %s WHERE id = %s",
                [params["amount"], row[0]],
            )
            return None
    return (*row, pk)


def _hold_fast(
    *, tenant: Tenant, amount_micros: int, key: str, ttl: timedelta, memo: str, quote: PriceQuote | None
) -> Hold | None:
    """The common case in one statement on PostgreSQL (two elsewhere): an UPDATE that takes the account's
    row lock, applies the policy in its WHERE clause and adds to `held_micros`, and the hold's INSERT.
    Returns None when the policy refuses, there is no account yet, or the key was used (nothing was
    written); the caller then takes the locked path, which says exactly why, or returns the first hold.
    Raises PricesChanged (nothing written) when the quote's prices are no longer in force.

    Due holds are not expired here (that scan cost a query on every hold): the schedule expires them, and
    the locked path expires them before it refuses, so a due hold never stands in the way of a new one.
    What follows a debit (_after_debit) decides from the account's row as this statement left it; it
    writes only when the balance crosses a threshold, which one statement alone can do."""
    fields = ReserveAccount._meta.concrete_fields
    now = timezone.now()
    hold = _new_hold(tenant, None, amount_micros=amount_micros, key=key, memo=memo, ttl=ttl, now=now)
    params = {"amount": amount_micros, "now": now, "tenant": tenant.pk}
    if connection.vendor == "postgresql":
        row = _hold_row_postgres({**params, **_hold_params(hold)}, quote)
    else:
        row = _hold_row_other(params, hold, quote)
    if row is None:
        return None
    row, hold.pk = row[:-1], row[-1]
    account = ReserveAccount.from_db(connection.alias, [field.attname for field in fields], row)
    account.tenant = tenant
    hold.account = account
    hold._state.adding = False
    if account.available_micros < 0 and account.policy == ReserveAccount.Policy.WARN:  # as _enforce_policy
        emit_event(
            "billing.reserve.negative",
            tenant=tenant,
            available_after_micros=account.available_micros,
            reason=memo or "hold",
        )
    _after_debit(account, amount_micros)
    return hold


@refusals_recorded
def hold_place(
    *,
    tenant: Tenant,
    amount_micros: int,
    idempotency_key: str,
    ttl: timedelta = DEFAULT_HOLD_TTL,
    memo: str = "",
    quote: PriceQuote | None = None,
) -> Hold:
    """Reserve money for an operation whose final cost is not known yet (two-phase, like TigerBeetle).

    With the `quote` the amount was priced with, the hold is placed only if its prices are still the ones
    in force (checked in the same statement on PostgreSQL); otherwise PricesChanged, and nothing is held.
    That is what lets a caller price with usage_quote_reused, which reads no rate card."""
    key = _check_key(idempotency_key)
    _check_positive(amount_micros)
    if not timedelta(0) < ttl <= MAX_HOLD_TTL:
        raise ValidationFailed("A hold lasts between a moment and one day.", field="ttl")
    if quote is not None and quote.tenant_id != tenant.pk:
        raise ValidationFailed("That price quote is for another workspace.", field="quote")
    hold = _hold_fast(tenant=tenant, amount_micros=amount_micros, key=key, ttl=ttl, memo=memo, quote=quote)
    if hold is not None:
        return hold
    return _hold_place_locked(tenant=tenant, amount_micros=amount_micros, key=key, ttl=ttl, memo=memo)


@transaction.atomic
def _hold_place_locked(*, tenant: Tenant, amount_micros: int, key: str, ttl: timedelta, memo: str) -> Hold:
    """hold_place under `select_for_update`: a repeated key, a refusal (with its reason), or a first hold."""
    account = _lock(tenant)
    existing = Hold.objects.filter(account=account, idempotency_key=key).first()
    if existing is not None:
        if existing.amount_micros != amount_micros:
            raise IdempotencyConflict(
                "This hold was already placed with a different amount.",
                extra={"idempotency_key": key, "recorded_micros": existing.amount_micros},
            )
        return existing
    now = timezone.now()
    _expire_due_holds(account, now)
    _enforce_policy(account, Debit(amount_micros, memo or "hold"))
    hold = _new_hold(tenant, account, amount_micros=amount_micros, key=key, memo=memo, ttl=ttl, now=now)
    hold.save(force_insert=True)
    account.held_micros += amount_micros
    account.save(update_fields=["held_micros", "updated_at"])
    _after_debit(account, amount_micros)
    return hold


def _lock_hold(tenant: Tenant, hold_id: int) -> tuple[ReserveAccount, Hold]:
    # Fixed lock order everywhere (pgledger): the account first, then the hold.
    account = _lock(tenant)
    try:
        hold = Hold.objects.select_for_update().get(pk=hold_id, account=account)
    except Hold.DoesNotExist as exc:
        raise ValidationFailed("No such hold in this workspace.", field="hold") from exc
    return account, hold


def _settle(account: ReserveAccount, hold: Hold, status: str, captured_micros: int = 0) -> None:
    hold.status = status
    hold.captured_micros = captured_micros
    hold.settled_at = timezone.now()
    hold.save(update_fields=["status", "captured_micros", "settled_at"])
    account.held_micros -= hold.amount_micros


@transaction.atomic
def hold_capture(
    *, tenant: Tenant, hold_id: int, amount_micros: int, usage_event_id: int | None = None, memo: str = ""
) -> LedgerEntry | None:
    """Post the actual cost of a held operation (at most the held amount) and release the rest.

    Capturing zero releases the hold without a ledger entry. Capturing again with the same amount
    returns the first result.
    """
    if isinstance(amount_micros, bool) or not isinstance(amount_micros, int) or amount_micros < 0:
        raise ValidationFailed("The captured amount is a whole, non-negative number of micros.")
    account, hold = _lock_hold(tenant, hold_id)
    key = f"hold:{hold.pk}:capture"
    if hold.status == Hold.Status.CAPTURED:
        if hold.captured_micros != amount_micros:
            raise IdempotencyConflict(
                "This hold was already captured with a different amount.",
                extra={"captured_micros": hold.captured_micros},
            )
        return LedgerEntry.objects.filter(account=account, idempotency_key=key).first()
    if hold.status != Hold.Status.PENDING:
        raise IdempotencyConflict(f"This hold is {hold.get_status_display().lower()} and cannot be captured.")
    if amount_micros > hold.amount_micros:
        raise ValidationFailed(
            "The captured amount is more than was held.",
            extra={"held_micros": hold.amount_micros, "requested_micros": amount_micros},
        )
    _settle(account, hold, Hold.Status.CAPTURED, amount_micros)
    if amount_micros == 0:
        account.save(update_fields=["held_micros", "updated_at"])
        return None
    return _append(
        account,
        kind=LedgerEntry.Kind.HOLD_CAPTURE,
        amount_micros=-amount_micros,
        key=key,
        hold=hold,
        usage_event_id=usage_event_id,
        memo=memo or hold.memo,
    )


_CAPTURE_PENDING = """
UPDATE billing_hold
SET status = 'captured', settled_at = %(now)s,
    captured_micros = CASE WHEN amount_micros < %(cost)s THEN amount_micros ELSE %(cost)s END
WHERE id = %(hold)s AND account_id = %(account)s AND status = 'pending'
RETURNING amount_micros, captured_micros
"""

_SPEND_HELD = """
UPDATE billing_reserveaccount
SET balance_micros = balance_micros - %(captured)s, held_micros = held_micros - %(held)s, updated_at = %(now)s
WHERE id = %(account)s
RETURNING balance_micros
"""


def _hold_capture_up_to(
    *, tenant: Tenant, hold_id: int, cost_micros: int, usage_event_id: int | None, memo: str
) -> int | None:
    """Capture min(cost, held) of a pending hold inside the caller's transaction (usage recording's locked
    path): lock the account row (the fixed order: account, then hold), settle the hold with one conditional
    UPDATE, move balance and held, append the ledger entry. Returns the amount captured, or None (having
    written nothing) when there is no pending hold of that id in this workspace: hold_capture then says
    why (captured already, voided, expired, another workspace's)."""
    if not connection.in_atomic_block:
        raise RuntimeError("_hold_capture_up_to runs inside the usage's transaction")
    account_id = ReserveAccount.objects.select_for_update().filter(tenant=tenant).values_list("pk", flat=True)
    account_id = account_id.first()
    if account_id is None:
        return None
    now = timezone.now()
    params = {"now": now, "cost": cost_micros, "hold": hold_id, "account": account_id}
    with connection.cursor() as cursor:
        cursor.execute(_CAPTURE_PENDING, params)
        row = cursor.fetchone()
        if row is None:
            return None
        held, captured = row
        cursor.execute(_SPEND_HELD, {**params, "captured": captured, "held": held})
        balance_after = cursor.fetchone()[0]
    entry = LedgerEntry(
        tenant=tenant,
        account_id=account_id,
        kind=LedgerEntry.Kind.HOLD_CAPTURE,
        amount_micros=-captured,
        balance_after_micros=balance_after,
        idempotency_key=f"hold:{hold_id}:capture",
        hold_id=hold_id,
        usage_event_id=usage_event_id,
        memo=memo[:300],
        created_at=now,
    )
    if captured and _insert_unless_key_exists(entry) is None:  # a pending hold with a capture entry
        raise IdempotencyConflict("This hold was already captured.")
    return captured


@transaction.atomic
def hold_void(*, tenant: Tenant, hold_id: int) -> Hold:
    """Release a pending hold without spending anything. Voiding twice is harmless."""
    account, hold = _lock_hold(tenant, hold_id)
    if hold.status in (Hold.Status.VOIDED, Hold.Status.EXPIRED):
        return hold
    if hold.status == Hold.Status.CAPTURED:
        raise IdempotencyConflict("This hold was already captured and cannot be voided.")
    _settle(account, hold, Hold.Status.VOIDED)
    account.save(update_fields=["held_micros", "updated_at"])
    return hold


def hold_expire_due(*, now: datetime | None = None) -> int:
    """Expire pending holds past their time, one account transaction at a time. Safe to run twice."""
    now = now or timezone.now()
    tenant_ids = (
        Hold.objects.filter(status=Hold.Status.PENDING, expires_at__lte=now)
        .values_list("tenant_id", flat=True)
        .distinct()
    )
    expired = 0
    for tenant in Tenant.objects.filter(pk__in=list(tenant_ids)):
        with transaction.atomic():
            expired += _expire_due_holds(_lock(tenant), now)
    return expired


@transaction.atomic
def reserve_adjust(
    *, tenant: Tenant, amount_micros: int, reason: str, actor, idempotency_key: str
) -> LedgerEntry:
    """A staff correction, positive or negative, with a reason, written to the audit log."""
    require_staff(actor, "Only staff can adjust a reserve.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why: a reason is required for every adjustment.", field="reason")
    if len(reason) > 300:
        raise ValidationFailed("Keep the reason to 300 characters.", field="reason")
    if isinstance(amount_micros, bool) or not isinstance(amount_micros, int) or amount_micros == 0:
        raise ValidationFailed("Enter an amount other than zero.", field="amount")
    key = _check_key(idempotency_key)
    account = _lock(tenant)
    existing = _existing_entry(account, key, amount_micros)
    if existing is not None:
        return existing
    if amount_micros < 0:
        _enforce_policy(account, Debit(-amount_micros, f"adjustment: {reason}"))
    entry = _append(
        account,
        kind=LedgerEntry.Kind.ADJUSTMENT,
        amount_micros=amount_micros,
        key=key,
        staff_user=actor,
        memo=reason,
    )
    emit_event(
        "billing.reserve.adjusted",
        tenant=tenant,
        actor=actor,
        entry_id=entry.pk,
        amount_micros=amount_micros,
        reason=reason,
        balance_after_micros=entry.balance_after_micros,
    )
    return entry


@transaction.atomic
def reserve_settings_update(
    *,
    tenant: Tenant,
    actor,
    auto_topup_enabled: bool,
    auto_topup_amount_cents: int,
    auto_topup_threshold_micros: int,
    low_balance_threshold_micros: int,
) -> ReserveAccount:
    low, high = settings.BILLING_TOPUP_MIN_CENTS, settings.BILLING_TOPUP_MAX_CENTS
    if not low <= auto_topup_amount_cents <= high:
        raise ValidationFailed(
            f"The automatic top-up must be between {format_micros(cents_to_micros(low))} "
            f"and {format_micros(cents_to_micros(high))}.",
            field="auto_topup_amount",
        )
    if auto_topup_threshold_micros < 0 or low_balance_threshold_micros < 0:
        raise ValidationFailed("Thresholds cannot be negative.", field="auto_topup_threshold")
    account = _lock(tenant)
    if auto_topup_enabled and not account.stripe_payment_method_id:
        raise ValidationFailed(
            "Automatic top-up needs a saved card: make one top-up through Checkout first.",
            field="auto_topup_enabled",
        )
    account.auto_topup_enabled = auto_topup_enabled
    account.auto_topup_amount_cents = auto_topup_amount_cents
    account.auto_topup_threshold_micros = auto_topup_threshold_micros
    account.low_balance_threshold_micros = low_balance_threshold_micros
    if auto_topup_enabled:
        account.auto_topup_failure_reason = ""
        account.auto_topup_failed_at = None
    account.save()
    emit_event(
        "billing.settings.updated",
        tenant=tenant,
        actor=actor,
        auto_topup_enabled=auto_topup_enabled,
        auto_topup_amount_cents=auto_topup_amount_cents,
        auto_topup_threshold_micros=auto_topup_threshold_micros,
        low_balance_threshold_micros=low_balance_threshold_micros,
    )
    if auto_topup_enabled:
        _after_debit(account)
    return account


@transaction.atomic
def reserve_policy_set(*, tenant: Tenant, actor, policy: str, credit_limit_micros: int = 0) -> ReserveAccount:
    """Staff choose how a workspace may go below zero."""
    require_staff(actor, "Only staff can change the low-balance policy.")
    if policy not in ReserveAccount.Policy.values:
        raise ValidationFailed("Choose block, warn or limited.", field="policy")
    if credit_limit_micros < 0:
        raise ValidationFailed("The credit limit cannot be negative.", field="credit_limit")
    account = _lock(tenant)
    account.policy = policy
    account.credit_limit_micros = credit_limit_micros if policy == ReserveAccount.Policy.LIMITED else 0
    account.save(update_fields=["policy", "credit_limit_micros", "updated_at"])
    emit_event(
        "billing.policy.changed", tenant=tenant, actor=actor, policy=policy, credit_limit=credit_limit_micros
    )
    return account
