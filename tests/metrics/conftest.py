"""A small business over two days, made through the real services, with every figure known by hand.

The clock starts at START (so the standing workspaces are old enough to go quiet), moves to D1 and D2
for what happens there, and ends on TODAY. Metrics days are UTC (the default METRICS_TIME_ZONE).

D1, 2025-06-10
- staff issue an invite; alice signs up with it (sign-ups 1, invites issued 1, redeemed 1).
- alice logs 2 entries and bob 1 in alice's workspace; charlie 1 in his (entries 4).
- alice accepts one suggestion and bob accepts part of one and rejects another (improved 2).
- a report job succeeds and an improve job fails in alice's workspace; an export succeeds in charlie's
  (reports 1, AI jobs 1 succeeded and 1 failed: the export is not AI).
- top-ups: $20 to alice's workspace, $5 to charlie's (2 top-ups, $25).
- usage: alice's workspace, gpt-4o-mini, 1,000 in / 500 out / 1 call: charged 150 + 300 + 100 = 550 micros,
  costs us 100 + 200 = 300 micros (COSTS below). Charlie's, "mystery-model" (no cost set), 2,000 in / 100 out
  / 1 call at the "any model" prices 3 and 15: 6,000 + 1,500 + 100 = 7,600 micros, costs us nothing (flagged).
- active: staff, alice, bob, charlie (DAU, WAU and MAU 4).
- end balances: alice's 20,000,000 - 550 = 19,999,450; charlie's 5,000,000 - 7,600 = 4,992,400.
- workspaces 3 (alice's, charlie's, staff's); staff's has never logged: quiet 1.

D2, 2025-06-11
- alice signs in and logs 1 entry (DAU 1; WAU and MAU still 4).
- alice's workspace: gpt-4o-mini 4,000 in / 1,000 out: charged 600 + 600 = 1,200, costs us 400 + 400 = 800.
- a $5 refund goes back to alice's card (refunds 1, $5).
- end balances: alice's 19,999,450 - 1,200 - 5,000,000 = 14,998,250; liability 19,990,650.
"""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.db import transaction

from apps.accounts import services as account_services
from apps.billing import services as billing_services
from apps.billing.models import LedgerEntry
from apps.core.events import emit_event
from apps.metrics import services
from apps.metrics.models import ProviderCost
from apps.worklog import services as worklog_services

START = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)
D1 = date(2025, 6, 10)
D2 = date(2025, 6, 11)
TODAY = date(2025, 6, 12)
DOLLAR = 1_000_000
COSTS = {"gpt-4o-mini": (100_000, 400_000)}  # our cost per 1M tokens in and out: 0.1 and 0.4 micros a token


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@pytest.fixture
def clock():
    """Frozen time, started before the standing people and workspaces are made (request it first)."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def costs(db):
    for model, (prompt, completion) in COSTS.items():
        ProviderCost.objects.create(
            model=model, input_micros_per_million=prompt, output_micros_per_million=completion
        )


def ledger_refund(*, tenant, amount_micros: int, key: str) -> LedgerEntry:
    """The ledger row a succeeded refund writes (apps/billing/services/refunds.py, which needs Stripe)."""
    from apps.billing.services.reserve import _append_once, _lock

    with transaction.atomic():
        entry, _created = _append_once(
            _lock(tenant), kind=LedgerEntry.Kind.REFUND, amount_micros=-amount_micros, key=key, memo="Refund"
        )
    return entry


def _entry(tenant, author, title: str, day: date):
    return worklog_services.entry_create(tenant=tenant, author=author, title=title, occurred_on=day)


def _job_event(kind: str, *, tenant, actor, job: int, job_kind: str, **data):
    emit_event(kind, tenant=tenant, actor=actor, job=job, job_kind=job_kind, **data)


@pytest.fixture
def business(clock, tenant, other_tenant, alice, bob, charlie, staff, costs):
    billing_services.rate_card_install_default()

    clock.move_to(at(D1, 9))
    invite, _code = account_services.invite_create(created_by=staff)
    emit_event("user.signed_up", tenant=tenant, actor=alice, invite_id=invite.pk)
    _entry(tenant, alice, "Shipped the search", D1)
    _entry(tenant, alice, "Fixed the flaky test", D1)
    _entry(tenant, bob, "Wrote the runbook", D1)
    _entry(other_tenant, charlie, "Closed the quarter", D1)
    emit_event("assist.suggestion_decided", tenant=tenant, actor=alice, suggestion=1, status="accepted")
    emit_event(
        "assist.suggestion_decided", tenant=tenant, actor=bob, suggestion=2, status="partially_accepted"
    )
    emit_event("assist.suggestion_decided", tenant=tenant, actor=bob, suggestion=3, status="rejected")
    _job_event("job.succeeded", tenant=tenant, actor=alice, job=1, job_kind="report.generate")
    _job_event("job.failed", tenant=tenant, actor=alice, job=2, job_kind="assist.improve", error="Timed out")
    _job_event("job.succeeded", tenant=other_tenant, actor=charlie, job=3, job_kind="worklog_export")
    billing_services.reserve_credit(tenant=tenant, amount_micros=20 * DOLLAR, idempotency_key="top-alice")
    billing_services.reserve_credit(
        tenant=other_tenant, amount_micros=5 * DOLLAR, idempotency_key="top-charlie"
    )
    clock.move_to(at(D1, 14))
    billing_services.usage_record(
        tenant=tenant,
        model="gpt-4o-mini",
        quantities={"llm_prompt_tokens": 1000, "llm_completion_tokens": 500, "llm_call": 1},
        idempotency_key="use-1",
    )
    billing_services.usage_record(
        tenant=other_tenant,
        model="mystery-model",
        quantities={"llm_prompt_tokens": 2000, "llm_completion_tokens": 100, "llm_call": 1},
        idempotency_key="use-2",
    )

    clock.move_to(at(D2, 10))
    services.sign_in_record(user=alice)
    _entry(tenant, alice, "Mentored the new hire", D2)
    billing_services.usage_record(
        tenant=tenant,
        model="gpt-4o-mini",
        quantities={"llm_prompt_tokens": 4000, "llm_completion_tokens": 1000},
        idempotency_key="use-3",
    )
    ledger_refund(tenant=tenant, amount_micros=5 * DOLLAR, key="stripe-refund:re_1")

    clock.move_to(at(TODAY, 12))
    return {"tenant": tenant, "other_tenant": other_tenant, "staff_tenant": staff.memberships.get().tenant}
