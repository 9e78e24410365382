"""Monthly statements: equal to the ledger to the micro, for random ledgers and for a hand-computed one."""

import io
import random
import zoneinfo
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db.models import Sum
from django.utils import timezone
from pypdf import PdfReader

from apps.billing import services, statements
from apps.billing.errors import InsufficientFunds
from apps.billing.models import LedgerEntry, ReserveAccount, TopUp, UsageLine
from apps.billing.stripe_gateway import RefundInfo
from apps.core.errors import NotFound
from tests.billing.conftest import checkout_completed_event

MONTHS = [date(2026, month, 1) for month in range(1, 6)]
ZONES = ["UTC", "Europe/Berlin", "America/Los_Angeles", "Pacific/Auckland"]


def _paid_topup(tenant, amount_cents: int) -> TopUp:
    event = checkout_completed_event(tenant=tenant, amount_cents=amount_cents)
    assert services.webhook_event_process(event=event) == "processed"
    topup = TopUp.objects.get(stripe_object_id=event["data"]["object"]["id"])
    TopUp.objects.filter(pk=topup.pk).update(stripe_payment_intent_id=f"pi_{topup.public_id}")
    topup.stripe_payment_intent_id = f"pi_{topup.public_id}"
    return topup


def _refund_outside(topup: TopUp, amount_cents: int, refund_id: str) -> None:
    """A refund Stripe reports (as made in its dashboard): recorded through the same service as a webhook."""
    services.refund_settle(
        info=RefundInfo(
            id=refund_id,
            status="succeeded",
            amount_cents=amount_cents,
            currency="usd",
            payment_intent_id=topup.stripe_payment_intent_id,
            charge_id="ch_x",
            metadata={},
        )
    )


def _random_ledger(rng: random.Random, tenant, staff, operations: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC) - timedelta(hours=14)
    span = (datetime(2026, 6, 1, tzinfo=UTC) + timedelta(hours=14) - start).total_seconds()
    moments = sorted(start + timedelta(seconds=rng.uniform(0, span)) for _ in range(operations))
    topups = []
    for index, moment in enumerate(moments):
        with time_machine.travel(moment, tick=False):
            choice = rng.random()
            try:
                if choice < 0.2 or not topups:
                    topups.append(_paid_topup(tenant, rng.choice([500, 1000, 2000, 5000])))
                elif choice < 0.55:
                    services.usage_record(
                        tenant=tenant,
                        model=rng.choice(["gpt-4o-mini", "other-model"]),
                        quantities={
                            "llm_prompt_tokens": rng.randint(0, 40_000),
                            "llm_completion_tokens": rng.randint(0, 9_000),
                            "llm_call": 1,
                        },
                        idempotency_key=f"use-{index}",
                    )
                elif choice < 0.7:
                    hold = services.hold_place(
                        tenant=tenant, amount_micros=rng.randint(1, 50_000), idempotency_key=f"h-{index}"
                    )
                    services.usage_record(
                        tenant=tenant,
                        quantities={"report_export": rng.randint(1, 9), "llm_call": 1},
                        idempotency_key=f"held-{index}",
                        hold_id=hold.pk,
                    )
                elif choice < 0.8:
                    services.reserve_deduct(
                        tenant=tenant, amount_micros=rng.randint(1, 3_000_000), idempotency_key=f"raw-{index}"
                    )
                elif choice < 0.9:
                    amount = rng.choice([-1, 1]) * rng.randint(1, 2_500_000)
                    services.reserve_adjust(
                        tenant=tenant,
                        amount_micros=amount,
                        reason="random",
                        actor=staff,
                        idempotency_key=f"a-{index}",
                    )
                else:
                    topup = rng.choice(topups)
                    _refund_outside(topup, rng.randint(1, 300), f"re_{index}")
            except InsufficientFunds:
                pass


@pytest.mark.parametrize("seed", range(8))
def test_it_matches_the_ledger_to_the_micro_in_every_month_of_a_random_ledger(tenant, staff, rate_card, seed):
    rng = random.Random(seed)
    services.reserve_policy_set(tenant=tenant, actor=staff, policy="warn")
    _random_ledger(rng, tenant, staff, operations=60)
    timezone.activate(zoneinfo.ZoneInfo(ZONES[seed % len(ZONES)]))
    try:
        previous_closing = 0
        seen = 0
        for month in [date(2025, 12, 1), *MONTHS, date(2026, 6, 1)]:
            statement = statements.statement_get(tenant=tenant, month=month)
            movements = statement.movements_micros
            assert statement.opening_micros + movements == statement.closing_micros
            assert statement.opening_micros == previous_closing  # months tile the ledger
            if statement.entry_count:
                assert statement.closing_micros == statement.last_balance_after_micros
            else:
                assert statement.closing_micros == statement.opening_micros
            usage_entries = (
                LedgerEntry.objects.filter(
                    account__tenant=tenant, kind__in=statements.USAGE_KINDS, created_at__gte=statement.start
                )
                .filter(created_at__lt=statement.end)
                .aggregate(total=Sum("amount_micros"))["total"]
                or 0
            )
            assert statement.usage_micros == usage_entries
            previous_closing = statement.closing_micros
            seen += statement.entry_count
        account = ReserveAccount.objects.get(tenant=tenant)
        assert previous_closing == account.balance_micros
        assert seen == LedgerEntry.objects.filter(account=account).count()
    finally:
        timezone.deactivate()


