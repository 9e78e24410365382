from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from apps.accounts import signals

        signals.connect()

    def purge_workspace(self, tenant) -> int:
        """Accounts' part of deleting a workspace: its memberships and tokens go; the workspace row stays
        (the ledger points at it) under a neutral name."""
        from apps.accounts.deletion import tenant_tombstone

        return tenant_tombstone(tenant=tenant)

    def purge_person(self, user) -> int:
        """Accounts' part of deleting a person: sessions end; tokens, memberships and invite uses go."""
        from apps.accounts.deletion import person_accounts_purge

        return person_accounts_purge(user=user)
