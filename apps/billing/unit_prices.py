"""Rate card prices as staff read and type them: dollars per a unit people think in.

A rate line stores micros per unit (`RateLineItem.unit_price_micros`, a Decimal with six places), which is
exact but unreadable: 3 micros per token is "$3.00 per 1M tokens", 100 micros per call is "$0.0001 per
call". Tokens are priced per million; every other meter per one unit. Conversions only move the decimal
point (Decimal.scaleb), so nothing is rounded and no float is involved.
"""

from decimal import Decimal

from apps.billing.models import Meter

# meter -> (power of ten of the unit people price, what the unit is called)
PRICE_UNITS: dict[str, tuple[int, str]] = {
    Meter.LLM_PROMPT_TOKENS: (6, "1M tokens"),
    Meter.LLM_COMPLETION_TOKENS: (6, "1M tokens"),
    Meter.LLM_CALL: (0, "call"),
    Meter.STORAGE_GB_MONTH: (0, "GB-month"),
    Meter.REPORT_EXPORT: (0, "export"),
}
MICROS_EXPONENT = 6  # 1 USD = 10**6 micros
STORED_PLACES = 6  # RateLineItem.unit_price_micros: decimal_places=6
STORED_DIGITS = 20  # ... and max_digits=20
HELP = "In dollars: per 1M tokens for prompt and completion tokens; per call, per GB-month or per export."


class PriceError(ValueError):
    pass


def price_unit(meter: str) -> tuple[int, str]:
    try:
        return PRICE_UNITS[meter]
    except KeyError:
        raise PriceError(f"Unknown meter {meter!r}.") from None


def dollars_from_micros(meter: str, unit_price_micros: Decimal) -> Decimal:
    """Micros per unit -> dollars per priced unit (3 micros per token -> 3 dollars per 1M tokens)."""
    exponent, _name = price_unit(meter)
    return Decimal(unit_price_micros).scaleb(exponent - MICROS_EXPONENT)


def micros_from_dollars(meter: str, dollars: Decimal) -> Decimal:
    """Dollars per priced unit -> micros per unit, exactly as stored, or PriceError."""
    if isinstance(dollars, float) or not isinstance(dollars, Decimal | int):
        raise PriceError("Prices are decimals, never floats.")
    dollars = Decimal(dollars)
    if not dollars.is_finite() or dollars < 0:
        raise PriceError("A price is zero or more.")
    exponent, name = price_unit(meter)
    micros = dollars.scaleb(MICROS_EXPONENT - exponent)
    stored = micros.quantize(Decimal(1).scaleb(-STORED_PLACES))
    if stored != micros:
        smallest = format_dollars(Decimal(1).scaleb(exponent - MICROS_EXPONENT - STORED_PLACES))
        raise PriceError(
            f"That is more precise than prices are kept: the smallest step is {smallest} per {name}."
        )
    if stored.adjusted() >= STORED_DIGITS - STORED_PLACES:
        raise PriceError(f"That price is too large for a rate card (per {name}).")
    return stored


def format_dollars(dollars: Decimal) -> str:
    """At least cents, and every digit that matters beyond them: 3 -> "$3.00", 0.0001 -> "$0.0001"."""
    dollars = Decimal(dollars)
    exponent = dollars.normalize().as_tuple().exponent
    places = max(2, -exponent if isinstance(exponent, int) else 2)
    return f"${dollars:,.{places}f}"


def price_label(meter: str, unit_price_micros: Decimal) -> str:
    """ "$3.00 per 1M tokens", "$0.0001 per call"."""
    _exponent, name = price_unit(meter)
    return f"{format_dollars(dollars_from_micros(meter, unit_price_micros))} per {name}"