def test_it_itemises_usage_by_meter_and_counts_what_cannot_be_itemised_as_other(tenant, rate_card):
    with time_machine.travel(datetime(2026, 3, 10, 12, tzinfo=UTC), tick=False):
        _paid_topup(tenant, 2000)
        first = services.usage_record(
            tenant=tenant,
            model="gpt-4o-mini",
            quantities={"llm_prompt_tokens": 10_000, "llm_completion_tokens": 2_000, "llm_call": 1},
            idempotency_key="u1",
        )
        second = services.usage_record(tenant=tenant, quantities={"report_export": 2}, idempotency_key="u2")
        services.reserve_deduct(tenant=tenant, amount_micros=123, idempotency_key="no-event")
    statement = statements.statement_get(tenant=tenant, month=date(2026, 3, 1))
    lines = {line.label: (line.amount_micros, line.count) for line in statement.usage}
    assert lines == {
        "LLM call (per-call fee)": (-100, 1),
        "LLM completion tokens": (-1_200, 1),
        "LLM prompt tokens": (-1_500, 1),
        "Report export": (-20_000, 1),
        "Other usage": (-123, 0),
    }
    assert statement.usage_micros == -(first.cost_micros + second.cost_micros + 123)
    assert (
        sum(UsageLine.objects.values_list("cost_micros", flat=True)) == first.cost_micros + second.cost_micros
    )


def test_it_shows_a_hand_computed_month_on_its_page_and_in_its_pdf(alice_client, tenant, staff, rate_card):
    with time_machine.travel(datetime(2026, 2, 20, 9, tzinfo=UTC), tick=False):
        _paid_topup(tenant, 1000)  # February: opens March at $10.00
    with time_machine.travel(datetime(2026, 3, 2, 9, tzinfo=UTC), tick=False):
        topup = _paid_topup(tenant, 2000)
        services.usage_record(tenant=tenant, quantities={"report_export": 3}, idempotency_key="u")
        services.reserve_adjust(
            tenant=tenant, amount_micros=-1_000_000, reason="Correction", actor=staff, idempotency_key="adj"
        )
        _refund_outside(topup, 500, "re_hand")
    statement = statements.statement_get(tenant=tenant, month=date(2026, 3, 1))
    assert statement.opening_micros == 10_000_000
    assert statement.topups.amount_micros == 20_000_000
    assert statement.usage_micros == -30_000
    assert statement.adjustments.amount_micros == -1_000_000
    assert statement.refunds.amount_micros == -5_000_000
    assert statement.closing_micros == 23_970_000 == ReserveAccount.objects.get(tenant=tenant).balance_micros
    assert [receipt.total_cents for receipt in statement.receipts] == [2000]

    page = alice_client.get("/billing/statements/2026-03/")
    assert page.status_code == 200
    html = page.content.decode()
    for text in (
        "Statement for March 2026",
        "$10.00",
        "+$20.00",
        "\u2212$0.03",
        "\u2212$1.00",
        "\u2212$5.00",
        "$23.97",
    ):
        assert text in html, text
    assert "23.970000" in html
    assert 'href="/billing/statements/2026-02/"' in html
    pdf = alice_client.get("/billing/statements/2026-03/pdf/")
    assert pdf["Content-Type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "March 2026" in text and "23.970000" in text and "Alice's workspace" in text


def test_it_cuts_months_in_the_viewers_time_zone(tenant):
    with time_machine.travel(datetime(2026, 1, 31, 23, 30, tzinfo=UTC), tick=False):
        _paid_topup(tenant, 1000)  # 00:30 on 1 February in Berlin
    assert statements.statement_get(tenant=tenant, month=date(2026, 1, 1)).topups.count == 1
    timezone.activate(zoneinfo.ZoneInfo("Europe/Berlin"))
    try:
        assert statements.statement_get(tenant=tenant, month=date(2026, 1, 1)).topups.count == 0
        assert statements.statement_get(tenant=tenant, month=date(2026, 2, 1)).topups.count == 1
    finally:
        timezone.deactivate()


def test_it_opens_on_this_month_and_answers_404_for_a_month_that_is_not_one(alice_client, tenant):
    response = alice_client.get("/billing/statements/")
    assert response.status_code == 302
    assert response["Location"] == f"/billing/statements/{timezone.localdate():%Y-%m}/"
    empty = alice_client.get(response["Location"])
    assert empty.status_code == 200 and "Statements start with your first top-up" in empty.content.decode()
    for month in ("2026-13", "2026-1", "abcd-ef", "0000-01", "2026-00"):
        assert alice_client.get(f"/billing/statements/{month}/").status_code == 404, month
    with pytest.raises(NotFound):
        statements.month_parse("9999-12")


def test_it_shows_only_the_signed_in_workspaces_ledger(alice_client, tenant, other_tenant):
    with time_machine.travel(datetime(2026, 4, 3, tzinfo=UTC), tick=False):
        _paid_topup(other_tenant, 5000)
    statement = statements.statement_get(tenant=tenant, month=date(2026, 4, 1))
    assert (statement.entry_count, statement.closing_micros, statement.receipts) == (0, 0, [])
    assert "$50.00" not in alice_client.get("/billing/statements/2026-04/").content.decode()
