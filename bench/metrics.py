"""Metrics benchmark: the staff dashboard over a year of daily snapshots, and a year of backfill.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/metrics.py
    .venv/bin/python bench/metrics.py --runs 3                  # SQLite, in a temporary file

The DATABASE_URL names the server only: the bench makes its own database (afterresume_h9_bench_metrics on
PostgreSQL, a temporary file on SQLite), migrates it and drops it at the end. Django runs with DEBUG off.

1. Backfill: `snapshot_backfill` over --days days of source data (--workspaces workspaces, each with
   entries, events, usage and ledger rows every day), the work `metrics_backfill --since` does.
2. Dashboard: --days days of snapshots in range and as many before (the previous period the tiles compare
   with), a workspace row per active workspace per day and a row per model per day. `GET /staff/metrics/`
   as a signed-in staff member through Django's test client (middleware, view, selectors, the whole
   template and its chart JSON), by day, week and month; then one chart's CSV. Time is the median of
   --runs after one warm-up; the query count of a 30-day and a --days range is printed beside it (the same
   is asserted by tests/metrics/test_pages.py). Goal: a year of daily data under 300 ms on PostgreSQL.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import _common  # bench/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "afterresume_h9_bench_metrics"
MODELS = ("gpt-4o-mini", "gpt-4o", "builtin")
GOAL_MS = 300


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=365, help="days in the range shown")
    parser.add_argument("--workspaces", type=int, default=200, help="workspaces in the business")
    parser.add_argument("--active", type=float, default=0.3, help="share of workspaces active on a day")
    parser.add_argument("--runs", type=int, default=7, help="timed requests per row (median reported)")
    parser.add_argument("--backfill-workspaces", type=int, default=20, help="workspaces with source rows")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    return parser.parse_args()


def setup_django(database_url: str, media: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["MEDIA_ROOT"] = media
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "afterresume.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment(debug=False)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def analyze() -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


# -------------------------------------------------------------------------------------------- source


def fill_source(*, workspaces: int, days: int, rng: random.Random) -> int:
    """On most days, per workspace: two entries, three events, a top-up, a usage event of three lines."""
    from apps.accounts.models import Membership, Tenant, User
    from apps.billing import services as billing
    from apps.billing.models import LedgerEntry, Meter, RateCardVersion, ReserveAccount, UsageEvent, UsageLine
    from apps.core.models import Event
    from apps.worklog.models import Entry

    billing.rate_card_install_default()
    version = RateCardVersion.objects.order_by("id").first()
    now = datetime.now(UTC)
    tenants = Tenant.objects.bulk_create(
        [Tenant(name=f"Source {n}", slug=f"source-{n}") for n in range(workspaces)]
    )
    Tenant.objects.filter(pk__in=[t.pk for t in tenants]).update(created_at=now - timedelta(days=days + 40))
    people = User.objects.bulk_create([User(email=f"person{n}@example.com") for n in range(workspaces)])
    Membership.objects.bulk_create(
        [
            Membership(user=u, tenant=t, role=Membership.Role.OWNER)
            for u, t in zip(people, tenants, strict=True)
        ]
    )
    accounts = ReserveAccount.objects.bulk_create([ReserveAccount(tenant=t) for t in tenants])
    entries, events, ledger, usage = [], [], [], []
    balances = dict.fromkeys((account.pk for account in accounts), 0)
    for back in range(days, -1, -1):
        moment = now - timedelta(days=back, hours=1)
        for tenant, person, account in zip(tenants, people, accounts, strict=True):
            if rng.random() > 0.6:
                continue
            entries += [
                (
                    Entry(tenant=tenant, author=person, occurred_on=moment.date(), title=f"Work {back}-{n}"),
                    moment,
                )
                for n in range(2)
            ]
            events += [
                (Event(tenant=tenant, actor=person, kind=kind, data=data), moment)
                for kind, data in (
                    ("user.signed_in", {}),
                    ("job.succeeded", {"job_kind": "report.generate"}),
                    ("assist.suggestion_decided", {"status": "accepted"}),
                )
            ]
            balances[account.pk] += 5_000_000
            ledger.append(
                LedgerEntry(
                    account=account,
                    tenant=tenant,
                    kind=LedgerEntry.Kind.TOPUP,
                    amount_micros=5_000_000,
                    balance_after_micros=balances[account.pk],
                    idempotency_key=f"bench:{account.pk}:{back}",
                    created_at=moment,
                )
            )
            usage.append(
                UsageEvent(
                    tenant=tenant,
                    model=rng.choice(MODELS),
                    occurred_at=moment,
                    created_at=moment,
                    idempotency_key=f"bench:{tenant.pk}:{back}",
                    cost_micros=460,
                    rate_version=version,
                )
            )
    Entry.objects.bulk_create([row for row, _moment in entries], batch_size=5_000)
    Event.objects.bulk_create([row for row, _moment in events], batch_size=5_000)
    LedgerEntry.objects.bulk_create(ledger, batch_size=5_000)
    UsageEvent.objects.bulk_create(usage, batch_size=5_000)
    UsageLine.objects.bulk_create(
        [
            UsageLine(
                event=event,
                tenant_id=event.tenant_id,
                meter=meter,
                quantity=quantity,
                unit_price_micros=0,
                cost_micros=cost,
            )
            for event in usage
            for meter, quantity, cost in (
                (Meter.LLM_PROMPT_TOKENS, 1200, 180),
                (Meter.LLM_COMPLETION_TOKENS, 300, 180),
                (Meter.LLM_CALL, 1, 100),
            )
        ],
        batch_size=5_000,
    )
    _backdate(Entry, entries)  # created_at is set on insert (auto_now_add): move each row to its day
    _backdate(Event, events)
    for account in accounts:
        ReserveAccount.objects.filter(pk=account.pk).update(balance_micros=balances[account.pk])
    analyze()
    return len(entries) + len(events) + len(ledger) + len(usage) * 4


def _backdate(model, pairs) -> None:
    from django.db import connection

    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET created_at = %s WHERE id = %s",
            [(moment, row.pk) for row, moment in pairs],
        )


# ------------------------------------------------------------------------------------------ snapshots


def fill_snapshots(*, days: int, workspaces: int, active: float, rng: random.Random) -> int:
    """Snapshots for 2 x `days` days (the range and the period before it), replacing the backfill's."""
    from apps.accounts.models import Tenant
    from apps.metrics.models import DailySnapshot, ModelDailySnapshot, WorkspaceDailySnapshot
    from apps.metrics.services import metrics_today

    DailySnapshot.objects.all().delete()
    WorkspaceDailySnapshot.objects.all().delete()
    ModelDailySnapshot.objects.all().delete()
    tenants = list(
        Tenant.objects.bulk_create([Tenant(name=f"Workspace {n}", slug=f"ws-{n}") for n in range(workspaces)])
    )
    today = metrics_today()
    now = datetime.now(UTC)
    daily, per_workspace, per_model = [], [], []
    for back in range(2 * days):
        day = today - timedelta(days=back)
        tokens_in, tokens_out = rng.randrange(50_000, 500_000), rng.randrange(10_000, 100_000)
        charged, cost = tokens_in * 3 // 2, tokens_in // 2
        daily.append(
            DailySnapshot(
                day=day,
                computed_at=now,
                signups=rng.randrange(0, 20),
                invites_issued=rng.randrange(0, 30),
                invites_redeemed=rng.randrange(0, 20),
                dau=rng.randrange(20, 80),
                wau=rng.randrange(80, 200),
                mau=rng.randrange(200, 400),
                entries_logged=rng.randrange(50, 300),
                entries_improved=rng.randrange(0, 60),
                reports_generated=rng.randrange(0, 20),
                ai_jobs_succeeded=rng.randrange(10, 80),
                ai_jobs_failed=rng.randrange(0, 5),
                ai_calls=rng.randrange(20, 200),
                tokens_in=tokens_in,
                tokens_out=tokens_out,
                ai_charged_micros=charged,
                ai_cost_micros=cost,
                topups=rng.randrange(0, 10),
                topup_revenue_micros=rng.randrange(0, 200) * 1_000_000,
                refunds=rng.randrange(0, 2),
                refund_micros=rng.randrange(0, 2) * 5_000_000,
                liability_micros=rng.randrange(1_000, 5_000) * 1_000_000,
                negative_balance_micros=rng.randrange(0, 50) * 1_000_000,
                accounts_negative=rng.randrange(0, 5),
                workspaces_total=workspaces,
                workspaces_quiet=rng.randrange(0, workspaces // 4),
            )
        )
        for tenant in rng.sample(tenants, int(workspaces * active)):
            per_workspace.append(
                WorkspaceDailySnapshot(
                    day=day,
                    tenant=tenant,
                    active_people=rng.randrange(1, 4),
                    entries_logged=rng.randrange(0, 6),
                    tokens_in=rng.randrange(0, 20_000),
                    tokens_out=rng.randrange(0, 4_000),
                    ai_charged_micros=rng.randrange(0, 30_000),
                    ai_cost_micros=rng.randrange(0, 10_000),
                )
            )
        per_model += [
            ModelDailySnapshot(day=day, model=model, tokens_in=tokens_in // 3, tokens_out=tokens_out // 3)
            for model in MODELS
        ]
    DailySnapshot.objects.bulk_create(daily, batch_size=2_000)
    WorkspaceDailySnapshot.objects.bulk_create(per_workspace, batch_size=5_000)
    ModelDailySnapshot.objects.bulk_create(per_model, batch_size=5_000)
    analyze()
    return len(per_workspace)


def staff_client():
    from django.test import Client

    from apps.accounts.models import Membership, Tenant, User

    staff = User.objects.create_user(email="staff@example.com", password=None, is_staff=True)
    tenant = Tenant.objects.create(name="Staff", slug="staff")
    Membership.objects.create(user=staff, tenant=tenant, role=Membership.Role.OWNER)
    client = Client()
    client.force_login(staff)
    return client


def timed(client, url: str, runs: int) -> tuple[float, int, int]:
    """(median ms, queries, bytes) of GET `url`, after one warm-up request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    count = len(queries.captured_queries)  # read now: later requests reset the connection's log
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        response = client.get(url)
        body = response.content
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times), count, len(body)


def main() -> int:
    args = parse_args()
    url = os.environ.get("DATABASE_URL", "")
    bench_url, cleanup = _common.prepare_database(url, BENCH_DB)
    media = tempfile.mkdtemp(prefix="afterresume-bench-media-")
    try:
        setup_django(bench_url, media)
        from django.db import connection

        from apps.metrics import services
        from apps.metrics.services import metrics_today

        rng = random.Random(9)
        print(f"database: {connection.vendor}; {args.days} days, {args.workspaces} workspaces")
        rows = fill_source(workspaces=args.backfill_workspaces, days=args.days, rng=rng)
        today = metrics_today()
        began = time.perf_counter()
        count = services.snapshot_backfill(since=today - timedelta(days=args.days - 1))
        seconds = time.perf_counter() - began
        print(
            f"backfill: {count} days over {rows:,} source rows ({args.backfill_workspaces} workspaces) "
            f"in {seconds:.2f} s ({seconds / count * 1000:.1f} ms a day)"
        )
        workspace_rows = fill_snapshots(
            days=args.days, workspaces=args.workspaces, active=args.active, rng=rng
        )
        print(f"snapshots: {2 * args.days} days, {workspace_rows:,} workspace-day rows")
        client = staff_client()
        since = today - timedelta(days=args.days - 1)
        month = today - timedelta(days=29)
        results = []
        for label, start, granularity in (
            ("30 days by day", month, "day"),
            (f"{args.days} days by day", since, "day"),
            (f"{args.days} days by week", since, "week"),
            (f"{args.days} days by month", since, "month"),
        ):
            query = f"since={start:%Y-%m-%d}&until={today:%Y-%m-%d}&granularity={granularity}"
            ms, queries, size = timed(client, f"/staff/metrics/?{query}", args.runs)
            results.append((label, ms, queries))
            print(
                f"GET /staff/metrics/ {label:<20} {ms:7.1f} ms  {queries:2d} queries  {size / 1024:6.0f} KiB"
            )
        query = f"since={since:%Y-%m-%d}&until={today:%Y-%m-%d}&granularity=day"
        ms, queries, size = timed(client, f"/staff/metrics/tokens.csv?{query}", args.runs)
        print(f"GET /staff/metrics/tokens.csv {args.days} days  {ms:7.1f} ms  {queries:2d} queries")
        year_ms = results[1][1]
        same_queries = results[0][2] == results[1][2]
        ok = year_ms < GOAL_MS and same_queries
        print(
            f"goal: {args.days} days by day under {GOAL_MS} ms: {year_ms:.1f} ms; queries 30 days = "
            f"{results[0][2]}, {args.days} days = {results[1][2]} -> {'PASS' if ok else 'FAIL'}"
        )
        return 0 if ok else 1
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            cleanup()


if __name__ == "__main__":
    sys.exit(main())
