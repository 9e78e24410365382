"""The metering fast paths (hold_place, usage_estimate, usage_record with a hold) keep every guarantee of the
locked paths they skip: repeated keys, refusals with their reasons, due holds, plans, and the ledger."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.models import Tenant
from apps.billing import selectors, services
from apps.billing.errors import IdempotencyConflict, InsufficientFunds, PricesChanged
from apps.billing.models import (
    Hold,
    LedgerEntry,
    RateCard,
    RateCardVersion,
    RateLineItem,
    ReserveAccount,
    UsageEvent,
    UsageLine,
)
from apps.core.errors import ValidationFailed
from tests.concurrency import needs_postgres, run_in_threads

DOLLAR = 1_000_000
TOKENS = {"llm_prompt_tokens": 420, "llm_completion_tokens": 60, "llm_call": 1}
# gpt-4o-mini on the default card: 420 x 0.15 = 63, 60 x 0.6 = 36, one call 100.
TOKENS_COST = 63 + 36 + 100


def _account(tenant) -> ReserveAccount:
    return ReserveAccount.objects.get(tenant=tenant)


def test_it_returns_the_first_hold_for_a_repeated_key_and_holds_the_money_once(tenant):
    services.reserve_credit(tenant=tenant, amount_micros=10 * DOLLAR, idempotency_key="top")
    first = services.hold_place(tenant=tenant, amount_micros=2 * DOLLAR, idempotency_key="job-1")
    again = services.hold_place(tenant=tenant, amount_micros=2 * DOLLAR, idempotency_key="job-1")
    assert again.pk == first.pk
    assert (_account(tenant).held_micros, Hold.objects.count()) == (2 * DOLLAR, 1)
    with pytest.raises(IdempotencyConflict):
        services.hold_place(tenant=tenant, amount_micros=3 * DOLLAR, idempotency_key="job-1")
    assert _account(tenant).held_micros == 2 * DOLLAR


def test_it_places_a_first_hold_for_a_workspace_without_an_account_only_when_it_can_pay(tenant):
    with pytest.raises(InsufficientFunds) as refused:
        services.hold_place(tenant=tenant, amount_micros=1, idempotency_key="first")
    assert refused.value.extra == {"needed_micros": 1, "available_micros": 0}
    assert not Hold.objects.exists()
    services.reserve_credit(tenant=tenant, amount_micros=1, idempotency_key="top")
    assert services.hold_place(tenant=tenant, amount_micros=1, idempotency_key="first").amount_micros == 1


def test_it_lets_a_new_hold_past_a_due_one_by_expiring_it_first(tenant):
    services.reserve_credit(tenant=tenant, amount_micros=DOLLAR, idempotency_key="top")
    forgotten = services.hold_place(
        tenant=tenant, amount_micros=DOLLAR, idempotency_key="forgotten", ttl=timedelta(minutes=1)
    )
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        hold = services.hold_place(tenant=tenant, amount_micros=DOLLAR, idempotency_key="next")
    forgotten.refresh_from_db()
    assert (forgotten.status, hold.status) == (Hold.Status.EXPIRED, Hold.Status.PENDING)
    assert (_account(tenant).held_micros, _account(tenant).available_micros) == (DOLLAR, 0)


def test_it_flags_a_hold_that_takes_a_warn_account_below_zero(tenant, staff):
    services.reserve_policy_set(tenant=tenant, actor=staff, policy="warn")
    services.hold_place(tenant=tenant, amount_micros=500, idempotency_key="h", memo="drafting")
    assert _account(tenant).available_micros == -500
    event = tenant.events.filter(kind="billing.reserve.negative").get()
    assert event.data == {"available_after_micros": -500, "reason": "drafting"}


def test_it_does_not_flag_a_limited_account_within_its_credit_limit(tenant, staff):
    services.reserve_policy_set(tenant=tenant, actor=staff, policy="limited", credit_limit_micros=1000)
    services.hold_place(tenant=tenant, amount_micros=500, idempotency_key="h")
    assert _account(tenant).available_micros == -500
    assert not tenant.events.filter(kind="billing.reserve.negative").exists()


def test_it_prices_with_the_plans_own_card_and_falls_back_to_the_standard_one(tenant, rate_card):
    pro = RateCard.objects.create(plan="pro", name="Pro")
    version = RateCardVersion.objects.create(rate_card=pro, effective_from=timezone.now() - timedelta(days=1))
    RateLineItem.objects.create(version=version, meter="llm_call", model="", unit_price_micros=Decimal("40"))
    account = services.reserve_account_ensure(tenant=tenant)
    assert services.usage_estimate(tenant=tenant, quantities={"llm_call": 3}) == 300
    account.plan = "pro"
    account.save(update_fields=["plan"])
    assert services.usage_estimate(tenant=tenant, quantities={"llm_call": 3}) == 120
    # Before the pro card started, and for a plan with no card at all, the standard prices apply.
    earlier = timezone.now() - timedelta(days=2)
    assert services.usage_estimate(tenant=tenant, quantities={"llm_call": 3}, at=earlier) == 300
    account.plan = "enterprise"
    account.save(update_fields=["plan"])
    assert services.usage_estimate(tenant=tenant, quantities={"llm_call": 3}) == 300


def test_it_holds_with_a_reused_quote_only_while_its_prices_are_in_force(tenant, rate_card):
    """usage_quote_reused reads no rate card; hold_place checks its prices as it places the hold."""
    services.reserve_credit(tenant=tenant, amount_micros=DOLLAR, idempotency_key="top")
    account = services.reserve_account_ensure(tenant=tenant)
    services.usage_quote(tenant=tenant)

    def hold(key):
        quote = services.usage_quote_reused(tenant=tenant)
        assert quote.reused
        return services.hold_place(tenant=tenant, amount_micros=500, idempotency_key=key, quote=quote)

    assert hold("same").status == Hold.Status.PENDING  # 0.15 and 0.150000 are the same price

    line = RateLineItem.objects.get(version__rate_card=rate_card, meter="llm_call", model="")
    line.unit_price_micros = Decimal("101")  # an unused version's price, edited by staff
    line.save(update_fields=["unit_price_micros"])
    with pytest.raises(PricesChanged):
        hold("edited")

    fresh = services.usage_quote(tenant=tenant)
    assert fresh.prices[("llm_call", "")] == Decimal("101") and not fresh.reused
    assert hold("edited").amount_micros == 500

    pro = RateCard.objects.create(plan="pro", name="Pro")
    version = RateCardVersion.objects.create(rate_card=pro, effective_from=timezone.now() - timedelta(days=1))
    RateLineItem.objects.create(version=version, meter="llm_call", model="", unit_price_micros=Decimal("40"))
    account.plan = "pro"
    account.save(update_fields=["plan"])
    with pytest.raises(PricesChanged):
        hold("pro")
    assert services.usage_quote(tenant=tenant).version_id == version.pk
    hold("pro")

    services.rate_card_version_create(
        rate_card=pro, effective_from=timezone.now(), lines=[("llm_call", "", "50")]
    )
    with pytest.raises(PricesChanged):
        hold("superseded")
    assert set(Hold.objects.values_list("idempotency_key", flat=True)) == {"same", "edited", "pro"}
    assert _account(tenant).held_micros == 1_500


def test_it_will_not_hold_with_another_workspaces_quote(tenant, other_tenant, rate_card):
    services.reserve_credit(tenant=tenant, amount_micros=DOLLAR, idempotency_key="top")
    quote = services.usage_quote(tenant=other_tenant)
    with pytest.raises(ValidationFailed, match="another workspace"):
        services.hold_place(tenant=tenant, amount_micros=500, idempotency_key="h", quote=quote)


def test_it_says_when_no_prices_are_in_force(tenant):
    with pytest.raises(ValidationFailed, match="staff must install a rate card"):
        services.usage_estimate(tenant=tenant, quantities={"llm_call": 1})


def test_it_records_the_lines_and_the_capture_of_a_held_call(tenant, rate_card):
    services.reserve_credit(tenant=tenant, amount_micros=DOLLAR, idempotency_key="top")
    hold = services.hold_place(tenant=tenant, amount_micros=5_000, idempotency_key="call:hold")
    event = services.usage_record(
        tenant=tenant, quantities=TOKENS, idempotency_key="call", model="gpt-4o-mini", hold_id=hold.pk
    )
    lines = {
        line.meter: (line.quantity, line.unit_price_micros, line.cost_micros)
        for line in UsageLine.objects.filter(event=event)
    }
    assert lines == {
        "llm_call": (Decimal(1), Decimal(100), 100),
        "llm_completion_tokens": (Decimal(60), Decimal("0.6"), 36),
        "llm_prompt_tokens": (Decimal(420), Decimal("0.15"), 63),
    }
    entry = LedgerEntry.objects.get(usage_event=event)
    assert (entry.kind, entry.amount_micros, entry.hold_id) == ("hold_capture", -TOKENS_COST, hold.pk)
    assert (entry.balance_after_micros, entry.memo) == (
        DOLLAR - TOKENS_COST,
        "gpt-4o-mini llm_call, llm_completion_tokens, llm_prompt_tokens",
    )
    hold.refresh_from_db()
    assert (hold.status, hold.captured_micros) == (Hold.Status.CAPTURED, TOKENS_COST)
    account = _account(tenant)
    assert (account.balance_micros, account.held_micros) == (DOLLAR - TOKENS_COST, 0)
    again = services.usage_record(
        tenant=tenant, quantities=TOKENS, idempotency_key="call", model="gpt-4o-mini", hold_id=hold.pk
    )
    assert again.pk == event.pk and LedgerEntry.objects.filter(usage_event=event).count() == 1


def test_it_releases_a_hold_without_an_entry_when_the_call_was_free(tenant, rate_card):
    services.reserve_credit(tenant=tenant, amount_micros=DOLLAR, idempotency_key="top")
    hold = services.hold_place(tenant=tenant, amount_micros=5_000, idempotency_key="free:hold")
    free = {"llm_prompt_tokens": 10, "llm_completion_tokens": 10}
    services.usage_record(
        tenant=tenant, quantities=free, idempotency_key="free", model="builtin", hold_id=hold.pk
    )
    hold.refresh_from_db()
    assert (hold.status, hold.captured_micros) == (Hold.Status.CAPTURED, 0)
    assert (_account(tenant).held_micros, LedgerEntry.objects.count()) == (0, 1)


def test_it_refuses_usage_on_a_voided_or_foreign_hold_and_keeps_no_event(tenant, other_tenant, rate_card):
    services.reserve_credit(tenant=tenant, amount_micros=DOLLAR, idempotency_key="top")
    services.reserve_credit(tenant=other_tenant, amount_micros=DOLLAR, idempotency_key="top")
    voided = services.hold_place(tenant=tenant, amount_micros=5_000, idempotency_key="v:hold")
    services.hold_void(tenant=tenant, hold_id=voided.pk)
    with pytest.raises(IdempotencyConflict, match="voided"):
        services.usage_record(tenant=tenant, quantities=TOKENS, idempotency_key="v", hold_id=voided.pk)
    foreign = services.hold_place(tenant=other_tenant, amount_micros=5_000, idempotency_key="f:hold")
    with pytest.raises(ValidationFailed, match="No such hold"):
        services.usage_record(tenant=tenant, quantities=TOKENS, idempotency_key="f", hold_id=foreign.pk)
    assert not UsageEvent.objects.exists() and not UsageLine.objects.exists()
    foreign.refresh_from_db()
    assert foreign.status == Hold.Status.PENDING
    assert _account(other_tenant).held_micros == 5_000


def test_it_meters_a_call_in_a_handful_of_statements(tenant, rate_card):
    """quote + estimate + hold + record, as the gateway calls them: 27 statements before the fast paths
    (bench/llm.py), now one each on PostgreSQL, plus the savepoints a caller's transaction needs (here the
    test's; outside one, as a job runs, there are none: tests/llm/test_gateway.py counts that)."""
    services.reserve_credit(tenant=tenant, amount_micros=DOLLAR, idempotency_key="top")
    bound = {"llm_prompt_tokens": 2000, "llm_completion_tokens": 400, "llm_call": 2}
    with CaptureQueriesContext(connection) as estimate:
        quote = services.usage_quote(tenant=tenant)
        held = services.usage_estimate(tenant=tenant, quantities=bound, model="gpt-4o-mini", quote=quote)
    with CaptureQueriesContext(connection) as reused:
        again = services.usage_quote_reused(tenant=tenant)
        assert (
            services.usage_estimate(tenant=tenant, quantities=bound, model="gpt-4o-mini", quote=again) == held
        )
    with CaptureQueriesContext(connection) as placing:
        hold = services.hold_place(tenant=tenant, amount_micros=held, idempotency_key="c:hold", quote=again)
    with CaptureQueriesContext(connection) as recording:
        services.usage_record(
            tenant=tenant,
            quantities=TOKENS,
            idempotency_key="c",
            model="gpt-4o-mini",
            hold_id=hold.pk,
            quote=again,
        )
    postgres = connection.vendor == "postgresql"
    assert (len(estimate), len(reused)) == (1, 0)
    # PostgreSQL: SAVEPOINT, the statement, RELEASE. SQLite: the quote's check, UPDATE, INSERT.
    assert len(placing) == 3, [q["sql"][:60] for q in placing]
    assert len(recording) == (3 if postgres else 2 + 6), [q["sql"][:60] for q in recording]
    assert services.usage_estimate(tenant=tenant, quantities=bound, model="gpt-4o-mini") == held


