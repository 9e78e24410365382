"""Job and sign-in notifications, end to end: a real job through apps.core.jobs (django-q2 sync mode), a real
sign-in through allauth's login page, the dispatcher and the email task."""

from apps.core.jobs import job_enqueue
from apps.core.models import Event
from apps.notifications.models import KnownDevice, Notification
from tests.conftest import PASSWORD
from tests.notifications.conftest import notification_emails

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)


def _run_job(committed, tenant, user, *, kind: str, func: str, label: str):
    with committed():
        job = job_enqueue(
            kind=kind,
            tenant=tenant,
            user=user,
            func_path=f"tests.notifications.jobs.{func}",
            label=label,
            next_url="/reports/7/",
        )
    job.refresh_from_db()
    return job


def test_it_tells_the_creator_when_a_job_finishes(alice, bob, tenant, committed):
    job = _run_job(
        committed, tenant, bob, kind="report.generate", func="finish", label="Self-review for 2025"
    )
    assert job.status == "succeeded"

    notification = Notification.objects.get()
    assert (notification.user, notification.kind) == (bob, "job_succeeded")
    assert notification.title == "Done: Self-review for 2025"
    assert notification.url == "/reports/7/"
    assert notification.email_state == "none"  # finished jobs are in-app only by default
    assert not notification_emails()


def test_it_tells_the_creator_by_email_when_a_job_fails(alice, tenant, committed):
    job = _run_job(committed, tenant, alice, kind="worklog.export", func="fail", label="Export of the log")
    assert job.status == "failed"

    notification = Notification.objects.get(user=alice)
    assert notification.kind == "job_failed"
    assert notification.title == "Failed: Export of the log"
    assert "did not answer in 60 seconds" in notification.body
    assert notification.url == f"/jobs/{job.pk}/"
    (message,) = notification_emails()
    assert message.to == ["alice@example.com"]
    assert message.subject == "[AfterResume] Failed: Export of the log"
    assert "did not answer in 60 seconds" in message.body
    assert f"See the job: https://afterresume.example/jobs/{job.pk}/" in message.body
    assert f'href="https://afterresume.example/jobs/{job.pk}/"' in message.alternatives[0][0]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_it_stays_quiet_about_jobs_people_watch_as_they_run(alice, tenant, committed):
    _run_job(committed, tenant, alice, kind="worklog.import_preview", func="finish", label="Checking a.csv")
    assert Event.objects.filter(kind="job.succeeded").exists()
    assert not Notification.objects.exists()


def _sign_in(client, user, *, agent: str, address: str):
    response = client.post(
        "/accounts/login/",
        {"login": user.email, "password": PASSWORD},
        HTTP_USER_AGENT=agent,
        REMOTE_ADDR=address,
    )
    assert response.status_code == 302, response.content
    client.logout()


def test_it_alerts_on_a_sign_in_from_a_new_device_but_not_the_first_or_a_known_one(
    client, alice, tenant, committed
):
    with committed():
        _sign_in(client, alice, agent=FIREFOX, address="203.0.113.7")  # the first sign-in ever
        _sign_in(client, alice, agent=FIREFOX, address="203.0.113.99")  # same browser, same network
    assert KnownDevice.objects.filter(user=alice).count() == 1
    assert not Notification.objects.exists()

    with committed():
        _sign_in(client, alice, agent=SAFARI_IPHONE, address="198.51.100.20")
    notification = Notification.objects.get(user=alice)
    assert notification.kind == "new_sign_in"
    assert notification.title == "New sign-in from Safari on iOS"
    assert "198.51.100.0/24" in notification.body
    (message,) = notification_emails()
    assert message.subject == "[AfterResume] New sign-in from Safari on iOS"
    assert "change your password" in message.body
    assert "always sent" in message.body and "always sent" in message.alternatives[0][0]
    # Security alerts cannot be unsubscribed from, so the email offers no unsubscribe.
    assert "List-Unsubscribe" not in message.extra_headers
    assert "/notifications/unsubscribe/" not in message.body

    with committed():
        _sign_in(client, alice, agent=FIREFOX, address="192.0.2.1")  # a known browser on a new network
    assert Notification.objects.filter(user=alice, kind="new_sign_in").count() == 2


def test_it_alerts_on_new_devices_even_when_the_person_turned_everything_off(
    client, alice, tenant, committed
):
    from apps.notifications import services

    services.preferences_update(
        user=alice,
        choices={"new_sign_in": (False, False), "job_failed": (False, False)},
        reminder_weekday=0,
        reminder_hour=9,
    )
    with committed():
        _sign_in(client, alice, agent=FIREFOX, address="203.0.113.7")
        _sign_in(client, alice, agent=SAFARI_IPHONE, address="203.0.113.7")
    notification = Notification.objects.get(user=alice)
    assert (notification.kind, notification.in_app, notification.email_state) == ("new_sign_in", True, "sent")
