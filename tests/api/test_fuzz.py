"""Schemathesis against the app's own /api/openapi.json, in-process over WSGI.

Every operation is fuzzed twice, as a token client and as a signed-in browser (session cookie and CSRF
header), with every built-in check on: no 5xx, only documented statuses and content types, responses
that match their schemas, schema-invalid data refused with a 4xx, schema-valid data accepted, and
credentials that are actually required. The workspace has real objects (entries with link and file
evidence, employers, projects, skills, tags, a queued job, a written report, pending suggestions) and
Stripe configured against the loopback server; path ids are drawn from those objects as well as
generated, so operations reach their real code and not only their 404.

One rule differs from schemathesis' defaults: schema-valid data may still be refused with a 400 or 402
when a business rule says no (a date after tomorrow, a top-up outside the limits, a reserve that cannot
pay). Those refusals are documented responses with a message; a 5xx never is.
"""

import subprocess
import sys
from datetime import date

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.middleware.csrf import _get_new_csrf_string
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from apps.accounts import services as account_services
from apps.assist import services as assist_services
from apps.assist.models import Suggestion
from apps.core.jobs import job_enqueue, job_run
from apps.reporting import services as reporting_services
from apps.reporting.tasks import report_generate_task
from apps.worklog import services as worklog_services

EXAMPLES_PER_OPERATION = 25
# The Stripe webhook authenticates by signature, not by the schema: schema-valid bodies are unsigned.
SIGNED_BY_STRIPE = "/api/billing/webhook/"
PDF_BYTES = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())
schema.config.generation.update(max_examples=EXAMPLES_PER_OPERATION)
schema.config.checks.positive_data_acceptance.expected_statuses = [
    *schema.config.checks.positive_data_acceptance.expected_statuses,
    "400",
    "402",
]

# Ids of real objects, per path prefix, filled by the `workspace` fixture for each test.
KNOWN_IDS: dict[str, list[int]] = {}


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Half the time, the id in the path is one of a real object (so the operation does its work)."""
    path = context.operation.path if context.operation is not None else ""
    known = next((ids for prefix, ids in KNOWN_IDS.items() if path.startswith(prefix)), None)
    names = [name for name in path_parameters or {} if name == "id" or name.endswith("_id")]
    if not known or len(names) != 1:
        return st.just(path_parameters)
    real = st.sampled_from(known).map(lambda pk: {**path_parameters, names[0]: pk})
    return st.one_of(real, st.just(path_parameters))


# The loopback Stripe runs in a process of its own: localstripe keeps one aiohttp app per process (the
# billing tests start theirs later in the same run), and makes ids with the global `random`, which
# Hypothesis reseeds for every example (the same ids again, "409 Conflict").
STRIPE_SERVER = (
    "import sys\n"
    "from tests.billing.fake_stripe_extras import FakeStripe\n"
    "server = FakeStripe()\n"
    "print(server.url, flush=True)\n"
    "sys.stdin.read()\n"
    "server.stop()\n"
)


@pytest.fixture(scope="module")
def stripe_server():
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and test server
        [sys.executable, "-c", STRIPE_SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=django_settings.BASE_DIR,
    )
    url = process.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), url
    yield url
    process.stdin.close()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def in_test_transaction():
    """Requests go straight to the WSGI handler, which would close the database connection after each one
    (and with it the test's transaction, on PostgreSQL); Django's test client holds it open the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fast_passwords(settings):
    """Hashing the standing people's passwords would take most of each operation's setup."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def workspace(fast_passwords, db, in_test_transaction, settings, tmp_path, alice, tenant, stripe_server):
    # Configured as in production: Stripe (the loopback server) and private files in a fresh directory.
    settings.STRIPE_SECRET_KEY = "sk_test_afterresume"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_afterresume"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_afterresume"
    settings.STRIPE_API_BASE = stripe_server
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    from django.core.files.uploadedfile import SimpleUploadedFile

    entries = []
    for day in range(1, 6):
        entries.append(
            worklog_services.entry_create(
                tenant=tenant,
                author=alice,
                title=f"Shipped part {day}",
                occurred_on=date(2025, 3, day),
                impact="Cut the build time by a third",
                employer="Acme",
                project="Atlas",
                skills=["Python", "PostgreSQL"],
                tags=["launch"],
                links=["https://example.com/pull/42"],
            )
        )
    worklog_services.evidence_add_file(
        entry=entries[0], actor=alice, upload=SimpleUploadedFile("report.pdf", PDF_BYTES, "application/pdf")
    )
    export = job_enqueue(  # stays queued: the test transaction never commits
        kind="worklog_export", tenant=tenant, user=alice, func_path="apps.worklog.tasks.worklog_export"
    )
    # A written report and pending suggestions (the jobs' work run here, as the worker would), so the
    # operations on a report or a suggestion id do their work too.
    report = reporting_services.report_create(tenant=tenant, user=alice, kind="brag_document")
    report_generate_task(report.job.pk, report.pk)
    improve, _plan = assist_services.improve_start(tenant=tenant, user=alice, entries=entries[:3])
    job_run(improve.pk, assist_services.improve_run)
    KNOWN_IDS.clear()
    KNOWN_IDS["/api/worklog/entries/"] = [entry.pk for entry in entries]
    KNOWN_IDS["/api/worklog/suggestions/"] = list(
        Suggestion.objects.filter(tenant=tenant).values_list("pk", flat=True)
    )
    KNOWN_IDS["/api/reports/"] = [report.pk]
    KNOWN_IDS["/api/jobs/"] = [export.pk, improve.pk]
    assert KNOWN_IDS["/api/worklog/suggestions/"], "the builtin enhancer proposed nothing to fuzz"
    yield tenant
    KNOWN_IDS.clear()


# What the current test signs in with: the `credentials` fixture fills it, the auth provider applies it.
CREDENTIALS: dict[str, dict[str, str]] = {}


@schema.auth(refresh_interval=None, retry_on=[])
class FuzzCredentials:
    """A real credential on every case, so `ignored_auth` can check that removing it is refused."""

    def get(self, case, context):
        return CREDENTIALS or None

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), **data["headers"]}
        case.cookies = {**(case.cookies or {}), **data["cookies"]}


@pytest.fixture(params=["token", "session"])
def credentials(request, workspace, alice, tenant, client):
    if request.param == "token":
        _token, raw = account_services.access_token_create(user=alice, tenant=tenant, name="fuzz")
        CREDENTIALS.update(headers={"Authorization": f"Bearer {raw}"}, cookies={})
    else:
        client.force_login(alice)
        csrf = _get_new_csrf_string()
        CREDENTIALS.update(
            headers={"X-CSRFToken": csrf},
            cookies={"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf},
        )
    yield request.param
    CREDENTIALS.clear()


@schema.parametrize()
@settings(
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_it_answers_every_operation_within_its_schema(case, credentials):
    unsigned = case.operation.path == SIGNED_BY_STRIPE
    case.call_and_validate(excluded_checks=[positive_data_acceptance] if unsigned else None)
