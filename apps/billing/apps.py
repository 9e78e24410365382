from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "apps.billing"
    label = "billing"
    verbose_name = "Billing"

    def bootstrap(self, stdout) -> None:
        """Billing's part of `manage.py bootstrap`: the default rate card and the hold expiry schedule."""
        from apps.billing.services import billing_defaults_install  # the registry is ready by now

        for line in billing_defaults_install():
            stdout.write(line)
