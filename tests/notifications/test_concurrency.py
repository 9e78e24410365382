"""Real threads against PostgreSQL: deductions racing across the low-balance threshold tell each person
once; the same event delivered by several workers at once makes one notification and one email per person
(the account's row lock, the unique key and the claimed email, not checks)."""

import pytest

from apps.accounts.models import Membership, Tenant
from apps.billing import services as billing
from apps.core.models import Event
from apps.notifications import tasks
from apps.notifications.models import Notification
from tests.concurrency import needs_postgres, run_in_threads
from tests.conftest import make_user
from tests.notifications.conftest import notification_emails

pytestmark = needs_postgres

WORKERS = 8
DOLLAR = 1_000_000


def _workspace(slug: str, people: int):
    tenant = Tenant.objects.create(name=slug.title(), slug=slug)
    members = [make_user(f"{slug}{index}@example.com") for index in range(people)]
    for person in members:
        Membership.objects.create(user=person, tenant=tenant)
    return tenant, members


@pytest.mark.django_db(transaction=True)
def test_it_tells_once_when_racing_deductions_cross_the_threshold():
    tenant, people = _workspace("spenders", 2)
    billing.reserve_credit(tenant=tenant, amount_micros=8 * DOLLAR, idempotency_key="fund")  # threshold $5

    run_in_threads(
        WORKERS,
        lambda index: billing.reserve_deduct(
            tenant=tenant, amount_micros=DOLLAR, idempotency_key=f"use-{index}"
        ),
    )

    assert Event.objects.filter(kind="billing.reserve.low").count() == 1  # one deduction took it from 5 to 4
    assert sorted(Notification.objects.values_list("user__email", "kind")) == sorted(
        (person.email, "balance_low") for person in people
    )
    assert len(notification_emails()) == len(people)


@pytest.mark.django_db(transaction=True)
def test_it_tells_once_when_racing_holds_cross_the_threshold_again_and_again():
    tenant, people = _workspace("holders", 2)
    billing.reserve_credit(tenant=tenant, amount_micros=6 * DOLLAR, idempotency_key="fund")  # threshold $5
    billing.hold_place(tenant=tenant, amount_micros=DOLLAR, idempotency_key="standing")  # $5 left: not under

    def hold_and_release(index):
        for attempt in range(5):
            hold = billing.hold_place(
                tenant=tenant, amount_micros=DOLLAR, idempotency_key=f"h{index}-{attempt}"
            )
            billing.hold_void(tenant=tenant, hold_id=hold.pk)

    run_in_threads(4, hold_and_release)  # at most $4 held at once: never refused

    # Every hold taken from $5 dips under (at least the first one does); no credit came between them, so
    # they are all the same crossing: one notification and one email each.
    assert Event.objects.filter(kind="billing.reserve.low").count() >= 1
    assert Notification.objects.count() == len(people)
    assert len(notification_emails()) == len(people)


@pytest.mark.django_db(transaction=True)
def test_it_notifies_once_when_workers_race_on_one_event():
    tenant, people = _workspace("race", 3)
    # Recorded directly, as a second delivery of the task would find it: nothing was queued for it yet.
    event = Event.objects.create(
        kind="billing.reserve.low",
        tenant=tenant,
        data={"available_micros": 4_000_000, "threshold_micros": 5_000_000, "rearmed_by_entry_id": 1},
    )

    made = run_in_threads(WORKERS, lambda index: tasks.event_notify(event.pk))

    assert sum(made) == len(people)
    assert Notification.objects.count() == len(people)
    assert Notification.objects.filter(email_state="sent").count() == len(people)
    assert sorted(message.to[0] for message in notification_emails()) == sorted(p.email for p in people)


@pytest.mark.django_db(transaction=True)
def test_it_sends_a_pending_email_once_when_workers_race():
    tenant = Tenant.objects.create(name="Race", slug="race")
    person = make_user("racer@example.com")
    Membership.objects.create(user=person, tenant=tenant)
    notification = Notification.objects.create(
        tenant=tenant, user=person, kind="job_failed", key="race", title="Failed: race", email_state="pending"
    )

    outcomes = run_in_threads(WORKERS, lambda index: tasks.notification_email_send(notification.pk))

    assert sorted(outcomes) == ["not pending"] * (WORKERS - 1) + ["sent"]
    assert len(notification_emails()) == 1
