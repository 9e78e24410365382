"""The hold and the charge as statements that commit on their own (PostgreSQL, outside any transaction, as a
job runs them): each writes all it should or nothing, and whatever it declines the locked path handles."""

import pytest
from django.db import IntegrityError, connection, connections

from apps.accounts.models import Tenant
from apps.billing import selectors, services
from apps.billing.errors import IdempotencyConflict, InsufficientFunds
from apps.billing.models import Hold, LedgerEntry, ReserveAccount, UsageEvent, UsageLine
from apps.core.models import Event, Job
from apps.llm.models import LLMRequest
from tests.concurrency import needs_postgres, run_in_threads

pytestmark = [*needs_postgres, pytest.mark.django_db(transaction=True)]

DOLLAR = 1_000_000
TOKENS = {"llm_prompt_tokens": 420, "llm_completion_tokens": 60, "llm_call": 1}
TOKENS_COST = 63 + 36 + 100  # gpt-4o-mini on the default card


@pytest.fixture
def funded():
    tenant = Tenant.objects.create(name="Own", slug="own")
    services.rate_card_install_default()
    services.reserve_credit(tenant=tenant, amount_micros=DOLLAR, idempotency_key="top")
    return tenant


def _account(tenant) -> ReserveAccount:
    return ReserveAccount.objects.get(tenant=tenant)


def _record(tenant, key, hold_id, **kwargs):
    return services.usage_record(
        tenant=tenant, quantities=TOKENS, idempotency_key=key, model="gpt-4o-mini", hold_id=hold_id, **kwargs
    )


def _reconciled():
    _accounts, problems = selectors.reconcile_problems()
    assert not problems


def test_it_places_a_hold_that_another_connection_sees_at_once(funded):
    assert not connection.in_atomic_block
    hold = services.hold_place(tenant=funded, amount_micros=5_000, idempotency_key="seen:hold")

    def elsewhere(_index):
        return ReserveAccount.objects.get(tenant=funded).held_micros, Hold.objects.get(pk=hold.pk).status

    assert run_in_threads(1, elsewhere) == [(5_000, Hold.Status.PENDING)]
    again = services.hold_place(tenant=funded, amount_micros=5_000, idempotency_key="seen:hold")
    assert again.pk == hold.pk and _account(funded).held_micros == 5_000
    with pytest.raises(IdempotencyConflict):
        services.hold_place(tenant=funded, amount_micros=6_000, idempotency_key="seen:hold")
    assert (_account(funded).held_micros, Hold.objects.count()) == (5_000, 1)


def test_it_refuses_a_hold_the_reserve_cannot_cover_and_writes_nothing_but_the_refusal(funded):
    with pytest.raises(InsufficientFunds):
        services.hold_place(tenant=funded, amount_micros=DOLLAR + 1, idempotency_key="big:hold")
    assert not Hold.objects.exists() and _account(funded).held_micros == 0
    assert Event.objects.filter(kind="billing.reserve.refused").count() == 1


def test_it_charges_the_event_its_lines_the_capture_and_the_companions_in_one_statement(funded):
    hold = services.hold_place(tenant=funded, amount_micros=5_000, idempotency_key="one:hold")
    job = Job.objects.create(tenant=funded, kind="test")
    row = LLMRequest(tenant=funded, feature="test", provider="openai")
    event = _record(funded, "one", hold.pk, companions=services.UsageCompanions(rows=(row,), job=job))

    assert UsageLine.objects.filter(event=event).count() == 3
    entry = LedgerEntry.objects.get(usage_event=event)
    assert (entry.kind, entry.amount_micros, entry.balance_after_micros) == (
        "hold_capture",
        -TOKENS_COST,
        DOLLAR - TOKENS_COST,
    )
    hold.refresh_from_db()
    job.refresh_from_db()
    assert (hold.status, hold.captured_micros) == (Hold.Status.CAPTURED, TOKENS_COST)
    assert LLMRequest.objects.get(pk=row.pk).usage_event_id == event.pk and job.cost_micros == TOKENS_COST
    account = _account(funded)
    assert (account.balance_micros, account.held_micros) == (DOLLAR - TOKENS_COST, 0)

    again = _record(
        funded,
        "one",
        hold.pk,
        companions=services.UsageCompanions(
            rows=(LLMRequest(tenant=funded, feature="test", provider="openai"),), job=job
        ),
    )
    job.refresh_from_db()
    assert again.pk == event.pk and LLMRequest.objects.count() == 1 and job.cost_micros == TOKENS_COST
    _reconciled()


def test_it_leaves_money_as_it_was_when_a_companion_cannot_be_written(funded):
    hold = services.hold_place(tenant=funded, amount_micros=5_000, idempotency_key="bad:hold")
    broken = LLMRequest(tenant=funded, feature="test", provider="openai", latency_ms=-1)
    with pytest.raises(IntegrityError):
        _record(funded, "bad", hold.pk, companions=services.UsageCompanions(rows=(broken,)))
    hold.refresh_from_db()
    assert hold.status == Hold.Status.PENDING and not UsageEvent.objects.exists()
    assert _account(funded).balance_micros == DOLLAR
    _reconciled()


def test_it_charges_above_the_hold_through_the_locked_path(funded):
    hold = services.hold_place(tenant=funded, amount_micros=100, idempotency_key="small:hold")
    event = _record(funded, "small", hold.pk)
    assert event.cost_micros == TOKENS_COST
    kinds = sorted(LedgerEntry.objects.filter(usage_event=event).values_list("kind", "amount_micros"))
    assert kinds == [("hold_capture", -100), ("usage", -(TOKENS_COST - 100))]
    assert _account(funded).balance_micros == DOLLAR - TOKENS_COST
    _reconciled()


def test_it_keeps_no_event_for_a_voided_hold(funded):
    hold = services.hold_place(tenant=funded, amount_micros=5_000, idempotency_key="void:hold")
    services.hold_void(tenant=funded, hold_id=hold.pk)
    with pytest.raises(IdempotencyConflict, match="voided"):
        _record(funded, "void", hold.pk)
    assert not UsageEvent.objects.exists() and _account(funded).balance_micros == DOLLAR


def test_it_charges_a_key_once_when_two_charges_race_with_one_hold(funded):
    hold = services.hold_place(tenant=funded, amount_micros=5_000, idempotency_key="race:hold")
    events = run_in_threads(8, lambda _index: _record(funded, "race", hold.pk).pk)
    assert len(set(events)) == 1
    assert LedgerEntry.objects.filter(kind="hold_capture").count() == 1
    assert _account(funded).balance_micros == DOLLAR - TOKENS_COST
    _reconciled()


def test_it_lets_one_of_two_holds_racing_under_one_usage_key_charge_it(funded):
    holds = [
        services.hold_place(tenant=funded, amount_micros=5_000, idempotency_key=f"twin{i}:hold").pk
        for i in range(2)
    ]

    def charge(index):
        try:
            return _record(funded, "twin", holds[index]).hold_id
        except IdempotencyConflict:
            return None

    outcomes = run_in_threads(2, charge)
    (charged,) = [hold_id for hold_id in outcomes if hold_id is not None]
    assert outcomes.count(None) == 1
    statuses = dict(Hold.objects.values_list("pk", "status"))
    assert statuses[charged] == Hold.Status.CAPTURED
    assert [status for pk, status in statuses.items() if pk != charged] == [Hold.Status.PENDING]
    assert UsageEvent.objects.count() == 1 and _account(funded).balance_micros == DOLLAR - TOKENS_COST
    _reconciled()
    connections.close_all()
