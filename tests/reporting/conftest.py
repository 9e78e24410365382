"""Fixtures of the report tests: a small work log with one confidential entry, the default rate card,
money in the reserve, jobs run inline by django-q2's sync mode, and a helper that writes a report."""

from datetime import date
from decimal import Decimal

import pytest
from django_q.conf import Conf

from apps.billing import services as billing
from apps.reporting.models import Report
from apps.worklog import services as worklog

SECRET_TITLE = "Negotiated the Zephyrine acquisition"
SECRET_NUMBERS = ("$4.7M", "83%", "1,234")


@pytest.fixture(autouse=True)
def _sync_jobs(monkeypatch, settings, tmp_path):
    """django-q2's sync mode: a queued task runs inline through the real worker code."""
    monkeypatch.setattr(Conf, "SYNC", True)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }


@pytest.fixture
def rates(db):
    billing.rate_card_install_default()


@pytest.fixture
def funded(rates, tenant):
    """$5 in alice's workspace reserve."""
    billing.reserve_credit(tenant=tenant, amount_micros=5_000_000, idempotency_key="test:fund")


def entry(tenant, author, title, **fields):
    return worklog.entry_create(tenant=tenant, author=author, title=title, **fields)


@pytest.fixture
def log(tenant, alice):
    """Alice's log: results with numbers at two employers, collaboration, learning, a pending result, and
    one confidential entry whose title and numbers must never leave in a shareable report."""
    entries = {
        "deploys": entry(
            tenant,
            alice,
            "Cut deploy time from 40 to 8 minutes",
            occurred_on=date(2024, 3, 5),
            employer="Acme",
            project="Checkout",
            skills=["Kubernetes", "Python"],
            impact="Developers ship twice a day now.",
            metric_value=Decimal("8"),
            metric_unit="minutes",
            metric_before=Decimal("40"),
            metric_after=Decimal("8"),
        ),
        "flaky": entry(
            tenant,
            alice,
            "Fixed the flaky payment tests",
            occurred_on=date(2024, 2, 12),
            employer="Acme",
            project="Checkout",
            skills=["Python"],
            impact="CI went green for the whole team.",
        ),
        "mentor": entry(
            tenant,
            alice,
            "Mentored two new engineers through their first release",
            occurred_on=date(2024, 4, 2),
            employer="Acme",
            project="Checkout",
            tags=["mentoring"],
        ),
        "rfc": entry(
            tenant,
            alice,
            "Wrote the RFC for the new search index",
            occurred_on=date(2024, 5, 20),
            employer="Acme",
            project="Search",
            skills=["PostgreSQL"],
            impact="The design was approved by 3 teams.",
        ),
        "course": entry(
            tenant,
            alice,
            "Finished a course on distributed systems",
            occurred_on=date(2024, 6, 1),
            employer="Acme",
            tags=["learning"],
        ),
        "pending": entry(
            tenant,
            alice,
            "Launched the loyalty programme pilot",
            occurred_on=date(2024, 6, 10),
            employer="Acme",
            project="Loyalty",
            outcome_pending=True,
            follow_up_on=date(2024, 9, 1),
        ),
        "old_job": entry(
            tenant,
            alice,
            "Built the invoicing service in Go",
            occurred_on=date(2022, 8, 3),
            employer="Globex",
            project="Billing",
            skills=["Go"],
            impact="Invoices went out 2 days sooner.",
            metric_value=Decimal("2"),
            metric_unit="days",
        ),
        "secret": entry(
            tenant,
            alice,
            SECRET_TITLE,
            occurred_on=date(2024, 4, 15),
            employer="Acme",
            project="Checkout",
            impact="Closed at $4.7M with 83% retention of 1,234 accounts.",
            confidential=True,
            skills=["Python"],
        ),
    }
    return entries


@pytest.fixture
def write_report(client, django_capture_on_commit_callbacks):
    """write_report(payload, as_client=client) -> (response, Report or None): POST /api/reports/, jobs run."""

    def write(payload: dict, *, as_client=None):
        with django_capture_on_commit_callbacks(execute=True):
            response = (as_client or client).post("/api/reports/", payload, content_type="application/json")
        report = (
            Report.objects.filter(pk=response.json().get("id")).first()
            if response.status_code == 202
            else None
        )
        return response, report

    return write


# ----------------------------------------------------------------- the local model server

DB_FIXTURES = {"db", "transactional_db", "live_server"}


@pytest.fixture(autouse=True)
def _ledger_reconciles(request):
    """Whatever a test did with money (model calls, exports), the ledger still balances afterwards."""
    uses_db = DB_FIXTURES & set(request.fixturenames) or request.node.get_closest_marker("django_db")
    if not uses_db:
        yield
        return
    request.getfixturevalue("_django_db_helper")
    yield
    from apps.billing import selectors

    _accounts, problems = selectors.reconcile_problems()
    assert not problems, problems


@pytest.fixture(scope="session")
def model_server():
    from tests.llm.fake_openai import FakeOpenAI

    server = FakeOpenAI()
    yield server
    server.stop()


@pytest.fixture
def model(settings, model_server, rates):
    """The model gateway pointed at the OpenAI-compatible server on loopback (any-model prices apply)."""
    from apps.llm.providers import openai_compat

    model_server.reset()
    openai_compat._downgraded.clear()
    settings.LLM_PROVIDER = "openai"
    settings.LLM_BASE_URL = model_server.url
    settings.LLM_API_KEY = "sk-test-local"
    settings.LLM_MODEL = "local-model"
    settings.LLM_TIMEOUT_SECONDS = 2
    settings.LLM_MAX_RETRIES = 0
    settings.LLM_RETRY_BUDGET_SECONDS = 2
    settings.LLM_RESPONSE_FORMAT = "json_schema"
    yield model_server
    model_server.reset()
    openai_compat._downgraded.clear()


def sections(*pairs) -> dict:
    """sections(("Title", [("text", [ids])...]), ...) as the model answers."""
    return {
        "sections": [
            {"title": title, "bullets": [{"text": text, "citations": ids} for text, ids in bullets]}
            for title, bullets in pairs
        ]
    }
