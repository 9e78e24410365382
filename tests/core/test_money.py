from decimal import Decimal

import pytest

from apps.core import money


def test_it_converts_cents_to_micros_exactly():
    assert money.cents_to_micros(2000) == 20_000_000
    assert money.cents_to_micros(1) == money.MICROS_PER_CENT


def test_it_refuses_floats_for_money():
    with pytest.raises(money.MoneyError):
        money.round_micros(0.1)
    with pytest.raises(money.MoneyError):
        money.cents_to_micros(20.0)


def test_it_rounds_half_away_from_zero_once():
    assert money.round_micros(Decimal("2.5")) == 3
    assert money.round_micros(Decimal("-2.5")) == -3
    assert money.round_micros(Decimal("2.4999")) == 2


def test_it_prices_fractional_unit_prices_exactly():
    # 1,234 tokens at 0.15 micros each (0.15 USD per million tokens) is 185.1 micros -> 185.
    assert money.price_micros(quantity=1234, unit_price_micros="0.15") == 185
    assert money.price_micros(quantity=3, unit_price_micros="0.5") == 2


def test_it_floors_micros_to_whole_cents():
    assert money.micros_to_cents(19_999) == 1
    assert money.micros_to_cents(-1) == -1


def test_it_parses_and_prints_decimal_strings():
    assert money.units_to_micros("12.5") == 12_500_000
    with pytest.raises(money.MoneyError):
        money.units_to_micros("0.0000001")
    assert money.micros_to_decimal_string(1_234_500) == "1.234500"
    assert money.micros_to_decimal_string(-5, places=6) == "-0.000005"


def test_it_formats_for_people():
    assert money.format_micros(12_345_000) == "$12.35"
    assert money.format_micros(-1_000_000) == "-$1.00"
    assert money.format_micros(1_234_567_000_000, "eur") == "€1,234,567.00"
