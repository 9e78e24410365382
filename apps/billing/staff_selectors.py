"""Staff-wide reads of billing for operators' pages and scripts (the staff API, /staff/system/).

Not scoped by tenant: every caller is behind a staff check (404 for everyone else). The workspace's own
reads stay in selectors.py.
"""

from datetime import datetime

from django.db.models import Count, Q, Sum

from apps.billing import selectors
from apps.billing.models import Meter, ReserveAccount, StripeEvent, UsageLine

USAGE_COST_ROWS = 1000


def reserve_summary(*, attention_limit: int = 50) -> dict:
    """Liability and the accounts under their threshold or negative, lowest available first."""
    summary = selectors.staff_reserve_summary()
    return {
        "accounts": summary.accounts,
        "liability_micros": summary.liability_micros,
        "held_micros": summary.held_micros,
        "under_threshold": summary.under_threshold,
        "negative": summary.negative,
        "attention": [
            {
                "tenant": account.tenant.slug,
                "name": account.tenant.name,
                "policy": account.policy,
                "currency": account.currency,
                "balance_micros": account.balance_micros,
                "available_micros": account.available,
                "low_balance_threshold_micros": account.low_balance_threshold_micros,
            }
            for account in selectors.staff_accounts_needing_attention(limit=attention_limit)
        ],
    }


def usage_by_tenant_and_model(*, start: datetime, end: datetime, limit: int = USAGE_COST_ROWS) -> list[dict]:
    """What each workspace's usage of each model charged in [start, end), with its tokens and calls.

    One grouped read of the usage lines in the range (indexed by the usage's time), largest charge first.
    """
    llm = [Meter.LLM_PROMPT_TOKENS, Meter.LLM_COMPLETION_TOKENS, Meter.LLM_CALL]
    rows = (
        UsageLine.objects.filter(event__occurred_at__gte=start, event__occurred_at__lt=end)
        .values("tenant__slug", "tenant__name", "event__model")
        .annotate(
            events=Count("event_id", distinct=True),
            tokens_in=Sum("quantity", filter=Q(meter=Meter.LLM_PROMPT_TOKENS)),
            tokens_out=Sum("quantity", filter=Q(meter=Meter.LLM_COMPLETION_TOKENS)),
            ai_charged=Sum("cost_micros", filter=Q(meter__in=llm)),
            charged=Sum("cost_micros"),
        )
        .order_by("-charged", "tenant__slug", "event__model")[:limit]
    )
    return [
        {
            "tenant": row["tenant__slug"],
            "name": row["tenant__name"],
            "model": row["event__model"],
            "events": row["events"],
            "tokens_in": int(row["tokens_in"] or 0),
            "tokens_out": int(row["tokens_out"] or 0),
            "ai_charged_micros": int(row["ai_charged"] or 0),
            "charged_micros": int(row["charged"] or 0),
        }
        for row in rows
    ]


def stripe_events_failed(*, limit: int = 25) -> list[StripeEvent]:
    """Failed events (a delivery broke, or the event did not match our records), newest first."""
    return list(
        StripeEvent.objects.filter(status=StripeEvent.Status.FAILED)
        .select_related("tenant")
        .order_by("-received_at", "-id")[:limit]
    )


def billing_profile(*, tenant) -> dict:
    """The workspace's plan, low-balance policy and automatic top-up settings."""
    account = selectors.reserve_account_for(tenant=tenant)
    return _profile(account)


def _profile(account: ReserveAccount) -> dict:
    return {
        "plan": account.plan,
        "currency": account.currency,
        "policy": account.policy,
        "credit_limit_micros": account.credit_limit_micros,
        "low_balance_threshold_micros": account.low_balance_threshold_micros,
        "card_saved": bool(account.stripe_payment_method_id),
        "subscription_status": account.subscription_status,
        "auto_topup": {
            "enabled": account.auto_topup_enabled,
            "amount_cents": account.auto_topup_amount_cents,
            "threshold_micros": account.auto_topup_threshold_micros,
            "failure_reason": account.auto_topup_failure_reason,
            "failed_at": account.auto_topup_failed_at,
        },
    }
