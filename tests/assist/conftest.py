"""Fixtures of the assist tests: entries made through worklog's services, and jobs run by django-q2's own
worker code in sync mode (the task runs when the transaction that queued it commits)."""

import pytest
from django_q.conf import Conf

from apps.assist import services
from apps.worklog import services as worklog_services


@pytest.fixture
def make_entry(tenant, alice):
    """make_entry(title=..., owner=..., workspace=..., **fields) -> Entry, through entry_create."""

    def make(title: str = "Shipped the importer", *, owner=None, workspace=None, **fields):
        return worklog_services.entry_create(
            tenant=workspace or tenant, author=owner or alice, title=title, **fields
        )

    return make


@pytest.fixture
def sync_jobs(monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture
def improve(sync_jobs, django_capture_on_commit_callbacks, tenant, alice):
    """improve(*entries, user=alice) -> (job, plan): start an improve job and run it to the end."""

    def run(*entries, user=None, workspace=None):
        with django_capture_on_commit_callbacks(execute=True):
            job, plan = services.improve_start(
                tenant=workspace or tenant, user=user or alice, entries=list(entries)
            )
        job.refresh_from_db()
        return job, plan

    return run


DEPLOY_ENTRY = {
    "title": "I migrated the deploy scripts",
    "body": (
        "Deploys were slow and flaky because the scripts were bash. I rewrote them in Python and moved them "
        "to Kubernetes. Deploy time went from 40 to 12 minutes."
    ),
}


# ------------------------------------------------------------ an external model on loopback


@pytest.fixture(scope="session")
def fake_model_server():
    """The OpenAI-compatible test server of tests/llm (a real HTTP server in a thread), for this package."""
    from tests.llm.fake_openai import FakeOpenAI

    server = FakeOpenAI()
    yield server
    server.stop()


@pytest.fixture
def fake_model(fake_model_server):
    fake_model_server.reset()
    yield fake_model_server
    fake_model_server.reset()


@pytest.fixture
def rate_card(db):
    from apps.billing import services as billing_services

    card, _ = billing_services.rate_card_install_default()
    return card


@pytest.fixture
def external_model(settings, fake_model, rate_card):
    """The gateway pointed at the loopback server (provider `openai`), with short timeouts and retries."""
    from apps.llm.providers import openai_compat

    openai_compat._downgraded.clear()
    settings.LLM_PROVIDER = "openai"
    settings.LLM_BASE_URL = fake_model.url
    settings.LLM_API_KEY = "sk-test-local"
    settings.LLM_MODEL = "local-model"
    settings.LLM_TIMEOUT_SECONDS = 0.5
    settings.LLM_MAX_RETRIES = 1
    settings.LLM_RETRY_BUDGET_SECONDS = 3
    settings.LLM_RETRY_AFTER_MAX_SECONDS = 1
    settings.LLM_RESPONSE_FORMAT = "json_schema"
    yield fake_model
    openai_compat._downgraded.clear()


@pytest.fixture
def fund(db):
    """fund(tenant, micros): a top-up in the reserve."""
    from apps.billing import services as billing_services

    def credit(workspace, micros: int):
        return billing_services.reserve_credit(
            tenant=workspace, amount_micros=micros, idempotency_key=f"test-top-up-{workspace.pk}-{micros}"
        )

    return credit


def model_draft(**overrides) -> dict:
    """A model's answer in the draft shape (DRAFT_SCHEMA), for the fake server to send."""
    draft = {
        "title": "Cut deploy time from 40 to 12 minutes by rewriting the deploy scripts",
        "body": (
            "**Situation:** Deploys were slow and flaky.\n\n**What I did:**\n- Rewrote the scripts in Python"
        ),
        "impact": "Deploy time went from 40 to 12 minutes.",
        "metric_value": 12,
        "metric_unit": "minutes",
        "metric_before": 40,
        "metric_after": 12,
        "skills": ["Python", "Kubernetes"],
    }
    draft.update(overrides)
    return draft
