import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from apps.billing import services
from apps.billing.exports import ledger_csv_copy, ledger_csv_write
from apps.billing.models import LedgerEntry, ReserveAccount
from apps.billing.selectors import ledger_export_rows


def _reconcile() -> str:
    out = io.StringIO()
    call_command("billing_reconcile", stdout=out)
    return out.getvalue()


def test_it_reports_balanced_accounts(tenant, other_tenant):
    services.reserve_credit(tenant=tenant, amount_micros=5_000_000, idempotency_key="a")
    services.reserve_deduct(tenant=tenant, amount_micros=1_000_000, idempotency_key="b")
    services.reserve_credit(tenant=other_tenant, amount_micros=1, idempotency_key="a")
    assert "Checked 2 reserve accounts: all balanced." in _reconcile()


def test_it_exits_non_zero_when_a_balance_drifts_from_its_entries(tenant):
    services.reserve_credit(tenant=tenant, amount_micros=5_000_000, idempotency_key="a")
    ReserveAccount.objects.filter(tenant=tenant).update(balance_micros=6_000_000)
    with pytest.raises(CommandError, match="1 difference found"):
        _reconcile()
    ReserveAccount.objects.filter(tenant=tenant).update(balance_micros=5_000_000)


def test_it_finds_a_break_in_balance_after_continuity(tenant, ledger_may_break):
    services.reserve_credit(tenant=tenant, amount_micros=5_000_000, idempotency_key="a")
    account = ReserveAccount.objects.get(tenant=tenant)
    # A row written behind the services' back: the sum still matches, the running balance does not.
    LedgerEntry.objects.create(
        tenant=tenant,
        account=account,
        kind="adjustment",
        amount_micros=0,
        balance_after_micros=7,
        idempotency_key="x",
    )
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("billing_reconcile", stdout=out)
    assert "5000000 + 0 != balance after 7" in out.getvalue()


def _export(*args) -> list[list[str]]:
    out = io.StringIO()
    call_command("export_ledger", *args, stdout=out, stderr=io.StringIO())
    return list(csv.reader(io.StringIO(out.getvalue())))


def test_it_exports_the_ledger_with_exact_decimal_amounts(tenant, other_tenant):
    services.reserve_credit(tenant=tenant, amount_micros=1_000_001, idempotency_key="a")
    services.reserve_deduct(tenant=tenant, amount_micros=1, idempotency_key="b", memo="tiny, with a comma")
    services.reserve_credit(tenant=other_tenant, amount_micros=2_000_000, idempotency_key="c")
    rows = _export()
    assert rows[0][0] == "entry_id" and len(rows) == 4
    assert [row[4] for row in rows[1:]] == ["1.000001", "-0.000001", "2.000000"]
    assert rows[2][-1] == "tiny, with a comma"
    only_alice = _export("--tenant", "alice", "--output", "-")
    assert {row[2] for row in only_alice[1:]} == {"alice"}


def test_it_filters_the_export_by_day_and_writes_a_file(tenant, tmp_path):
    services.reserve_credit(tenant=tenant, amount_micros=1, idempotency_key="a")
    today = timezone.localdate()
    assert len(_export("--since", str(today + timedelta(days=1)))) == 1
    assert len(_export("--since", str(today), "--until", str(today))) == 2
    target = tmp_path / "ledger.csv"
    call_command("export_ledger", "--output", str(target), stderr=io.StringIO())
    lines = target.read_text().splitlines()
    assert lines[0].startswith("entry_id,created_at") and len(lines) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tenant", "nope"], "No workspace"),
        (["--since", "01/02/2025"], "not a date"),
        (["--since", "2025-02-02", "--until", "2025-01-01"], "after --until"),
    ],
)
def test_it_explains_bad_export_arguments(db, args, message):
    with pytest.raises(CommandError, match=message):
        _export(*args)


FORMULA_MEMOS = ["=1+1", "-5", "@x", "\tx", "+x", "\rx", '=HYPERLINK("http://evil")', "a=b", "line\rbreak"]


def _formula_ledger(tenant, staff):
    from apps.accounts.models import Tenant

    services.reserve_credit(tenant=tenant, amount_micros=10_000_000, idempotency_key="=cmd|' /C calc'!A0")
    for index, memo in enumerate(FORMULA_MEMOS):
        services.reserve_deduct(
            tenant=tenant, amount_micros=index + 1, idempotency_key=f"m{index}", memo=memo
        )
    staff.email = "=staff@example.com"
    staff.save(update_fields=["email"])
    services.reserve_adjust(
        tenant=tenant, amount_micros=-7, reason="+ goodwill", actor=staff, idempotency_key="d"
    )
    minus = Tenant.objects.create(name="Minus", slug="-minus")
    services.reserve_credit(tenant=minus, amount_micros=1, idempotency_key="@top")


def test_it_neutralises_formulas_in_text_cells_and_keeps_amounts_numeric(tenant, staff):
    _formula_ledger(tenant, staff)
    rows = {row[0]: row for row in _export()[1:]}
    by_memo = [rows[str(entry.pk)] for entry in LedgerEntry.objects.filter(kind="usage").order_by("id")]
    assert [row[-1] for row in by_memo] == [
        "'=1+1",
        "'-5",
        "'@x",
        "'\tx",
        "'+x",
        "'\rx",
        '\'=HYPERLINK("http://evil")',
        "a=b",
        "line\rbreak",
    ]
    assert [row[4] for row in by_memo] == [f"-0.00000{index}" for index in range(1, 10)]
    credit, adjustment, minus = (
        rows[str(entry.pk)] for entry in LedgerEntry.objects.exclude(kind="usage").order_by("id")
    )
    assert credit[7] == "'=cmd|' /C calc'!A0"
    assert (adjustment[4], adjustment[5], adjustment[11], adjustment[12]) == (
        "-0.000007",
        "9.999948",
        "'=staff@example.com",
        "'+ goodwill",
    )
    assert (minus[2], minus[7]) == ("'-minus", "'@top")


def test_it_neutralises_formulas_in_the_staff_download(staff_client, tenant, staff):
    _formula_ledger(tenant, staff)
    response = staff_client.get("/billing/staff/ledger.csv")
    assert response["Cache-Control"] == "private, no-store"  # money on a shared machine stays off disk
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row[-1] for row in rows[2:11]] == [_export()[index][-1] for index in range(2, 11)]
    assert rows[2][-1] == "'=1+1" and rows[2][4] == "-0.000001"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's; SQLite has one writer")
def test_it_writes_the_same_csv_through_copy_as_through_python(tenant, other_tenant, staff):
    # A whole-second timestamp, which isoformat would print without microseconds unless told not to.
    with time_machine.travel(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), tick=False):
        services.reserve_credit(tenant=tenant, amount_micros=1_000_001, idempotency_key="a")
    services.reserve_deduct(
        tenant=tenant, amount_micros=5, idempotency_key="b", memo='quote " comma, and\nnewline'
    )
    services.reserve_credit(tenant=other_tenant, amount_micros=3, idempotency_key="c", memo="")
    services.reserve_adjust(
        tenant=tenant, amount_micros=2_000_000, reason="goodwill — ünïcode", actor=staff, idempotency_key="d"
    )
    _formula_ledger(other_tenant, staff)
    today = timezone.localdate()
    for bounds in ({}, {"tenant": tenant}, {"since": today, "until": today}):
        through_copy, through_python = io.StringIO(), io.StringIO()
        copied = ledger_csv_copy(through_copy, **bounds)
        written = ledger_csv_write(ledger_export_rows(**bounds), through_python)
        assert copied == written
        assert through_copy.getvalue() == through_python.getvalue()
