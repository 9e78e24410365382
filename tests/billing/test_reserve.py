from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from apps.billing import services
from apps.billing.errors import IdempotencyConflict, InsufficientFunds
from apps.billing.models import AppendOnlyError, Hold, LedgerEntry, ReserveAccount
from apps.core.errors import PermissionDenied, ValidationFailed
from apps.core.models import Event

DOLLAR = 1_000_000


def _account(tenant) -> ReserveAccount:
    return ReserveAccount.objects.get(tenant=tenant)


def test_it_credits_once_per_key(tenant):
    first = services.reserve_credit(tenant=tenant, amount_micros=5 * DOLLAR, idempotency_key="stripe:cs_1")
    again = services.reserve_credit(tenant=tenant, amount_micros=5 * DOLLAR, idempotency_key="stripe:cs_1")
    assert again.pk == first.pk
    assert _account(tenant).balance_micros == 5 * DOLLAR
    assert first.balance_after_micros == 5 * DOLLAR


def test_it_refuses_the_same_key_with_another_amount(tenant):
    services.reserve_credit(tenant=tenant, amount_micros=5 * DOLLAR, idempotency_key="k")
    with pytest.raises(IdempotencyConflict) as caught:
        services.reserve_credit(tenant=tenant, amount_micros=6 * DOLLAR, idempotency_key="k")
    assert caught.value.status_code == 409
    assert _account(tenant).balance_micros == 5 * DOLLAR


def test_it_refuses_zero_negative_and_float_amounts(tenant):
    for amount in (0, -5, 1.5, True):
        with pytest.raises(ValidationFailed):
            services.reserve_credit(tenant=tenant, amount_micros=amount, idempotency_key=f"bad-{amount}")


def test_it_blocks_a_deduction_that_would_overdraw(tenant):
    services.reserve_credit(tenant=tenant, amount_micros=DOLLAR, idempotency_key="top")
    with pytest.raises(InsufficientFunds) as caught:
        services.reserve_deduct(tenant=tenant, amount_micros=DOLLAR + 1, idempotency_key="use")
    assert "Top up" in caught.value.message
    services.reserve_deduct(tenant=tenant, amount_micros=DOLLAR, idempotency_key="use")
    assert _account(tenant).balance_micros == 0


def test_it_lets_warn_go_negative_and_flags_it(tenant, staff):
    services.reserve_account_ensure(tenant=tenant)
    services.reserve_policy_set(tenant=tenant, actor=staff, policy="warn")
    services.reserve_deduct(tenant=tenant, amount_micros=3 * DOLLAR, idempotency_key="use")
    assert _account(tenant).balance_micros == -3 * DOLLAR
    assert Event.objects.filter(kind="billing.reserve.negative", tenant=tenant).exists()


def test_it_stops_limited_at_the_credit_limit(tenant, staff):
    services.reserve_policy_set(tenant=tenant, actor=staff, policy="limited", credit_limit_micros=2 * DOLLAR)
    services.reserve_deduct(tenant=tenant, amount_micros=2 * DOLLAR, idempotency_key="a")
    with pytest.raises(InsufficientFunds):
        services.reserve_deduct(tenant=tenant, amount_micros=1, idempotency_key="b")
    assert _account(tenant).balance_micros == -2 * DOLLAR


def test_it_counts_pending_holds_against_available(tenant):
    services.reserve_credit(tenant=tenant, amount_micros=10 * DOLLAR, idempotency_key="top")
    hold = services.hold_place(tenant=tenant, amount_micros=7 * DOLLAR, idempotency_key="job-1")
    account = _account(tenant)
    assert (account.balance_micros, account.available_micros) == (10 * DOLLAR, 3 * DOLLAR)
    with pytest.raises(InsufficientFunds):
        services.reserve_deduct(tenant=tenant, amount_micros=4 * DOLLAR, idempotency_key="use")
    assert services.hold_place(tenant=tenant, amount_micros=7 * DOLLAR, idempotency_key="job-1").pk == hold.pk
    with pytest.raises(IdempotencyConflict):
        services.hold_place(tenant=tenant, amount_micros=6 * DOLLAR, idempotency_key="job-1")


