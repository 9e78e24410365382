"""Billing URLs for the tenancy harness (merged by tests/tenancy.py)."""


def _simulated_checkout(owner):
    from apps.accounts.selectors import tenant_for_user
    from apps.billing.models import TopUp
    from apps.billing.services import reserve_account_ensure

    tenant = tenant_for_user(owner)
    account = reserve_account_ensure(tenant=tenant)
    public_id = TopUp.new_public_id("sim_cs")
    TopUp.objects.create(
        tenant=tenant, account=account, public_id=public_id, source=TopUp.Source.SIMULATED, amount_cents=2000
    )
    return {"session_id": public_id}


OUTSIDER_GETS_404 = {"billing_simulated_checkout": (_simulated_checkout, ["get", "post"])}
