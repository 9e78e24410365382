"""Rate cards in the Django admin: staff read and type dollars per unit; exact micros are stored."""

import re
from decimal import Decimal

import pytest

from apps.billing import services, unit_prices
from apps.billing.models import Meter, RateCard, RateCardVersion, RateLineItem


@pytest.fixture
def superuser_client(client, staff):
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    client.force_login(staff)
    return client


@pytest.mark.parametrize(
    ("meter", "micros", "label"),
    [
        (Meter.LLM_PROMPT_TOKENS, "3", "$3.00 per 1M tokens"),
        (Meter.LLM_PROMPT_TOKENS, "0.15", "$0.15 per 1M tokens"),
        (Meter.LLM_COMPLETION_TOKENS, "0.6", "$0.60 per 1M tokens"),
        (Meter.LLM_COMPLETION_TOKENS, "0", "$0.00 per 1M tokens"),
        (Meter.LLM_PROMPT_TOKENS, "0.000001", "$0.000001 per 1M tokens"),
        (Meter.LLM_CALL, "100", "$0.0001 per call"),
        (Meter.STORAGE_GB_MONTH, "25000", "$0.025 per GB-month"),
        (Meter.REPORT_EXPORT, "10000", "$0.01 per export"),
        (Meter.REPORT_EXPORT, "1234500000", "$1,234.50 per export"),
    ],
)
def test_it_reads_micros_per_unit_as_dollars_per_unit_and_back(meter, micros, label):
    assert unit_prices.price_label(meter, Decimal(micros)) == label
    dollars = unit_prices.dollars_from_micros(meter, Decimal(micros))
    assert unit_prices.micros_from_dollars(meter, dollars) == Decimal(micros)


@pytest.mark.parametrize(
    ("meter", "dollars", "message"),
    [
        (Meter.LLM_PROMPT_TOKENS, Decimal("0.0000001"), "smallest step is $0.000001 per 1M tokens"),
        (Meter.LLM_CALL, Decimal("0.0000000000001"), "smallest step is $0.000000000001 per call"),
        (Meter.REPORT_EXPORT, Decimal("-1"), "zero or more"),
        (Meter.REPORT_EXPORT, Decimal("NaN"), "zero or more"),
        (Meter.REPORT_EXPORT, Decimal("1E+9"), "too large"),
        (Meter.REPORT_EXPORT, 0.1, "never floats"),
        ("bogus", Decimal(1), "Unknown meter"),
    ],
)
def test_it_refuses_prices_it_cannot_keep_exactly(meter, dollars, message):
    with pytest.raises(unit_prices.PriceError, match=re.escape(message)):
        unit_prices.micros_from_dollars(meter, dollars)


def _version_form(card, lines: list[tuple[str, str, str]]) -> dict:
    data = {
        "rate_card": card.pk,
        "effective_from_0": "2030-01-01",
        "effective_from_1": "00:00:00",
        "note": "Pro prices",
        "line_items-TOTAL_FORMS": str(len(lines)),
        "line_items-INITIAL_FORMS": "0",
        "line_items-MIN_NUM_FORMS": "0",
        "line_items-MAX_NUM_FORMS": "1000",
    }
    for index, (meter, model, price) in enumerate(lines):
        data |= {
            f"line_items-{index}-meter": meter,
            f"line_items-{index}-model": model,
            f"line_items-{index}-price": price,
        }
    return data


def test_it_takes_rate_card_prices_in_dollars_and_stores_exact_micros(superuser_client):
    card = RateCard.objects.create(plan="pro", name="Pro")
    lines = [
        (Meter.LLM_PROMPT_TOKENS, "", "3.00"),
        (Meter.LLM_COMPLETION_TOKENS, "gpt-4o-mini", "0.60"),
        (Meter.LLM_CALL, "", "0.0001"),
        (Meter.STORAGE_GB_MONTH, "", "0.025"),
    ]
    response = superuser_client.post("/admin/billing/ratecardversion/add/", _version_form(card, lines))
    assert response.status_code == 302, response.content.decode()[:3000]
    stored = {
        (item.meter, item.model): item.unit_price_micros
        for item in RateLineItem.objects.filter(version__rate_card=card)
    }
    assert stored == {
        (Meter.LLM_PROMPT_TOKENS, ""): Decimal("3"),
        (Meter.LLM_COMPLETION_TOKENS, "gpt-4o-mini"): Decimal("0.6"),
        (Meter.LLM_CALL, ""): Decimal("100"),
        (Meter.STORAGE_GB_MONTH, ""): Decimal("25000"),
    }
    version = RateCardVersion.objects.get(rate_card=card)
    page = superuser_client.get(f"/admin/billing/ratecardversion/{version.pk}/change/").content.decode()
    assert "$3.00 per 1M tokens" in page and "$0.0001 per call" in page and "$0.025 per GB-month" in page
    assert 'name="line_items-0-price" value="3"' in page or 'value="3" name="line_items-0-price"' in page
    listing = superuser_client.get("/admin/billing/ratecardversion/").content.decode()
    assert "LLM call (per-call fee): $0.0001 per call" in listing


def test_it_explains_a_price_it_cannot_keep_and_keeps_the_form(superuser_client):
    card = RateCard.objects.create(plan="pro", name="Pro")
    form = _version_form(card, [(Meter.LLM_PROMPT_TOKENS, "", "0.0000001")])
    response = superuser_client.post("/admin/billing/ratecardversion/add/", form)
    assert response.status_code == 200
    page = response.content.decode()
    assert "the smallest step is $0.000001 per 1M tokens" in page
    assert "0.0000001" in page
    assert not RateCardVersion.objects.filter(rate_card=card).exists()


def test_it_shows_a_frozen_versions_prices_in_dollars(superuser_client, tenant, rate_card):
    services.reserve_credit(tenant=tenant, amount_micros=1_000_000, idempotency_key="top")
    services.usage_record(tenant=tenant, quantities={"llm_call": 1}, idempotency_key="u")
    version = RateCardVersion.objects.get(rate_card=rate_card)
    page = superuser_client.get(f"/admin/billing/ratecardversion/{version.pk}/change/").content.decode()
    assert "$3.00 per 1M tokens" in page and "$15.00 per 1M tokens" in page
    assert "$0.0001 per call" in page and "$0.01 per export" in page
    assert 'name="line_items-0-price"' not in page
