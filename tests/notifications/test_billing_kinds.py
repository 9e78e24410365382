"""Balance and top-up notifications, end to end: billing's services emit events, the dispatcher (a django-q2
task after commit) makes the notifications and the email task sends them."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.billing import services as billing
from apps.billing.errors import InsufficientFunds
from apps.billing.models import ReserveAccount, TopUp
from apps.core.models import Event
from apps.notifications import tasks
from apps.notifications.models import Notification
from tests.billing.conftest import WEBHOOK_SECRET, post_webhook
from tests.notifications.conftest import DOLLAR, notification_emails


@pytest.fixture
def webhook_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET


def _kinds(user) -> list[str]:
    return list(Notification.objects.filter(user=user).order_by("id").values_list("kind", flat=True))


def _deduct(tenant, committed, dollars, key):
    with committed():
        return billing.reserve_deduct(tenant=tenant, amount_micros=dollars * DOLLAR, idempotency_key=key)


def test_it_tells_every_member_once_when_the_balance_falls_under_the_threshold(
    alice, bob, charlie, tenant, funded, committed
):
    funded(6)
    _deduct(tenant, committed, 2, "use-1")

    for person in (alice, bob):
        notification = Notification.objects.get(user=person)
        assert notification.kind == "balance_low"
        assert notification.title == "Your balance is under $5.00"
        assert "$4.00 is available" in notification.body
        assert notification.url == "/billing/"
    assert not Notification.objects.filter(user=charlie).exists()

    recipients = sorted(message.to[0] for message in notification_emails())
    assert recipients == ["alice@example.com", "bob@example.com"]
    message = next(message for message in notification_emails() if message.to == ["alice@example.com"])
    assert message.subject == "[AfterResume] Your balance is under $5.00"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = message.extra_headers["List-Unsubscribe"]
    assert unsubscribe.startswith("<https://afterresume.example/notifications/unsubscribe/")
    assert unsubscribe.endswith("/>")
    assert "Hi Alice," in message.body and "$4.00 is available" in message.body
    assert f"Unsubscribe from these emails: {unsubscribe[1:-1]}" in message.body
    assert "Top up: https://afterresume.example/billing/" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "Your balance is under $5.00" in html and "$4.00 is available" in html
    assert f'href="{unsubscribe[1:-1]}"' in html
    assert 'href="https://afterresume.example/billing/"' in html
    assert Notification.objects.filter(email_state="sent").count() == 2


def test_it_tells_once_per_crossing_and_again_after_a_top_up(alice, tenant, funded, committed):
    funded(6)
    _deduct(tenant, committed, 2, "use-1")  # 6 -> 4: crosses
    _deduct(tenant, committed, 1, "use-2")  # 4 -> 3: already under
    assert _kinds(alice) == ["balance_low"]

    # Holds that push available under and are released again do not make a new crossing.
    funded(3, key="test:fund-2")  # 3 -> 6: above again, through a top-up: re-armed
    with committed():
        first = billing.hold_place(tenant=tenant, amount_micros=2 * DOLLAR, idempotency_key="hold-1")
    assert _kinds(alice) == ["balance_low", "balance_low"]
    with committed():
        billing.hold_void(tenant=tenant, hold_id=first.pk)
        billing.hold_place(tenant=tenant, amount_micros=2 * DOLLAR, idempotency_key="hold-2")
    assert _kinds(alice) == ["balance_low", "balance_low"]
    assert Event.objects.filter(kind="billing.reserve.low").count() == 3  # billing says each crossing
    assert len(notification_emails()) == 2


def test_it_says_nothing_when_the_balance_stays_above_the_threshold(alice, tenant, funded, committed):
    funded(20)
    _deduct(tenant, committed, 2, "use-1")
    assert not Notification.objects.exists()
    assert not Event.objects.filter(kind="billing.reserve.low").exists()


def test_it_tells_once_a_day_when_work_is_refused_for_money(alice, bob, tenant, funded, committed):
    funded(1)
    for key in ("hold-1", "hold-2"):
        with committed(), pytest.raises(InsufficientFunds):
            billing.hold_place(tenant=tenant, amount_micros=3 * DOLLAR, idempotency_key=key)
    assert Event.objects.filter(kind="billing.reserve.refused").count() == 2
    for person in (alice, bob):
        notification = Notification.objects.get(user=person)
        assert notification.kind == "balance_refused"
        assert "needed $3.00 and $1.00 was available" in notification.body
    assert len(notification_emails()) == 2

    tomorrow = time_machine.travel(timezone.now() + timedelta(days=1))
    with tomorrow, committed(), pytest.raises(InsufficientFunds):
        billing.reserve_deduct(tenant=tenant, amount_micros=3 * DOLLAR, idempotency_key="use-1")
    assert _kinds(alice) == ["balance_refused", "balance_refused"]


def test_it_makes_one_notification_however_often_the_event_is_delivered(alice, tenant, funded, committed):
    funded(6)
    _deduct(tenant, committed, 2, "use-1")
    event = Event.objects.get(kind="billing.reserve.low")
    with committed():
        assert tasks.event_notify(event.pk) == 0
        assert tasks.event_notify(event.pk) == 0
    assert Notification.objects.filter(user=alice).count() == 1
    assert len(notification_emails()) == 1
    notification = Notification.objects.get(user=alice)
    assert tasks.notification_email_send(notification.pk) == "not pending"
    assert len(notification_emails()) == 1


def _automatic_topup(tenant, cents: int = 2500) -> TopUp:
    """The pending automatic top-up billing starts under the threshold (what Stripe's events name)."""
    return TopUp.objects.create(
        tenant=tenant,
        account=billing.reserve_account_ensure(tenant=tenant),
        public_id=TopUp.new_public_id("auto"),
        source=TopUp.Source.AUTOMATIC,
        amount_cents=cents,
    )


def _intent_event(event_type: str, topup: TopUp, **intent) -> dict:
    return {
        "id": f"evt_{topup.public_id}_{event_type}",
        "object": "event",
        "type": event_type,
        "data": {
            "object": {
                "id": f"pi_{topup.public_id}",
                "object": "payment_intent",
                "amount": topup.amount_cents,
                "amount_received": topup.amount_cents,
                "currency": "usd",
                "metadata": {
                    "tenant_id": str(topup.tenant_id),
                    "topup_id": topup.public_id,
                    "purpose": "auto_topup",
                },
                **intent,
            }
        },
    }


def test_it_tells_when_an_automatic_top_up_was_made(client, alice, tenant, funded, committed, webhook_secret):
    funded(4)  # a top-up by hand is not an automatic one
    topup = _automatic_topup(tenant)
    event = _intent_event("payment_intent.succeeded", topup)
    with committed():
        assert post_webhook(client, event).json()["outcome"] == "processed"
        post_webhook(client, event)  # Stripe delivers again: credited once, told once

    notification = Notification.objects.get(user=alice)
    assert notification.kind == "auto_topup_succeeded"
    assert notification.title == "Automatic top-up: $25.00 added"
    assert "The balance is now $29.00." in notification.body
    assert notification.email_state == "none"  # in-app only by default
    assert not notification_emails()


def test_it_tells_when_an_automatic_top_up_failed(client, alice, tenant, committed, webhook_secret):
    topup = _automatic_topup(tenant)
    event = _intent_event(
        "payment_intent.payment_failed",
        topup,
        last_payment_error={"message": "Your card has insufficient funds."},
    )
    with committed():
        assert post_webhook(client, event).status_code == 200

    assert TopUp.objects.get(pk=topup.pk).status == TopUp.Status.FAILED
    notification = Notification.objects.get(user=alice)
    assert notification.kind == "auto_topup_failed"
    assert notification.title == "Automatic top-up failed and was turned off"
    assert notification.body.startswith("Card declined: Your card has insufficient funds.")
    (message,) = notification_emails()
    assert message.subject == "[AfterResume] Automatic top-up failed and was turned off"
    assert "Card declined: Your card has insufficient funds." in message.body
    assert "Card declined: Your card has insufficient funds." in message.alternatives[0][0]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_it_leaves_the_low_balance_to_an_automatic_top_up_on_its_way(
    alice, tenant, funded, committed, settings
):
    settings.STRIPE_SECRET_KEY = "sk_test_afterresume"
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens: the charge fails, not the card
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    funded(6)
    ReserveAccount.objects.filter(tenant=tenant).update(
        auto_topup_enabled=True, stripe_customer_id="cus_test", stripe_payment_method_id="pm_test"
    )
    _deduct(tenant, committed, 2, "use-1")

    assert Event.objects.get(kind="billing.reserve.low").data["auto_topup_started"] is True
    assert TopUp.objects.get(source=TopUp.Source.AUTOMATIC).status == TopUp.Status.FAILED
    assert not Notification.objects.filter(kind="balance_low").exists()
    # The charge that could not be made is told instead, once a day however often it is tried again.
    (notification,) = Notification.objects.filter(user=alice)
    assert (notification.kind, notification.title) == ("auto_topup_failed", "Automatic top-up failed")
    assert "Nothing was charged" in notification.body
    _deduct(tenant, committed, 1, "use-2")  # still under: a new attempt, failing the same way
    assert TopUp.objects.filter(source=TopUp.Source.AUTOMATIC, status=TopUp.Status.FAILED).count() == 2
    assert Event.objects.filter(kind="billing.auto_topup.failed").count() == 2
    assert _kinds(alice) == ["auto_topup_failed"]
    assert len(notification_emails()) == 1
