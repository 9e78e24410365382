"""The prices in force for a workspace at a moment: one query that pricing reads to quote, and that the
reserve runs inside the statement that places a hold, to check that a quote is still current.

Internal to the billing services (pricing and reserve both import it; it imports neither).
"""

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection

DEFAULT_PLAN = "standard"
QUANTITY_PLACES = Decimal("0.000001")

# The prices in force for a tenant at a time, in one statement: the account's plan (the default plan when
# there is no account yet, or when the plan has no version in force: rate_version_in_force's rule), the
# latest version of that card started by then, and its lines (none: one row of NULLs). Prices come back as
# text so that both databases give the exact decimal the ORM would.
PRICES_IN_FORCE = """
WITH account AS (
    SELECT COALESCE(MAX(plan), %(default)s) AS plan, COUNT(*) AS saved
    FROM billing_reserveaccount WHERE tenant_id = %(tenant)s
), version AS (
    SELECT v.id FROM billing_ratecardversion v
    JOIN billing_ratecard c ON c.id = v.rate_card_id
    JOIN account a ON c.plan IN (a.plan, %(default)s)
    WHERE v.effective_from <= %(at)s
    ORDER BY CASE WHEN c.plan = a.plan THEN 0 ELSE 1 END, v.effective_from DESC
    LIMIT 1
)
SELECT a.saved, version.id, li.meter, li.model, CAST(li.unit_price_micros AS TEXT)
FROM account a
LEFT JOIN version ON 1 = 1
LEFT JOIN billing_ratelineitem li ON li.version_id = version.id
"""

# PostgreSQL, a boolean for a statement to test: are the quote's version and its prices the ones in force
# at the quote's time? Prices compare as JSON numbers, so 0.15 and 0.150000 are the same price.
QUOTE_IS_CURRENT = f"""(
    SELECT COALESCE(MAX(in_force.version_id) = %(q_version)s::bigint, false)
       AND COALESCE(
           jsonb_object_agg(in_force.meter || ' ' || in_force.model, to_jsonb(in_force.price::numeric))
           FILTER (WHERE in_force.meter IS NOT NULL),
           '{{}}'::jsonb
       ) = %(q_prices)s::jsonb
    FROM ({PRICES_IN_FORCE}) AS in_force (saved, version_id, meter, model, price)
)"""  # noqa: S608 - a constant query


@dataclass(frozen=True)
class PriceQuote:
    """The prices in force for a workspace at one moment: an operation that estimates its cost and then
    records its usage priced at the same moment reads the rate card once.

    `reused`: the prices were read for an earlier quote of this process (usage_quote_reused), so they may
    be out of date; hold_place(quote=...) checks them as it places the hold."""

    tenant_id: int
    at: datetime
    version_id: int
    prices: dict[tuple[str, str], Decimal]
    reused: bool = False


def prices_in_force(
    *, tenant_id: int, at: datetime
) -> tuple[int, int | None, dict[tuple[str, str], Decimal]]:
    """(whether the tenant has a reserve account, the version in force at `at` or None, its prices)."""
    params = {
        "default": DEFAULT_PLAN,
        "tenant": tenant_id,
        "at": connection.ops.adapt_datetimefield_value(at),
    }
    with connection.cursor() as cursor:
        cursor.execute(PRICES_IN_FORCE, params)
        rows = cursor.fetchall()
    prices = {
        (meter, model): Decimal(price).quantize(QUANTITY_PLACES)
        for _saved, _version, meter, model, price in rows
        if meter is not None
    }
    return rows[0][0], rows[0][1], prices


def quote_check_params(quote: PriceQuote) -> dict:
    """The parameters of QUOTE_IS_CURRENT for this quote."""
    prices = ", ".join(
        f"{json.dumps(f'{meter} {model}')}: {price}" for (meter, model), price in quote.prices.items()
    )
    return {
        "default": DEFAULT_PLAN,
        "tenant": quote.tenant_id,
        "at": quote.at,
        "q_version": quote.version_id,
        "q_prices": "{" + prices + "}",
    }


def quote_is_current(quote: PriceQuote) -> bool:
    """QUOTE_IS_CURRENT as a query of its own (for databases where the hold's statement does not run it)."""
    _saved, version_id, prices = prices_in_force(tenant_id=quote.tenant_id, at=quote.at)
    return version_id == quote.version_id and prices == quote.prices
