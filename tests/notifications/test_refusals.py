"""Work refused for money, through the doors that really refuse it: improving an entry and writing a report
(refused before anything is queued, in the request) and a job whose model call the reserve can no longer
hold. Each refusal rolls its own transaction back; the refusal is still recorded and the workspace told."""

import json

import pytest

from apps.assist.tasks import improve_entries
from apps.billing import services as billing
from apps.core.models import Event, Job
from apps.notifications.models import Notification
from apps.worklog import services as worklog
from tests.llm.fake_openai import FakeOpenAI
from tests.notifications.conftest import notification_emails

ENTRY = {
    "title": "I migrated the deploy scripts",
    "body": "Deploys were slow: the scripts were bash. I rewrote them in Python and 40 minutes became 12.",
}


@pytest.fixture(scope="module")
def model_server():
    server = FakeOpenAI()
    yield server
    server.stop()


@pytest.fixture
def model(settings, model_server, db):
    """The gateway pointed at the OpenAI-compatible server on loopback, with the default rate card."""
    from apps.llm.providers import openai_compat

    billing.rate_card_install_default()
    model_server.reset()
    openai_compat._downgraded.clear()
    settings.LLM_PROVIDER, settings.LLM_BASE_URL = "openai", model_server.url
    settings.LLM_API_KEY, settings.LLM_MODEL = "sk-test-local", "local-model"
    settings.LLM_TIMEOUT_SECONDS, settings.LLM_MAX_RETRIES = 2, 0
    yield model_server
    openai_compat._downgraded.clear()


@pytest.fixture
def entry(tenant, alice):
    return worklog.entry_create(tenant=tenant, author=alice, **ENTRY)


def _refused(person) -> list[Notification]:
    return list(Notification.objects.filter(user=person, kind="balance_refused"))


def test_it_tells_the_workspace_when_improving_an_entry_is_refused(
    alice_client, alice, bob, entry, model, committed
):
    with committed():
        response = alice_client.post(f"/api/worklog/entries/{entry.pk}/improve/")
    assert response.status_code == 402
    assert not Job.objects.exists() and model.chat_requests == []

    (event,) = Event.objects.filter(kind="billing.reserve.refused")
    assert event.data["needed_micros"] == response.json()["extra"]["needed_micros"] > 0
    for person in (alice, bob):
        (notification,) = _refused(person)
        assert notification.title == "Work was refused: the reserve is used up"
        assert "and $0.00 was available" in notification.body
    assert sorted(message.to[0] for message in notification_emails()) == [
        "alice@example.com",
        "bob@example.com",
    ]


def test_it_tells_the_workspace_when_writing_a_report_is_refused(
    alice_client, alice, entry, model, committed
):
    with committed():
        response = alice_client.post(
            "/api/reports/", json.dumps({"kind": "self_review"}), content_type="application/json"
        )
    assert response.status_code == 402
    assert Event.objects.filter(kind="billing.reserve.refused").count() == 1
    assert len(_refused(alice)) == 1


def test_it_tells_the_workspace_when_a_running_job_cannot_hold_the_money(
    alice, bob, tenant, entry, model, committed
):
    from apps.assist import services as assist

    billing.reserve_credit(tenant=tenant, amount_micros=1_000_000, idempotency_key="test:fund")
    job, _plan = assist.improve_start(tenant=tenant, user=alice, entries=[entry])  # queued, not yet run
    billing.reserve_deduct(tenant=tenant, amount_micros=1_000_000, idempotency_key="test:spent-meanwhile")
    assert not Event.objects.filter(kind="billing.reserve.refused").exists()

    with committed():
        improve_entries(job.pk, **job.params)

    job.refresh_from_db()
    assert job.status == "failed" and "the reserve ran out" in job.error
    assert model.chat_requests == []
    assert Event.objects.filter(kind="billing.reserve.refused").count() == 1
    assert len(_refused(alice)) == 1 and len(_refused(bob)) == 1
    assert Notification.objects.filter(user=alice, kind="job_failed").count() == 1
