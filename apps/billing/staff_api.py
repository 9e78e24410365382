"""Billing API for operators, the workspace's billing profile, and the status bar.

Mounted in afterresume/api.py next to apps/billing/api.py's router:

- `/api/billing/admin/...` (staff_router): the staff API for operators' scripts. A staff member's session
  or personal access token; anyone else gets 404 (apps/accounts/staff_auth.py). Adjustments go through
  `services.reserve_adjust`, the same service and audit event as the staff billing page; the ledger CSV is
  the same stream as `export_ledger` (apps/billing/exports.py). `usage/costs/` needs what models cost us,
  which the metrics app keeps, so it lives in apps/metrics/api.py under the same prefix.
- `/api/billing/profile/` (profile_router): the signed-in workspace's plan, policy and auto top-up settings.
- `/api/status/bar/` (status_router): balance, available and today's tokens, as the top bar shows them.
"""

from datetime import datetime

from ninja import Field, Query, Router, Schema

from apps.accounts.models import Tenant
from apps.accounts.staff_auth import STAFF_AUTH
from apps.accounts.timezones import user_zone
from apps.billing import selectors, services, staff_selectors
from apps.billing.exports import ledger_csv_response
from apps.billing.status_bar import status_bar_read
from apps.core.apicontract import ErrorOut, IsoDate
from apps.core.errors import ValidationFailed
from apps.core.tenancy import require_tenant

staff_router = Router(tags=["billing staff"], auth=STAFF_AUTH)
profile_router = Router(tags=["billing"])
status_router = Router(tags=["status"])

# A manual adjustment is a correction, not a way to move fortunes: bounded so no balance can overflow.
MAX_ADJUSTMENT_MICROS = 1_000_000 * 1_000_000  # $1,000,000


class AttentionOut(Schema):
    tenant: str
    name: str
    policy: str
    currency: str
    balance_micros: int
    available_micros: int
    low_balance_threshold_micros: int


class ReserveSummaryOut(Schema):
    accounts: int
    liability_micros: int = Field(description="Sum of positive balances: prepaid money we owe in service.")
    held_micros: int
    under_threshold: int
    negative: int
    attention: list[AttentionOut] = Field(description="Under their threshold or negative, lowest first.")


class AdjustIn(Schema):
    tenant: str = Field(..., description="The workspace's slug.", max_length=60)
    amount_micros: int = Field(
        ...,
        ge=-MAX_ADJUSTMENT_MICROS,
        le=MAX_ADJUSTMENT_MICROS,
        description="Signed: positive adds to the reserve, negative takes from it.",
    )
    reason: str = Field(..., description="Why; required, up to 300 characters, written to the audit log.")
    idempotency_key: str = Field(
        ..., description="Repeating a key with the same amount returns the first entry."
    )


class AdjustOut(Schema):
    entry_id: int
    tenant: str
    kind: str
    amount_micros: int
    balance_after_micros: int
    idempotency_key: str
    reason: str
    created_at: datetime


class LedgerExportFilters(Schema):
    tenant: str = Field("", description="Only this workspace (its slug).", max_length=60)
    since: IsoDate | None = None
    until: IsoDate | None = None


LEDGER_CSV_RESPONSES = {
    "responses": {
        200: {
            "description": "The ledger as CSV with a header row, the same stream as `export_ledger`.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    }
}


def _tenant_by_slug(slug: str, *, required: bool) -> Tenant | None:
    slug = (slug or "").strip()
    if not slug:
        if required:
            raise ValidationFailed("Name the workspace by its slug.", field="tenant")
        return None
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        raise ValidationFailed(f"No workspace has the slug {slug!r}.", field="tenant")
    return tenant


@staff_router.get("/admin/reserve/summary/", response=ReserveSummaryOut)
def admin_reserve_summary(request):
    """Total liability, money held for running work, and the accounts under threshold or negative."""
    return staff_selectors.reserve_summary()


@staff_router.post("/admin/reserve/adjust/", response={200: AdjustOut, 402: ErrorOut})
def admin_reserve_adjust(request, body: AdjustIn):
    """A manual correction in the caller's name, audited like the staff page's. 402 when a negative
    adjustment is more than the workspace's policy allows; 409 when the key was used with another amount."""
    tenant = _tenant_by_slug(body.tenant, required=True)
    entry = services.reserve_adjust(
        tenant=tenant,
        amount_micros=body.amount_micros,
        reason=body.reason,
        actor=request.user,
        idempotency_key=body.idempotency_key,
    )
    return {
        "entry_id": entry.pk,
        "tenant": tenant.slug,
        "kind": entry.kind,
        "amount_micros": entry.amount_micros,
        "balance_after_micros": entry.balance_after_micros,
        "idempotency_key": entry.idempotency_key,
        "reason": entry.memo,
        "created_at": entry.created_at,
    }


@staff_router.get("/admin/ledger/export.csv", openapi_extra=LEDGER_CSV_RESPONSES)
def admin_ledger_export(request, filters: Query[LedgerExportFilters]):
    """Every ledger entry (of one workspace, between two days in your time zone), streamed."""
    tenant = _tenant_by_slug(filters.tenant, required=False)
    if filters.since and filters.until and filters.since > filters.until:
        raise ValidationFailed("`since` is after `until`.", field="since")
    rows = selectors.ledger_export_rows(tenant=tenant, since=filters.since, until=filters.until)
    return ledger_csv_response(rows)


class AutoTopUpOut(Schema):
    enabled: bool
    amount_cents: int
    threshold_micros: int
    failure_reason: str
    failed_at: datetime | None


class BillingProfileOut(Schema):
    plan: str
    currency: str
    policy: str
    credit_limit_micros: int
    low_balance_threshold_micros: int
    card_saved: bool
    subscription_status: str
    auto_topup: AutoTopUpOut


@profile_router.get("/profile/", response=BillingProfileOut)
def billing_profile(request):
    """The signed-in workspace's plan, low-balance policy and automatic top-up settings."""
    return staff_selectors.billing_profile(tenant=require_tenant(request))


class StatusBarOut(Schema):
    balance_micros: int
    available_micros: int
    tokens_in: int = Field(description="Prompt tokens used today, in your time zone.")
    tokens_out: int = Field(description="Completion tokens used today, in your time zone.")
    updated_at: datetime = Field(description="When these figures were read.")


@status_router.get("/bar/", response=StatusBarOut)
def status_bar(request):
    """What the top bar shows, for the signed-in workspace: one query."""
    status = status_bar_read(tenant=require_tenant(request), zone=user_zone(request.user))
    return status.as_dict()