def test_it_captures_at_most_the_held_amount_and_releases_the_rest(tenant):
    services.reserve_credit(tenant=tenant, amount_micros=10 * DOLLAR, idempotency_key="top")
    hold = services.hold_place(tenant=tenant, amount_micros=4 * DOLLAR, idempotency_key="job")
    with pytest.raises(ValidationFailed):
        services.hold_capture(tenant=tenant, hold_id=hold.pk, amount_micros=4 * DOLLAR + 1)
    entry = services.hold_capture(tenant=tenant, hold_id=hold.pk, amount_micros=DOLLAR)
    assert entry.kind == LedgerEntry.Kind.HOLD_CAPTURE and entry.amount_micros == -DOLLAR
    account = _account(tenant)
    assert (account.balance_micros, account.held_micros) == (9 * DOLLAR, 0)
    assert services.hold_capture(tenant=tenant, hold_id=hold.pk, amount_micros=DOLLAR).pk == entry.pk
    with pytest.raises(IdempotencyConflict):
        services.hold_capture(tenant=tenant, hold_id=hold.pk, amount_micros=2 * DOLLAR)
    with pytest.raises(IdempotencyConflict):
        services.hold_void(tenant=tenant, hold_id=hold.pk)


def test_it_voids_a_hold_once_and_refuses_to_capture_it_later(tenant):
    services.reserve_credit(tenant=tenant, amount_micros=DOLLAR, idempotency_key="top")
    hold = services.hold_place(tenant=tenant, amount_micros=DOLLAR, idempotency_key="job")
    services.hold_void(tenant=tenant, hold_id=hold.pk)
    services.hold_void(tenant=tenant, hold_id=hold.pk)
    assert _account(tenant).available_micros == DOLLAR
    with pytest.raises(IdempotencyConflict):
        services.hold_capture(tenant=tenant, hold_id=hold.pk, amount_micros=1)


def test_it_does_not_find_another_tenants_hold(tenant, other_tenant):
    services.reserve_credit(tenant=tenant, amount_micros=DOLLAR, idempotency_key="top")
    hold = services.hold_place(tenant=tenant, amount_micros=DOLLAR, idempotency_key="job")
    with pytest.raises(ValidationFailed):
        services.hold_capture(tenant=other_tenant, hold_id=hold.pk, amount_micros=1)


def test_it_expires_due_holds_and_frees_the_money(tenant):
    services.reserve_credit(tenant=tenant, amount_micros=DOLLAR, idempotency_key="top")
    hold = services.hold_place(
        tenant=tenant, amount_micros=DOLLAR, idempotency_key="job", ttl=timedelta(minutes=1)
    )
    assert services.hold_expire_due(now=timezone.now()) == 0
    assert services.hold_expire_due(now=timezone.now() + timedelta(minutes=2)) == 1
    assert services.hold_expire_due(now=timezone.now() + timedelta(minutes=2)) == 0
    hold.refresh_from_db()
    assert hold.status == Hold.Status.EXPIRED
    assert _account(tenant).available_micros == DOLLAR


def test_it_requires_staff_and_a_reason_to_adjust(tenant, alice, staff):
    with pytest.raises(PermissionDenied):
        services.reserve_adjust(
            tenant=tenant, amount_micros=DOLLAR, reason="gift", actor=alice, idempotency_key="a"
        )
    with pytest.raises(ValidationFailed) as caught:
        services.reserve_adjust(
            tenant=tenant, amount_micros=DOLLAR, reason="  ", actor=staff, idempotency_key="a"
        )
    assert caught.value.field == "reason"
    entry = services.reserve_adjust(
        tenant=tenant, amount_micros=DOLLAR, reason="Goodwill credit", actor=staff, idempotency_key="a"
    )
    assert (entry.staff_user, entry.memo) == (staff, "Goodwill credit")
    audit = Event.objects.get(kind="billing.reserve.adjusted")
    assert (audit.actor, audit.data["reason"], audit.data["amount_micros"]) == (
        staff,
        "Goodwill credit",
        DOLLAR,
    )


def test_it_refuses_to_update_or_delete_a_ledger_entry(tenant):
    entry = services.reserve_credit(tenant=tenant, amount_micros=DOLLAR, idempotency_key="top")
    entry.memo = "changed"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only")
def test_it_has_the_database_refuse_updates_and_deletes(tenant):
    from django.db import IntegrityError

    entry = services.reserve_credit(tenant=tenant, amount_micros=DOLLAR, idempotency_key="top")
    for statement in (
        LedgerEntry.objects.filter(pk=entry.pk).update,
        LedgerEntry.objects.filter(pk=entry.pk).delete,
    ):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            statement(**({"memo": "x"} if statement.__name__ == "update" else {}))
    assert LedgerEntry.objects.get(pk=entry.pk).memo == ""
