"""Money as integers.

Amounts are stored in micros: millionths of the currency unit (1 USD = 1_000_000 micros), so that
per-token prices are exact. Stripe amounts are cents; one cent is exactly 10_000 micros.

Rounding happens only here. The rule is ROUND_HALF_UP on the absolute value ("half away from zero"),
applied once, at the moment a fractional amount (a price times a quantity) becomes an integer amount.
"""

from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

MICROS_PER_UNIT = 1_000_000
MICROS_PER_CENT = 10_000
MONEY_ROUNDING = ROUND_HALF_UP

CURRENCY_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£"}


class MoneyError(ValueError):
    pass


def _as_decimal(value: int | str | Decimal) -> Decimal:
    if isinstance(value, float):
        raise MoneyError("Floats are not accepted for money; pass an int, a str or a Decimal.")
    try:
        result = Decimal(value)
    except (InvalidOperation, TypeError) as exc:
        raise MoneyError(f"Not an amount: {value!r}") from exc
    if not result.is_finite():
        raise MoneyError(f"Not a finite amount: {value!r}")
    return result


def round_micros(amount: int | str | Decimal) -> int:
    """Round a fractional number of micros to a whole number with the money rounding rule."""
    return int(_as_decimal(amount).quantize(Decimal(1), rounding=MONEY_ROUNDING))


def price_micros(*, quantity: int | str | Decimal, unit_price_micros: int | str | Decimal) -> int:
    """The cost of `quantity` units at a (possibly fractional) price per unit, rounded once."""
    return round_micros(_as_decimal(quantity) * _as_decimal(unit_price_micros))


def cents_to_micros(cents: int) -> int:
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise MoneyError("Cents must be an integer.")
    return cents * MICROS_PER_CENT


def micros_to_cents(micros: int) -> int:
    """Whole cents in an amount of micros, rounding down (never shows more than is there)."""
    return int((Decimal(micros) / MICROS_PER_CENT).to_integral_value(rounding=ROUND_FLOOR))


def units_to_micros(units: int | str | Decimal) -> int:
    """Parse a decimal amount in currency units ("12.50") to micros; more than 6 decimals is an error."""
    value = _as_decimal(units) * MICROS_PER_UNIT
    if value != value.to_integral_value():
        raise MoneyError(f"{units} has more precision than a micro.")
    return int(value)


def micros_to_decimal_string(micros: int, places: int = 6) -> str:
    """An exact decimal string of currency units, e.g. 1_234_500 -> "1.234500"."""
    if not 0 <= places <= 6:
        raise MoneyError("places must be between 0 and 6")
    if places == 6:  # exact, so no rounding: integer arithmetic is enough (and fast, for exports)
        whole, fraction = divmod(abs(micros), MICROS_PER_UNIT)
        return f"{'-' if micros < 0 else ''}{whole}.{fraction:06d}"
    value = Decimal(micros) / MICROS_PER_UNIT
    return str(value.quantize(Decimal(1).scaleb(-places), rounding=MONEY_ROUNDING))


def format_micros(micros: int, currency: str = "usd") -> str:
    """Human display, to the cent: 12_345_000 -> "$12.35"; negative as "-$1.00"."""
    symbol = CURRENCY_SYMBOLS.get(currency.lower(), currency.upper() + " ")
    sign = "-" if micros < 0 else ""
    units = Decimal(abs(micros)) / MICROS_PER_UNIT
    return f"{sign}{symbol}{units.quantize(Decimal('0.01'), rounding=MONEY_ROUNDING):,}"
