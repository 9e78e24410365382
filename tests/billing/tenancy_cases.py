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


def _receipt(owner):
    from apps.accounts.selectors import tenant_for_user
    from apps.billing import services
    from apps.billing.models import Receipt
    from tests.billing.conftest import checkout_completed_event

    tenant = tenant_for_user(owner)
    services.webhook_event_process(event=checkout_completed_event(tenant=tenant, amount_cents=1000))
    return {"number": Receipt.objects.filter(tenant=tenant).latest("id").number}


def _paid_topup(owner):
    from apps.accounts.selectors import tenant_for_user
    from apps.billing import services
    from apps.billing.models import TopUp
    from tests.billing.conftest import checkout_completed_event

    tenant = tenant_for_user(owner)
    services.webhook_event_process(event=checkout_completed_event(tenant=tenant, amount_cents=1000))
    return {"public_id": TopUp.objects.filter(tenant=tenant).latest("id").public_id}


OUTSIDER_GETS_404.update({"billing_receipt": (_receipt, ["get"]), "billing_receipt_pdf": (_receipt, ["get"])})
STAFF_ONLY = {"billing_staff_refund": (_paid_topup, ["get", "post"])}
NOT_OBJECT_URLS = {
    "billing_statement": "a month of the signed-in workspace's own ledger; no other workspace is named",
    "billing_statement_pdf": "a month of the signed-in workspace's own ledger; no other workspace is named",
}
