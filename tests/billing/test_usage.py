from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.billing import services
from apps.billing.errors import IdempotencyConflict, InsufficientFunds
from apps.billing.models import LedgerEntry, RateCard, RateCardVersion, ReserveAccount, UsageEvent
from apps.core.errors import ValidationFailed

DOLLAR = 1_000_000


def _balance(tenant) -> int:
    return ReserveAccount.objects.get(tenant=tenant).balance_micros


def test_it_installs_the_default_rate_card_once(db):
    card, created = services.rate_card_install_default()
    again, created_again = services.rate_card_install_default()
    assert (created, created_again) == (True, False)
    assert card.pk == again.pk
    assert card.versions.count() == 1
    assert card.versions.get().line_items.count() == len(services.DEFAULT_RATE_LINES)


def test_it_installs_the_rate_card_from_bootstrap_idempotently(db, capsys):
    for _ in range(2):
        call_command("bootstrap", email="admin@example.com", password="a long admin passphrase")
    assert RateCard.objects.count() == 1
    assert "Billing: rate card 'standard' is already installed; left as it is." in capsys.readouterr().out


def test_it_prices_tokens_in_fractions_of_a_micro_rounded_once(tenant, rate_card):
    services.reserve_credit(tenant=tenant, amount_micros=DOLLAR, idempotency_key="top")
    # 1,001 prompt tokens at 0.15 micros = 150.15 -> 150; 333 completion at 0.6 = 199.8 -> 200; a call 100.
    event = services.usage_record(
        tenant=tenant,
        model="gpt-4o-mini",
        quantities={"llm_prompt_tokens": 1001, "llm_completion_tokens": 333, "llm_call": 1},
        idempotency_key="job-1",
    )
    assert event.cost_micros == 150 + 200 + 100
    assert _balance(tenant) == DOLLAR - 450
    entry = LedgerEntry.objects.get(usage_event=event)
    assert (entry.kind, entry.amount_micros) == ("usage", -450)


def test_it_uses_the_any_model_price_for_unknown_models(tenant, rate_card):
    cost = services.usage_estimate(
        tenant=tenant, model="some-new-model", quantities={"llm_prompt_tokens": 1000}
    )
    assert cost == 3000


def test_it_prices_with_the_version_in_force_at_the_events_time(tenant, rate_card):
    services.reserve_credit(tenant=tenant, amount_micros=DOLLAR, idempotency_key="top")
    switch = datetime(2030, 1, 1, tzinfo=UTC)
    newer = services.rate_card_version_create(
        rate_card=rate_card, effective_from=switch, lines=[("report_export", "", Decimal("20000"))]
    )
    before = services.usage_record(
        tenant=tenant,
        quantities={"report_export": 1},
        idempotency_key="a",
        occurred_at=switch - timedelta(seconds=1),
    )
    after = services.usage_record(
        tenant=tenant, quantities={"report_export": 1}, idempotency_key="b", occurred_at=switch
    )
    assert (before.cost_micros, after.cost_micros) == (10_000, 20_000)
    assert after.rate_version == newer and before.rate_version != newer


def test_it_refuses_a_version_that_would_reprice_charged_usage(tenant, rate_card):
    services.reserve_credit(tenant=tenant, amount_micros=DOLLAR, idempotency_key="top")
    services.usage_record(tenant=tenant, quantities={"report_export": 1}, idempotency_key="a")
    with pytest.raises(ValidationFailed, match="already priced"):
        services.rate_card_version_create(
            rate_card=rate_card,
            effective_from=timezone.now() - timedelta(hours=1),
            lines=[("report_export", "", "1")],
        )
    assert services.rate_version_is_used(version=RateCardVersion.objects.get())


def test_it_returns_the_first_event_for_a_repeated_key_and_refuses_other_quantities(tenant, rate_card):
    services.reserve_credit(tenant=tenant, amount_micros=DOLLAR, idempotency_key="top")
    first = services.usage_record(tenant=tenant, quantities={"report_export": 1}, idempotency_key="exp-1")
    again = services.usage_record(tenant=tenant, quantities={"report_export": 1}, idempotency_key="exp-1")
    assert again.pk == first.pk
    with pytest.raises(IdempotencyConflict):
        services.usage_record(tenant=tenant, quantities={"report_export": 2}, idempotency_key="exp-1")
    assert _balance(tenant) == DOLLAR - 10_000


def test_it_captures_usage_from_a_hold_and_releases_the_rest(tenant, rate_card):
    services.reserve_credit(tenant=tenant, amount_micros=DOLLAR, idempotency_key="top")
    quantities = {"llm_prompt_tokens": 2000, "llm_completion_tokens": 1000}
    most = services.usage_estimate(tenant=tenant, quantities=quantities)
    assert most == 2000 * 3 + 1000 * 15
    hold = services.hold_place(tenant=tenant, amount_micros=most, idempotency_key="draft-7")
    event = services.usage_record(
        tenant=tenant,
        quantities={"llm_prompt_tokens": 2000, "llm_completion_tokens": 10},
        idempotency_key="draft-7",
        hold_id=hold.pk,
    )
    account = ReserveAccount.objects.get(tenant=tenant)
    assert (account.balance_micros, account.held_micros) == (DOLLAR - event.cost_micros, 0)
    assert LedgerEntry.objects.get(usage_event=event).kind == "hold_capture"


def test_it_deducts_cost_above_the_hold_under_the_policy(tenant, rate_card):
    services.reserve_credit(tenant=tenant, amount_micros=10_000, idempotency_key="top")
    hold = services.hold_place(tenant=tenant, amount_micros=1000, idempotency_key="h")
    with pytest.raises(InsufficientFunds):
        services.usage_record(
            tenant=tenant, quantities={"report_export": 2}, idempotency_key="x", hold_id=hold.pk
        )
    assert not UsageEvent.objects.exists()
    services.usage_record(tenant=tenant, quantities={"llm_call": 15}, idempotency_key="y", hold_id=hold.pk)
    assert _balance(tenant) == 10_000 - 1500


def test_it_blocks_usage_the_reserve_cannot_pay_and_keeps_no_event(tenant, rate_card):
    with pytest.raises(InsufficientFunds):
        services.usage_record(tenant=tenant, quantities={"report_export": 1}, idempotency_key="x")
    assert not UsageEvent.objects.exists()


@pytest.mark.parametrize(
    ("quantities", "message"),
    [
        ({"teleport": 1}, "Unknown meter"),
        ({"llm_call": -1}, "non-negative"),
        ({"llm_call": 1.5}, "never floats"),
        ({"storage_gb_month": "0.0000001"}, "six decimals"),
        ({}, "at least one meter"),
    ],
)
def test_it_explains_bad_quantities(tenant, rate_card, quantities, message):
    with pytest.raises(ValidationFailed, match=message):
        services.usage_record(tenant=tenant, quantities=quantities, idempotency_key="bad")


def test_it_prices_fractional_storage(tenant, rate_card):
    assert services.usage_estimate(tenant=tenant, quantities={"storage_gb_month": "2.5"}) == 62_500
