"""Receipts: one numbered, immutable receipt per paid top-up, whatever the webhooks do: page, PDF, email."""

import io
import json
from datetime import UTC, datetime

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.test import Client
from django_q.models import OrmQ
from pypdf import PdfReader

from apps.accounts import services as account_services
from apps.accounts.models import Membership, Tenant
from apps.billing import services, tasks
from apps.billing.models import AppendOnlyError, LedgerEntry, Receipt, ReserveAccount, TopUp
from apps.billing.services.receipts import receipt_issue
from tests.billing.conftest import (
    auto_topup_pending,
    auto_topup_succeeded_event,
    checkout_completed_event,
    checkout_paid,
    checkout_topup,
    post_webhook,
    sign,
)
from tests.concurrency import needs_postgres, run_in_threads
from tests.conftest import make_user


def _pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_it_issues_one_receipt_for_a_checkout_with_the_card_and_stripe_ids(alice_client, tenant, stripe_on):
    session, event = checkout_paid(alice_client, stripe_on, amount_cents=2500)
    receipt = Receipt.objects.get()
    year = receipt.issued_at.year
    assert receipt.number == f"AR-{year}-000001"
    assert (receipt.net_cents, receipt.tax_cents, receipt.total_cents) == (2500, 0, 2500)
    assert (receipt.card_brand, receipt.card_last4) == ("visa", "4242")
    assert receipt.stripe_checkout_session_id == session["session_id"]
    assert receipt.stripe_payment_intent_id == event["data"]["object"]["payment_intent"]
    assert receipt.stripe_charge_id.startswith("ch_")
    assert receipt.workspace_name == "Alice's workspace"
    assert receipt.billed_to_email == "alice@example.com"
    assert receipt.topup == TopUp.objects.get()
    # The receipt is the ledger's credit, to the micro.
    assert receipt.ledger_entry.amount_micros == receipt.net_cents * 10_000
    assert receipt.ledger_entry.kind == LedgerEntry.Kind.TOPUP


def test_it_keeps_one_receipt_however_often_and_however_the_payment_is_announced(
    alice_client, tenant, stripe_on
):
    _session, event = checkout_paid(alice_client, stripe_on)
    assert post_webhook(alice_client, event).json()["outcome"] == "duplicate"
    # The same payment announced again under another event id (Stripe resends, or a replay).
    again = {**event, "id": event["id"] + "_again"}
    assert post_webhook(alice_client, again).json()["outcome"] == "processed"
    assert Receipt.objects.count() == 1
    assert LedgerEntry.objects.count() == 1
    assert ReserveAccount.objects.get(tenant=tenant).balance_micros == 20_000_000


def test_it_numbers_receipts_gaplessly_per_year_and_gives_a_rolled_back_number_back(tenant, webhook_secret):
    def pay(amount_cents):
        event = checkout_completed_event(tenant=tenant, amount_cents=amount_cents)
        assert services.webhook_event_process(event=event) == "processed"
        return Receipt.objects.get(topup__stripe_object_id=event["data"]["object"]["id"])

    with time_machine.travel(datetime(2026, 12, 31, 23, 0, tzinfo=UTC)):
        first, second = pay(1000), pay(1500)
        # A credit that rolls back (here: whatever broke after it) takes its receipt number with it.
        topup = checkout_topup(tenant=tenant, amount_cents=700)
        with pytest.raises(RuntimeError), transaction.atomic():
            entry = services.reserve_credit(
                tenant=tenant, amount_micros=7_000_000, idempotency_key="rolled-back"
            )
            receipt_issue(topup=topup, entry=entry)
            raise RuntimeError("the transaction fails after the receipt")
        third = pay(2000)
    with time_machine.travel(datetime(2027, 1, 1, 0, 30, tzinfo=UTC)):
        next_year = pay(500)
    assert [first.number, second.number, third.number] == [
        "AR-2026-000001",
        "AR-2026-000002",
        "AR-2026-000003",
    ]
    assert next_year.number == "AR-2027-000001"
    assert not Receipt.objects.filter(topup=topup).exists()


def test_it_refuses_to_change_or_delete_a_receipt(tenant, webhook_secret):
    services.webhook_event_process(event=checkout_completed_event(tenant=tenant, amount_cents=1000))
    receipt = Receipt.objects.get()
    receipt.total_cents = 1
    with pytest.raises(AppendOnlyError):
        receipt.save()
    with pytest.raises(AppendOnlyError):
        receipt.delete()
    assert Receipt.objects.get().total_cents == 1000


