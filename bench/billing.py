"""Billing benchmarks on PostgreSQL (a script, not a test). Prints figures; cleans up after itself.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/afterresume_bench .venv/bin/python bench/billing.py

1. Deductions per second with 1, 8 and 32 concurrent workers on one account, through
   `services.reserve_deduct`, against the same row-lock-update-insert written as raw SQL in the same run.
2. `export_ledger` on 1,000,000 entries: wall time and peak memory of the command (a child process),
   against `COPY (same query) TO STDOUT` in the same run.

The database named in DATABASE_URL is created, migrated, checked with `billing_reconcile`, then dropped.
"""

import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
from _common import create_database, drop_database  # bench/ is on sys.path as the script's folder

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "afterresume.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/afterresume_bench")
os.environ["DATABASE_CONN_MAX_AGE"] = "0"

DEDUCTIONS_PER_WORKER = {1: 2000, 8: 400, 32: 120}
EXPORT_ACCOUNTS = 1000
EXPORT_ENTRIES_PER_ACCOUNT = 1000


def run_workers(count: int, per_worker: int, work) -> float:
    from django.db import connections

    barrier = threading.Barrier(count + 1)
    errors = []

    def worker(index):
        try:
            barrier.wait()
            for step in range(per_worker):
                work(index, step)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return count * per_worker / elapsed


def bench_deductions(url: str) -> None:
    from apps.accounts.models import Tenant
    from apps.billing import services
    from apps.billing.models import ReserveAccount

    print("\n== deductions per second, one account, block policy")
    print(f"{'workers':>8} {'service/s':>11} {'raw SQL/s':>11} {'ratio':>7}")
    for workers, per_worker in DEDUCTIONS_PER_WORKER.items():
        tenant = Tenant.objects.create(name=f"Bench {workers}", slug=f"bench-deduct-{workers}")
        services.reserve_credit(tenant=tenant, amount_micros=10**12, idempotency_key="bench:top")

        def deduct(index, step, tenant=tenant, workers=workers):
            services.reserve_deduct(
                tenant=tenant, amount_micros=1, idempotency_key=f"svc:{workers}:{index}:{step}"
            )

        service_rate = run_workers(workers, per_worker, deduct)

        account_id = ReserveAccount.objects.get(tenant=tenant).pk
        local = threading.local()

        def raw(index, step, account_id=account_id, tenant_id=tenant.pk, workers=workers, local=local):
            if not hasattr(local, "conn"):
                local.conn = psycopg.connect(url)
            conn = local.conn
            with conn.transaction():
                balance = conn.execute(
                    "SELECT balance_micros FROM billing_reserveaccount WHERE id = %s FOR UPDATE",
                    (account_id,),
                ).fetchone()[0]
                after = balance - 1
                conn.execute(
                    "UPDATE billing_reserveaccount SET balance_micros = %s, updated_at = now() WHERE id = %s",
                    (after, account_id),
                )
                conn.execute(
                    "INSERT INTO billing_ledgerentry (tenant_id, account_id, kind, amount_micros, "
                    "balance_after_micros, idempotency_key, stripe_object_id, memo, created_at) "
                    "VALUES (%s, %s, 'usage', -1, %s, %s, '', '', now())",
                    (tenant_id, account_id, after, f"raw:{workers}:{index}:{step}"),
                )

        raw_rate = run_workers(workers, per_worker, raw)
        print(f"{workers:>8} {service_rate:>11,.0f} {raw_rate:>11,.0f} {service_rate / raw_rate:>7.2f}")


EXPORT_COPY_QUERY = """
COPY (
    SELECT l.id, l.created_at, t.slug, l.kind,
           (l.amount_micros::numeric / 1000000)::numeric(26, 6),
           (l.balance_after_micros::numeric / 1000000)::numeric(26, 6),
           a.currency, l.idempotency_key, l.stripe_object_id, l.usage_event_id, l.hold_id, u.email, l.memo
    FROM billing_ledgerentry l
    JOIN accounts_tenant t ON t.id = l.tenant_id
    JOIN billing_reserveaccount a ON a.id = l.account_id
    LEFT JOIN accounts_user u ON u.id = l.staff_user_id
    ORDER BY l.id
) TO STDOUT WITH (FORMAT csv, HEADER)
"""


