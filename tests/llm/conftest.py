"""Model gateway fixtures: an OpenAI-compatible server on loopback, the gateway pointed at it, a task, and
a reconcile check after every database test (the ledger must balance whatever a call did)."""

import pytest
from django_q.conf import Conf

from apps.billing import selectors, services
from apps.llm.gateway import LLMTask
from apps.llm.providers import openai_compat
from tests.llm.fake_openai import FakeOpenAI

DB_FIXTURES = {"db", "transactional_db", "live_server"}
MODEL = "local-model"  # not on the rate card by name: the any-model prices apply (3, 15 and 100 micros)

SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "minLength": 1},
        "skills": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["title", "skills"],
    "additionalProperties": False,
}
GOOD = {"title": "Cut the build from 20 to 8 minutes", "skills": ["CI"]}
BUILTIN = {"title": "Build time cut", "skills": []}


@pytest.fixture(autouse=True)
def _ledger_reconciles(request):
    uses_db = DB_FIXTURES & set(request.fixturenames) or request.node.get_closest_marker("django_db")
    if not uses_db:
        yield
        return
    request.getfixturevalue("_django_db_helper")
    yield
    _accounts, problems = selectors.reconcile_problems()
    assert not problems, problems


@pytest.fixture(autouse=True)
def _fresh_format_memory():
    openai_compat._downgraded.clear()
    yield
    openai_compat._downgraded.clear()


@pytest.fixture(scope="session")
def fake_openai_server():
    server = FakeOpenAI()
    yield server
    server.stop()


@pytest.fixture
def fake_openai(fake_openai_server):
    fake_openai_server.reset()
    yield fake_openai_server
    fake_openai_server.reset()


@pytest.fixture
def rate_card(db):
    card, _ = services.rate_card_install_default()
    return card


@pytest.fixture
def llm_on(settings, fake_openai, rate_card):
    """The gateway pointed at the loopback server, with short timeouts and retries."""
    settings.LLM_PROVIDER = "openai"
    settings.LLM_BASE_URL = fake_openai.url
    settings.LLM_API_KEY = "sk-test-local"
    settings.LLM_MODEL = MODEL
    settings.LLM_TIMEOUT_SECONDS = 0.5
    settings.LLM_MAX_RETRIES = 2
    settings.LLM_RETRY_BUDGET_SECONDS = 5
    settings.LLM_RETRY_AFTER_MAX_SECONDS = 2
    settings.LLM_RESPONSE_FORMAT = "json_schema"
    return fake_openai


@pytest.fixture
def builtin_on(settings, fake_openai, rate_card):
    settings.LLM_PROVIDER = "builtin"
    settings.LLM_BASE_URL = fake_openai.url  # set, to prove it is not used
    return fake_openai


@pytest.fixture
def sync_jobs(monkeypatch, settings, tmp_path):
    monkeypatch.setattr(Conf, "SYNC", True)


def make_task(**overrides) -> LLMTask:
    fields = {
        "feature": "test.summary",
        "system": "You turn notes into achievements.",
        "prompt": "Notes: cut the CI build from 20 minutes to 8.",
        "schema": SCHEMA,
        "max_output_tokens": 200,
        "builtin": lambda: dict(BUILTIN),
    }
    fields.update(overrides)
    return LLMTask(**fields)
