"""What AI usage cost us: tokens priced with ProviderCost (what the provider charges us per 1M tokens)."""

from datetime import datetime
from decimal import Decimal

from apps.billing import staff_selectors as billing_staff
from apps.core.money import price_micros
from apps.metrics.models import ProviderCost

PER_MILLION = Decimal(1_000_000)
# Runs on this server and costs nothing per token.
FREE_MODELS = frozenset({"builtin"})


def provider_costs() -> dict[str, ProviderCost]:
    return {cost.model: cost for cost in ProviderCost.objects.all()}


def token_cost(tokens: int, per_million: int) -> int:
    """`tokens` at `per_million` micros per 1M tokens, rounded once with the money rule."""
    if not tokens or not per_million:
        return 0
    return price_micros(quantity=tokens, unit_price_micros=Decimal(per_million) / PER_MILLION)


def cost_of(
    *, model: str, tokens_in: int, tokens_out: int, costs: dict[str, ProviderCost]
) -> tuple[int, bool]:
    """(cost in micros, whether a cost is known for the model). Unknown models cost zero, flagged."""
    price = costs.get(model)
    if price is None:
        return 0, model in FREE_MODELS
    cost = token_cost(tokens_in, price.input_micros_per_million) + token_cost(
        tokens_out, price.output_micros_per_million
    )
    return cost, True


def usage_costs(*, start: datetime, end: datetime) -> dict:
    """Per workspace and model in [start, end): tokens, what it charged, what it cost us, the margin."""
    rows = billing_staff.usage_by_tenant_and_model(
        start=start, end=end, limit=billing_staff.USAGE_COST_ROWS + 1
    )
    truncated = len(rows) > billing_staff.USAGE_COST_ROWS
    rows = rows[: billing_staff.USAGE_COST_ROWS]
    costs = provider_costs()
    items = []
    totals = dict.fromkeys(
        (
            "events",
            "tokens_in",
            "tokens_out",
            "charged_micros",
            "ai_charged_micros",
            "cost_micros",
            "margin_micros",
        ),
        0,
    )
    for row in rows:
        cost, known = cost_of(
            model=row["model"], tokens_in=row["tokens_in"], tokens_out=row["tokens_out"], costs=costs
        )
        item = {
            **row,
            "cost_micros": cost,
            "margin_micros": row["ai_charged_micros"] - cost,
            "cost_configured": known,
        }
        items.append(item)
        for name in totals:
            totals[name] += item[name]
    return {"items": items, "totals": totals, "truncated": truncated}