def test_it_emails_the_receipt_with_its_pdf_from_a_job_after_commit(
    alice_client, tenant, webhook_secret, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_webhook(alice_client, checkout_completed_event(tenant=tenant, amount_cents=2000))
    assert mail.outbox == []  # never inside the request
    receipt = Receipt.objects.get()
    queued = [
        task.task
        for task in OrmQ.objects.all()
        if task.task["func"] == "apps.billing.tasks.receipt_email_send"
    ]
    assert [task["args"] for task in queued] == [(receipt.pk,)]

    assert tasks.receipt_email_send(receipt.pk) == "sent"
    assert tasks.receipt_email_send(receipt.pk) == "already sent"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]
    assert message.subject == f"[AfterResume] Receipt {receipt.number}"
    assert "Total paid: $20.00" in message.body
    ((name, content, mimetype),) = message.attachments
    assert (name, mimetype) == (f"{receipt.number}.pdf", "application/pdf")
    text = _pdf_text(content)
    assert receipt.number in text and "$20.00" in text
    assert message.alternatives[0][1] == "text/html"


def test_it_gives_the_email_back_to_the_job_when_sending_fails(tenant, webhook_secret, settings):
    Membership.objects.create(
        user=make_user("owner@example.com", name="Olive Owner"), tenant=tenant, role=Membership.Role.OWNER
    )
    services.webhook_event_process(event=checkout_completed_event(tenant=tenant, amount_cents=2000))
    receipt = Receipt.objects.get()
    assert receipt.billed_to_email == "owner@example.com"  # no payer on record: the workspace's owner
    settings.EMAIL_BACKEND = "tests.billing.test_receipts.FailingBackend"
    with pytest.raises(ConnectionError):
        tasks.receipt_email_send(receipt.pk)
    assert Receipt.objects.get().emailed_at is None
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert tasks.receipt_email_send(receipt.pk) == "sent"


class FailingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionError("the mail server is down")


