"""Fixtures of the notification tests: django-q2's sync mode (a queued task runs inline through the real
worker code when the transaction that queued it commits) and a helper that runs on-commit work."""

import pytest
from django.core import mail
from django_q.conf import Conf

from apps.billing import services as billing

DOLLAR = 1_000_000


def notification_emails() -> list:
    """The notification emails sent so far (billing sends receipts of its own)."""
    return [message for message in mail.outbox if "X-AfterResume-Notification" in message.extra_headers]


@pytest.fixture(autouse=True)
def _sync_jobs(monkeypatch, settings):
    monkeypatch.setattr(Conf, "SYNC", True)
    settings.SITE_URL = "https://afterresume.example"


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed():` runs what waits for the commit (events' notifications, their emails) at the end."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


@pytest.fixture
def funded(db, tenant, committed):
    """funded(dollars): credit alice's workspace reserve through billing's service."""

    def fund(dollars: int, key: str = "test:fund"):
        with committed():
            return billing.reserve_credit(tenant=tenant, amount_micros=dollars * DOLLAR, idempotency_key=key)

    return fund
