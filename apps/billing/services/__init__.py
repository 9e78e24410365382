"""Writes for billing. Import from here: `from apps.billing import services`."""

from apps.billing.services.auto_topup import auto_topup_maybe_start
from apps.billing.services.erasure import billing_workspace_purge
from apps.billing.services.pricing import (
    DEFAULT_PLAN,
    DEFAULT_RATE_LINES,
    UsageCompanions,
    rate_card_install_default,
    rate_card_version_create,
    rate_version_in_force,
    rate_version_is_used,
    rate_version_start_check,
    usage_estimate,
    usage_quote,
    usage_quote_reused,
    usage_record,
)
from apps.billing.services.receipts import receipt_email_send, receipt_issue, receipts_personal_details_remove
from apps.billing.services.refunds import (
    refund_list_for,
    refund_room,
    refund_settle,
    refund_start,
    refundable_topup_get,
    refundable_topups_recent,
)
from apps.billing.services.reserve import (
    hold_capture,
    hold_expire_due,
    hold_place,
    hold_void,
    refusals_recorded,
    reserve_account_ensure,
    reserve_adjust,
    reserve_credit,
    reserve_deduct,
    reserve_policy_set,
    reserve_refusal_record,
    reserve_settings_update,
)
from apps.billing.services.setup import billing_defaults_install
from apps.billing.services.simulated import simulated_checkout_complete, simulated_checkout_get
from apps.billing.services.topups import (
    auto_topup_charge,
    portal_session_start,
    topup_amount_check,
    topup_checkout_start,
    topup_mode,
)
from apps.billing.services.webhooks import webhook_event_process

__all__ = [
    "DEFAULT_PLAN",
    "DEFAULT_RATE_LINES",
    "UsageCompanions",
    "auto_topup_charge",
    "auto_topup_maybe_start",
    "billing_defaults_install",
    "billing_workspace_purge",
    "hold_capture",
    "hold_expire_due",
    "hold_place",
    "hold_void",
    "portal_session_start",
    "rate_card_install_default",
    "rate_card_version_create",
    "rate_version_in_force",
    "rate_version_is_used",
    "rate_version_start_check",
    "receipt_email_send",
    "receipt_issue",
    "receipts_personal_details_remove",
    "refund_list_for",
    "refund_room",
    "refund_settle",
    "refund_start",
    "refundable_topup_get",
    "refundable_topups_recent",
    "refusals_recorded",
    "reserve_account_ensure",
    "reserve_adjust",
    "reserve_credit",
    "reserve_deduct",
    "reserve_policy_set",
    "reserve_refusal_record",
    "reserve_settings_update",
    "simulated_checkout_complete",
    "simulated_checkout_get",
    "topup_amount_check",
    "topup_checkout_start",
    "topup_mode",
    "usage_estimate",
    "usage_quote",
    "usage_quote_reused",
    "usage_record",
    "webhook_event_process",
]
