from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "apps.billing"
    label = "billing"
    verbose_name = "Billing"

    # Account deletion (apps.accounts.purge): accounting records stay; purge_workspace removes the personal
    # details in them instead. The ledger is append-only.
    purge_keeps = (
        "ReserveAccount",
        "LedgerEntry",
        "Hold",
        "UsageEvent",
        "UsageLine",
        "TopUp",
        "StripeEvent",
        "ReceiptCounter",
        "Receipt",
        "Refund",
        "RateCard",
        "RateCardVersion",
        "RateLineItem",
    )

    def bootstrap(self, stdout) -> None:
        """Billing's part of `manage.py bootstrap`: the default rate card and the hold expiry schedule."""
        from apps.billing.services import billing_defaults_install  # the registry is ready by now

        for line in billing_defaults_install():
            stdout.write(line)

    def purge_workspace(self, tenant) -> int:
        """Billing's part of deleting a workspace: nothing is deleted; names and addresses are removed from
        receipts and Stripe payloads, the Stripe customer (and its cards) is deleted, running holds end."""
        from apps.billing.services import billing_workspace_purge

        return billing_workspace_purge(tenant=tenant)