def test_it_lists_receipts_in_the_api_with_the_exact_shape_and_a_downloadable_pdf(
    alice_client, tenant, stripe_on
):
    checkout_paid(alice_client, stripe_on, amount_cents=1200)
    checkout_paid(alice_client, stripe_on, amount_cents=800)
    body = alice_client.get("/api/billing/receipts/").json()
    assert list(body) == ["items"]
    assert [set(item) for item in body["items"]] == [
        {"number", "created_at", "amount_cents", "currency", "pdf_url"}
    ] * 2
    newest, oldest = body["items"]
    assert (newest["amount_cents"], oldest["amount_cents"], newest["currency"]) == (800, 1200, "usd")
    assert newest["number"].endswith("-000002") and oldest["number"].endswith("-000001")
    pdf = alice_client.get(newest["pdf_url"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert newest["number"] in _pdf_text(pdf.content)

    # The same list and PDF with a personal access token.
    alice = tenant.memberships.get().user
    _token, raw = account_services.access_token_create(user=alice, tenant=tenant, name="accounting")
    scripted = Client(headers={"Authorization": f"Bearer {raw}"})
    assert scripted.get("/api/billing/receipts/").json() == body
    assert scripted.get(newest["pdf_url"]).status_code == 200


def test_it_keeps_receipts_to_their_workspace(alice_client, tenant, charlie, other_tenant, webhook_secret):
    services.webhook_event_process(event=checkout_completed_event(tenant=other_tenant, amount_cents=1000))
    theirs = Receipt.objects.get()
    assert alice_client.get("/api/billing/receipts/").json() == {"items": []}
    assert alice_client.get(f"/api/billing/receipts/{theirs.number}/pdf/").status_code == 404
    assert alice_client.get(f"/billing/receipts/{theirs.number}/").status_code == 404
    assert alice_client.get(f"/billing/receipts/{theirs.number}/pdf/").status_code == 404
    assert Client().get("/api/billing/receipts/").status_code == 401


def test_it_shows_the_receipts_on_the_billing_page_and_a_receipt_page(alice_client, tenant, stripe_on):
    checkout_paid(alice_client, stripe_on, amount_cents=4200)
    receipt = Receipt.objects.get()
    page = alice_client.get("/billing/").content.decode()
    assert receipt.number in page and f"/billing/receipts/{receipt.number}/pdf/" in page
    detail = alice_client.get(f"/billing/receipts/{receipt.number}/").content.decode()
    assert "Visa ending in 4242" in detail
    assert "$42.00" in detail and "Alice&#x27;s workspace" in detail
    assert alice_client.get("/billing/receipts/").content.decode().count(receipt.number) >= 1
    download = alice_client.get(f"/billing/receipts/{receipt.number}/pdf/")
    assert download["Content-Disposition"] == f'attachment; filename="{receipt.number}.pdf"'
    text = _pdf_text(download.content)
    assert "Visa ending in 4242" in text and "$42.00" in text


def test_it_gives_a_simulated_top_up_a_receipt_labelled_as_simulated(alice_client, tenant, settings):
    settings.DEBUG = True
    checkout = alice_client.post("/billing/topup/", {"amount": "20"})["Location"]
    alice_client.post(checkout)
    receipt = Receipt.objects.get()
    assert receipt.source == TopUp.Source.SIMULATED
    assert "Simulated checkout" in alice_client.get(f"/billing/receipts/{receipt.number}/").content.decode()


def test_it_gives_an_automatic_top_up_one_receipt_from_the_charge_and_its_webhook(
    alice_client, tenant, stripe_on
):
    pending = auto_topup_pending(alice_client, tenant, stripe_on)
    assert tasks.auto_topup_charge(pending.pk) == "succeeded"
    pending.refresh_from_db()
    event = auto_topup_succeeded_event(pending, amount_cents=2500, event_id="evt_auto_receipt")
    assert post_webhook(alice_client, event).json()["outcome"] == "processed"
    receipt = Receipt.objects.get(topup=pending)
    assert (receipt.source, receipt.total_cents, receipt.card_last4) == ("automatic", 2500, "4242")
    assert receipt.stripe_payment_intent_id == pending.stripe_object_id
    assert receipt.billed_to_email == "alice@example.com"  # the workspace's owner
    assert Receipt.objects.count() == 2  # the first Checkout and this one


def test_it_still_credits_and_issues_the_receipt_when_the_card_cannot_be_read(
    alice_client, tenant, stripe_on
):
    response = alice_client.post(
        "/api/billing/topup/session/", {"amount_cents": 1500}, content_type="application/json"
    )
    event = stripe_on.pay_checkout(response.json()["session_id"])
    stripe_on.fail(f"/v1/payment_intents/{event['data']['object']['payment_intent']}")
    assert post_webhook(alice_client, event).json()["outcome"] == "processed"
    receipt = Receipt.objects.get()
    assert (receipt.total_cents, receipt.card_last4, receipt.stripe_charge_id) == (1500, "", "")
    assert "ending in" not in alice_client.get(f"/billing/receipts/{receipt.number}/").content.decode()


def postgres_only(test):
    for mark in reversed(needs_postgres):
        test = mark(test)
    return test


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_it_issues_one_receipt_under_concurrent_duplicate_webhooks_and_numbers_without_gaps(settings):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_afterresume"
    tenants = [Tenant.objects.create(name=f"Race {index}", slug=f"race-{index}") for index in range(4)]
    # Four top-ups, each announced by four deliveries of its event and four more under other event ids.
    deliveries = []
    for index, tenant in enumerate(tenants):
        event = checkout_completed_event(
            tenant=tenant, amount_cents=1000 + index, session_id=f"cs_race_{index}"
        )
        for copy in range(8):
            deliveries.append(json.dumps({**event, "id": event["id"] + ("" if copy < 4 else f"_{copy}")}))

    def deliver(index):
        payload = deliveries[index]
        response = Client().post(
            "/api/billing/webhook/",
            data=payload,
            content_type="application/json",
            headers={"Stripe-Signature": sign(payload)},
        )
        return response.status_code

    assert set(run_in_threads(len(deliveries), deliver)) == {200}
    receipts = list(Receipt.objects.order_by("sequence"))
    assert len(receipts) == 4 and Receipt.objects.values("topup").distinct().count() == 4
    assert [receipt.sequence for receipt in receipts] == [1, 2, 3, 4]
    assert LedgerEntry.objects.count() == 4
    for receipt in receipts:
        assert receipt.ledger_entry.amount_micros == receipt.total_cents * 10_000
        assert (
            ReserveAccount.objects.get(tenant_id=receipt.tenant_id).balance_micros
            == receipt.total_cents * 10_000
        )