def test_it_prices_usage_at_its_quote(tenant, rate_card):
    services.reserve_credit(tenant=tenant, amount_micros=DOLLAR, idempotency_key="top")
    quote = services.usage_quote(tenant=tenant)
    event = services.usage_record(
        tenant=tenant, quantities=TOKENS, idempotency_key="q", model="gpt-4o-mini", quote=quote
    )
    assert event.occurred_at == quote.at
    assert event.rate_version_id == quote.version_id
    unquoted = services.usage_record(
        tenant=tenant, quantities=TOKENS, idempotency_key="u", model="gpt-4o-mini"
    )
    assert unquoted.cost_micros == event.cost_micros
    other = Tenant.objects.create(name="Other", slug="other-quote")
    with pytest.raises(ValidationFailed, match="another workspace"):
        services.usage_record(tenant=other, quantities=TOKENS, idempotency_key="o", quote=quote)
    with pytest.raises(ValidationFailed, match="another time"):
        services.usage_record(
            tenant=tenant, quantities=TOKENS, idempotency_key="t", quote=quote, occurred_at=timezone.now()
        )


def test_it_writes_the_callers_records_with_the_charge_or_not_at_all(tenant, rate_card):
    """Companions commit with the charge: one that cannot be written leaves money as it was."""
    from apps.core.models import Job
    from apps.llm.models import LLMRequest

    services.reserve_credit(tenant=tenant, amount_micros=DOLLAR, idempotency_key="top")
    hold = services.hold_place(tenant=tenant, amount_micros=10_000, idempotency_key="b:hold")
    job = Job.objects.create(tenant=tenant, kind="test")

    def log_row(**fields):
        return LLMRequest(tenant=tenant, feature="test", provider="openai", **fields)

    broken = services.UsageCompanions(rows=(log_row(latency_ms=-1),), job=job)  # breaks a CHECK constraint
    with pytest.raises(IntegrityError):
        services.usage_record(
            tenant=tenant,
            quantities=TOKENS,
            idempotency_key="b",
            model="gpt-4o-mini",
            hold_id=hold.pk,
            companions=broken,
        )
    assert not UsageEvent.objects.exists() and not LLMRequest.objects.exists()
    hold.refresh_from_db()
    job.refresh_from_db()
    assert hold.status == Hold.Status.PENDING and _account(tenant).balance_micros == DOLLAR
    assert job.cost_micros == 0

    row = log_row(latency_ms=12)
    event = services.usage_record(
        tenant=tenant,
        quantities=TOKENS,
        idempotency_key="b",
        model="gpt-4o-mini",
        hold_id=hold.pk,
        companions=services.UsageCompanions(rows=(row,), job=job),
    )
    saved = LLMRequest.objects.get()
    assert (saved.pk, saved.usage_event_id, saved.cost_micros) == (row.pk, event.pk, TOKENS_COST)
    assert row.usage_event_id == event.pk and job.cost_micros == TOKENS_COST
    job.refresh_from_db()
    assert job.cost_micros == TOKENS_COST and _account(tenant).balance_micros == DOLLAR - TOKENS_COST

    again = services.usage_record(
        tenant=tenant,
        quantities=TOKENS,
        idempotency_key="b",
        model="gpt-4o-mini",
        hold_id=hold.pk,
        companions=services.UsageCompanions(rows=(log_row(),), job=job),
    )
    job.refresh_from_db()
    assert again.pk == event.pk and LLMRequest.objects.count() == 1 and job.cost_micros == TOKENS_COST