def seed_ledger(url: str) -> int:
    per = EXPORT_ENTRIES_PER_ACCOUNT
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO accounts_tenant (name, slug, created_at, updated_at) "
            "SELECT 'Export ' || g, 'export-' || g, now(), now() FROM generate_series(1, %s) g",
            (EXPORT_ACCOUNTS,),
        )
        conn.execute(
            "INSERT INTO billing_reserveaccount (tenant_id, currency, balance_micros, held_micros, policy, "
            "credit_limit_micros, low_balance_threshold_micros, plan, auto_topup_enabled, "
            "auto_topup_amount_cents, auto_topup_threshold_micros, auto_topup_failure_reason, "
            "stripe_customer_id, stripe_payment_method_id, stripe_subscription_id, subscription_status, "
            "created_at, updated_at) "
            "SELECT id, 'usd', %s, 0, 'block', 0, 5000000, 'standard', false, 2000, 5000000, "
            "'', '', '', '', '', now(), now() FROM accounts_tenant WHERE slug LIKE 'export-%%'",
            (per * 1_234_567,),
        )
        conn.execute(
            "INSERT INTO billing_ledgerentry (tenant_id, account_id, kind, amount_micros, "
            "balance_after_micros, idempotency_key, stripe_object_id, memo, created_at) "
            "SELECT a.tenant_id, a.id, 'topup', 1234567, g * 1234567::bigint, "
            "'stripe:cs_bench_' || a.id || '_' || g, 'cs_bench_' || g, 'Top-up', "
            "now() - ((%s - g) || ' seconds')::interval "
            "FROM billing_reserveaccount a JOIN accounts_tenant t ON t.id = a.tenant_id "
            "CROSS JOIN generate_series(1, %s) g WHERE t.slug LIKE 'export-%%' ORDER BY a.id, g",
            (per, per),
        )
        conn.execute("ANALYZE")
        return conn.execute("SELECT count(*) FROM billing_ledgerentry").fetchone()[0]


def bench_export(url: str) -> None:
    started = time.perf_counter()
    total = seed_ledger(url)
    print(f"\n== export_ledger on {total:,} entries (seeded in {time.perf_counter() - started:.1f} s)")
    with tempfile.TemporaryDirectory() as tmp:
        copy_path = Path(tmp) / "copy.csv"
        started = time.perf_counter()
        with (
            psycopg.connect(url) as conn,
            conn.cursor() as cursor,
            open(copy_path, "wb") as out,
            cursor.copy(EXPORT_COPY_QUERY) as copy,
        ):
            for chunk in copy:
                out.write(chunk)
        copy_seconds = time.perf_counter() - started

        export_path = Path(tmp) / "export.csv"
        started = time.perf_counter()
        subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
            [sys.executable, str(ROOT / "manage.py"), "export_ledger", "--output", str(export_path)],
            check=True,
            env=os.environ.copy(),
            stderr=subprocess.DEVNULL,
        )
        export_seconds = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        export_lines, copy_lines = _count_lines(export_path), _count_lines(copy_path)
    print(f"   COPY ... TO STDOUT : {copy_seconds:6.2f} s  ({copy_lines - 1:,} rows)")
    print(
        f"   export_ledger      : {export_seconds:6.2f} s  ({export_lines - 1:,} rows), "
        f"peak RSS {peak_mb:.0f} MB"
    )
    print(
        f"   ratio              : {export_seconds / copy_seconds:6.2f}x COPY (target <= 3x; memory < 150 MB)"
    )


def _count_lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for _ in handle)


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
    try:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        only = os.environ.get("BENCH_ONLY", "")
        if only in ("", "deductions"):
            bench_deductions(url)
        if only in ("", "export"):
            bench_export(url)
        reconcile()
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(url)


if __name__ == "__main__":
    main()
