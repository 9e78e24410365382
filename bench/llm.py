"""The model gateway's own cost per call, on PostgreSQL (a script, not a test). Prints figures; cleans up.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/afterresume_bench_llm .venv/bin/python bench/llm.py

Against the OpenAI-compatible server the tests use (tests/llm/fake_openai.py, a thread on loopback), in one
run and alternating call by call:

- gateway:  `llm_run` = estimate + hold + request + JSON check + usage record (capturing the hold) + the
            request log row;
- baseline: the same request through the same SDK client to the same server, and nothing else;
- billing alone: the billing calls the gateway makes (usage_quote_reused + usage_estimate + hold_place
  + usage_record with the request log row) with no request: the floor metering cannot go under without
  changing billing.

The gateway minus the baseline is what metering adds to a call. Goal: under 5 ms at the median. DEBUG is
off. The database named in DATABASE_URL is created, migrated, checked with `billing_reconcile`, then
dropped. BENCH_CALLS changes the number of calls (500).
"""

import os
import statistics
import sys
import time
from pathlib import Path

from _common import create_database, drop_database  # bench/ is on sys.path as the script's folder

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "afterresume.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/afterresume_bench_llm")
os.environ["DEBUG"] = "false"
os.environ.setdefault("SECRET_KEY", "bench-llm-not-secret")
os.environ.setdefault("ALLOWED_HOSTS", "localhost")
os.environ["DATABASE_CONN_MAX_AGE"] = "60"  # one connection for the run, as a worker keeps it

CALLS = int(os.environ.get("BENCH_CALLS", "500"))
WARMUP = 20


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