@needs_postgres[0]
@needs_postgres[1]
@pytest.mark.django_db(transaction=True)
def test_it_settles_each_hold_once_when_captures_race_voids():
    tenant = Tenant.objects.create(name="Race", slug="race")
    services.rate_card_install_default()
    services.reserve_credit(tenant=tenant, amount_micros=DOLLAR, idempotency_key="top")
    holds = [
        services.hold_place(tenant=tenant, amount_micros=5_000, idempotency_key=f"h{i}").pk for i in range(16)
    ]

    def settle(index):
        hold_id = holds[index // 2]
        try:
            if index % 2:
                services.hold_void(tenant=tenant, hold_id=hold_id)
                return "voided"
            services.usage_record(
                tenant=tenant,
                quantities=TOKENS,
                idempotency_key=f"u{hold_id}",
                model="gpt-4o-mini",
                hold_id=hold_id,
            )
            return "captured"
        except IdempotencyConflict:
            return "lost"

    outcomes = run_in_threads(32, settle)
    captured = Hold.objects.filter(status=Hold.Status.CAPTURED).count()
    assert captured + Hold.objects.filter(status=Hold.Status.VOIDED).count() == 16
    assert outcomes.count("lost") == 16
    assert UsageEvent.objects.count() == LedgerEntry.objects.filter(kind="hold_capture").count() == captured
    account = _account(tenant)
    assert (account.held_micros, account.balance_micros) == (0, DOLLAR - captured * TOKENS_COST)
    _accounts, problems = selectors.reconcile_problems()
    assert not problems


def test_it_builds_a_charges_rows_as_the_orm_would_write_them(tenant):
    """The charge's statement gets the ledger entry and the lines as column values built without model
    instances: the same values, defaults included, an instance would write."""
    from apps.billing.services.pricing import _new_row_values, _row_values

    now = timezone.now()
    values = {
        "tenant_id": tenant.pk,
        "kind": LedgerEntry.Kind.HOLD_CAPTURE,
        "amount_micros": -5,
        "balance_after_micros": 0,
        "idempotency_key": "hold:1:capture",
        "hold_id": 1,
        "memo": "gpt-4o-mini llm_call",
        "created_at": now,
    }
    assert _new_row_values(LedgerEntry, **values) == _row_values(LedgerEntry(**values))
    line = {
        "tenant_id": tenant.pk,
        "meter": "llm_call",
        "quantity": Decimal(1),
        "unit_price_micros": Decimal(100),
    }
    line["cost_micros"] = 100
    skip = ("event_id",)
    assert _new_row_values(UsageLine, skip=skip, **line) == _row_values(UsageLine(**line), skip=skip)
    with pytest.raises(TypeError, match="no columns"):
        _new_row_values(UsageLine, colour="red")
