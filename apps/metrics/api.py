"""`GET /api/billing/admin/usage/costs/`: what each workspace's use of each model charged, and cost us.

Part of the staff API (apps/billing/staff_api.py has the rest); it lives here because "cost to us" is the
metrics app's ProviderCost table, and billing does not import the apps above it. Mounted under
`/api/billing/`. A staff member's session or token; anyone else gets 404.
"""

from datetime import date, timedelta

from django.utils import timezone
from ninja import Field, Query, Router, Schema

from apps.accounts.staff_auth import STAFF_AUTH
from apps.accounts.timezones import user_zone
from apps.core.apicontract import IsoDate
from apps.core.dates import day_range
from apps.core.errors import ValidationFailed
from apps.metrics import costs

router = Router(tags=["billing staff"], auth=STAFF_AUTH)

DEFAULT_DAYS = 30
MAX_DAYS = 366


class UsageCostFilters(Schema):
    since: IsoDate | None = Field(
        None, description=f"First day (your time zone); {DEFAULT_DAYS} days ago by default."
    )
    until: IsoDate | None = Field(None, description="Last day, inclusive; today by default.")


class UsageCostOut(Schema):
    tenant: str
    name: str
    model: str
    events: int
    tokens_in: int
    tokens_out: int
    charged_micros: int = Field(description="Everything the usage charged (all meters).")
    ai_charged_micros: int = Field(description="What the AI meters (tokens and calls) charged.")
    cost_micros: int = Field(description="What the tokens cost us, from the model costs set by staff.")
    margin_micros: int = Field(description="ai_charged_micros - cost_micros.")
    cost_configured: bool = Field(description="False: no cost is set for this model, so it counts as zero.")


class UsageCostTotalsOut(Schema):
    events: int
    tokens_in: int
    tokens_out: int
    charged_micros: int
    ai_charged_micros: int
    cost_micros: int
    margin_micros: int


class UsageCostsOut(Schema):
    since: date
    until: date
    items: list[UsageCostOut]
    totals: UsageCostTotalsOut
    truncated: bool = Field(description="True when there were more rows than the page holds.")


@router.get("/admin/usage/costs/", response=UsageCostsOut)
def admin_usage_costs(request, filters: Query[UsageCostFilters]):
    """Cost to us and charge, by workspace and model, for whole days; largest charge first."""
    zone = user_zone(request.user) or timezone.get_current_timezone()
    until = filters.until or timezone.localdate(timezone=zone)
    since = filters.since or until - timedelta(days=DEFAULT_DAYS - 1)
    if since > until:
        raise ValidationFailed("`since` is after `until`.", field="since")
    if (until - since).days + 1 > MAX_DAYS:
        raise ValidationFailed(f"Ask for at most {MAX_DAYS} days at a time.", field="since")
    start, end = day_range(since, until, zone)
    if start is None or end is None:
        raise ValidationFailed("Those days are too close to the end of the calendar.", field="since")
    report = costs.usage_costs(start=start, end=end)
    return {"since": since, "until": until, **report}