LOAD_BEFORE = _load()


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def bench(server) -> None:
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.accounts.models import Tenant
    from apps.billing import services
    from apps.billing.models import Hold
    from apps.llm.gateway import llm_estimate, llm_run
    from apps.llm.models import LLMRequest
    from apps.llm.providers import ChatRequest
    from apps.llm.providers.openai_compat import OpenAICompatibleProvider
    from apps.llm.tokens import prompt_tokens_estimate
    from tests.llm.conftest import GOOD, MODEL, make_task

    settings.LLM_PROVIDER = "openai"
    settings.LLM_BASE_URL = server.url
    settings.LLM_API_KEY = "sk-bench"
    settings.LLM_MODEL = MODEL
    settings.LLM_TIMEOUT_SECONDS = 10
    server.answer(GOOD, usage=(420, 60), times=None)

    services.rate_card_install_default()
    tenant = Tenant.objects.create(name="Bench", slug="bench-llm")
    services.reserve_credit(tenant=tenant, amount_micros=10**12, idempotency_key="bench:top")
    task = make_task(prompt="Notes: " + "cut the CI build from 20 minutes to 8 by caching layers; " * 12)
    provider = OpenAICompatibleProvider.from_settings()
    request = ChatRequest(
        messages=task.messages(),
        schema=task.schema,
        schema_name="answer",
        max_output_tokens=task.max_output_tokens,
    )

    quantities = {"llm_prompt_tokens": 420, "llm_completion_tokens": 60, "llm_call": 1}
    bound = {"llm_prompt_tokens": 2000, "llm_completion_tokens": 400, "llm_call": 2}

    def gateway(i: int) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        llm_run(tenant=tenant, task=task, idempotency_key=f"bench:{i}")
        return time.perf_counter() - wall, time.process_time() - cpu

    def baseline(i: int) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        provider.chat(request)
        return time.perf_counter() - wall, time.process_time() - cpu

    def billing_only(i: int) -> tuple[float, float]:
        """The billing services the gateway calls, as it calls them, and nothing else: its floor."""
        wall, cpu = time.perf_counter(), time.process_time()
        quote = services.usage_quote_reused(tenant=tenant)
        held = services.usage_estimate(tenant=tenant, quantities=bound, model=MODEL, quote=quote)
        hold = services.hold_place(
            tenant=tenant, amount_micros=held, idempotency_key=f"floor:{i}:hold", quote=quote
        )
        row = LLMRequest(tenant=tenant, feature="bench", provider="openai", model=MODEL)
        services.usage_record(
            tenant=tenant,
            quantities=quantities,
            idempotency_key=f"floor:{i}",
            model=MODEL,
            hold_id=hold.pk,
            quote=quote,
            companions=services.UsageCompanions(rows=(row,)),
        )
        return time.perf_counter() - wall, time.process_time() - cpu

    for i in range(WARMUP):
        gateway(-1 - i)
        baseline(i)
        billing_only(-1 - i)
    with CaptureQueriesContext(connection) as queries:
        gateway(-1000)
    with CaptureQueriesContext(connection) as floor_queries:
        billing_only(-1000)
    per_service = []
    quote = services.usage_quote_reused(tenant=tenant)
    for name, run in (
        ("usage_quote_reused", lambda _hold: services.usage_quote_reused(tenant=tenant)),
        (
            "usage_estimate",
            lambda _hold: services.usage_estimate(tenant=tenant, quantities=bound, model=MODEL, quote=quote),
        ),
        (
            "hold_place",
            lambda _hold: services.hold_place(
                tenant=tenant, amount_micros=10_000, idempotency_key="count:hold", quote=quote
            ),
        ),
        (
            "usage_record",
            lambda hold_id: services.usage_record(
                tenant=tenant,
                quantities=quantities,
                idempotency_key="count",
                model=MODEL,
                hold_id=hold_id,
                quote=quote,
                companions=services.UsageCompanions(
                    rows=(LLMRequest(tenant=tenant, feature="bench", provider="openai"),)
                ),
            ),
        ),
    ):
        hold_id = Hold.objects.filter(idempotency_key="count:hold").values_list("pk", flat=True).first()
        with CaptureQueriesContext(connection) as counted:  # the hold is looked up outside the count
            run(hold_id)
        per_service.append(f"{name} {len(counted.captured_queries)}")

    series = {"baseline": [], "gateway": [], "billing": []}
    cpu = {"baseline": [], "gateway": [], "billing": []}
    differences = []
    runs = [("baseline", baseline), ("gateway", gateway), ("billing", billing_only)]
    for i in range(CALLS):
        order = runs[i % 3 :] + runs[: i % 3]  # rotate who goes first
        took = {}
        for name, run in order:
            wall_s, cpu_s = run(i)
            took[name] = wall_s
            series[name].append(wall_s * 1000)
            cpu[name].append(cpu_s * 1000)
        differences.append((took["gateway"] - took["baseline"]) * 1000)

    held = llm_estimate(tenant=tenant, tasks=[task])
    gm, bm = statistics.median(series["gateway"]), statistics.median(series["baseline"])
    print(f"\n== model gateway cost per call, {CALLS} calls each, interleaved, PostgreSQL, DEBUG off")
    print(f"   load average before / after: {LOAD_BEFORE} / {_load()} (the machine may be shared)")
    print(
        f"   request: {sum(len(m['content']) for m in task.messages()):,} prompt characters "
        f"(~{prompt_tokens_estimate(task.messages(), MODEL):,} tokens), max {task.max_output_tokens} "
        "output tokens; the server reports usage 420/60"
    )
    print(f"   held per call: {held:,} micros; charged per call: {420 * 3 + 60 * 15 + 100:,} micros")
    print(
        f"   SQL statements per call: gateway {len(queries.captured_queries)}, "
        f"billing services alone {len(floor_queries.captured_queries)} ({', '.join(per_service)}; "
        "each statement commits on its own)"
    )
    print(f"{'':>28} {'median ms':>10} {'p95 ms':>9} {'CPU median ms':>14}")
    labels = {
        "baseline": "baseline (HTTP call only)",
        "gateway": "gateway (llm_run)",
        "billing": "billing services alone",
    }
    for name in ("baseline", "gateway", "billing"):
        values = series[name]
        print(
            f"{labels[name]:>28} {statistics.median(values):>10.2f} {p95(values):>9.2f} "
            f"{statistics.median(cpu[name]):>14.2f}"
        )
    print(f"{'added by the gateway':>28} {statistics.median(differences):>10.2f} {p95(differences):>9.2f}")
    print(f"   ratio gateway/baseline at the median: {gm / bm:.2f}x (goal: added < 5 ms at the median)")


def reconcile() -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("billing_reconcile", stdout=out)
    print("\n== billing_reconcile:", out.getvalue().strip())


def main() -> None:
    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        sys.exit("The benchmark needs PostgreSQL: set DATABASE_URL=postgres://...")
    create_database(url)
    server = None
    try:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        from tests.llm.fake_openai import FakeOpenAI

        server = FakeOpenAI()
        bench(server)
        reconcile()
    finally:
        from django.db import connections

        if server is not None:
            server.stop()
        connections.close_all()
        drop_database(url)


if __name__ == "__main__":
    main()
