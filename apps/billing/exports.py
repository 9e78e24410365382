"""The ledger as CSV: one writer for `export_ledger` and the staff download, in constant memory.

Text cells are spreadsheet-safe (apps.core.csv_safety): a memo like `=HYPERLINK(...)` is written as
`'=HYPERLINK(...)`, while the signed amounts stay numbers (`-0.000001`).
"""

import codecs
import csv
from collections.abc import Iterable, Iterator
from datetime import UTC, date

from django.db import connection
from django.http import StreamingHttpResponse
from django.utils import timezone
from psycopg import sql

from apps.accounts.models import Tenant
from apps.billing.selectors import LEDGER_EXPORT_COLUMNS
from apps.core.csv_safety import csv_text, csv_text_sql
from apps.core.dates import day_range
from apps.core.money import micros_to_decimal_string


def _csv_row(row: tuple) -> list:
    (
        entry_id,
        created_at,
        tenant,
        kind,
        amount,
        after,
        currency,
        key,
        stripe_id,
        usage_id,
        hold_id,
        staff,
        memo,
    ) = row
    # Text that people or other systems wrote goes through csv_text; ids, timestamps and the signed amounts
    # are formatted here and stay plain numbers a spreadsheet can add up.
    return [
        entry_id,
        created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        csv_text(tenant),
        csv_text(kind),
        micros_to_decimal_string(amount),
        micros_to_decimal_string(after),
        csv_text(currency),
        csv_text(key),
        csv_text(stripe_id),
        usage_id if usage_id is not None else "",
        hold_id if hold_id is not None else "",
        csv_text(staff),
        csv_text(memo),
    ]


# csv.writer quotes a field for the delimiter, the quote character and the characters of its line
# terminator only, so with "\n" a carriage return inside a memo would go out unquoted (and split the row
# for most readers), where PostgreSQL's COPY quotes it. The writer is given "\r\n", which makes it quote
# any field with a CR or LF, and each row's "\r\n" is written as "\n".
_WRITER_TERMINATOR = "\r\n"


def _lf(line: str) -> str:
    return line[: -len(_WRITER_TERMINATOR)] + "\n"


class _LineEnds:
    """Writes each csv row (one write call per row) to `out`, ending it with "\n"."""

    def __init__(self, out=None):
        self.out = out

    def write(self, line: str) -> str:
        line = _lf(line)
        if self.out is not None:
            self.out.write(line)
        return line


def ledger_csv_write(rows: Iterable[tuple], out) -> int:
    """Write the header and every row to a text stream; returns the number of entries written."""
    writer = csv.writer(_LineEnds(out), lineterminator=_WRITER_TERMINATOR)
    writer.writerow(LEDGER_EXPORT_COLUMNS)
    count = 0
    for row in rows:
        writer.writerow(_csv_row(row))
        count += 1
    return count


def ledger_csv_lines(rows: Iterable[tuple]) -> Iterator[str]:
    """The same CSV as a stream of lines, for StreamingHttpResponse."""
    writer = csv.writer(_LineEnds(), lineterminator=_WRITER_TERMINATOR)
    yield writer.writerow(LEDGER_EXPORT_COLUMNS)
    for row in rows:
        yield writer.writerow(_csv_row(row))


# The same CSV, formatted by PostgreSQL: every column is written exactly as _csv_row writes it (UTC
# timestamps with microseconds, exact six-decimal amounts, empty strings as empty fields), so a million-row
# export costs what COPY costs instead of a Python loop. tests/billing/test_commands.py compares the two.
def ledger_csv_response(rows: Iterable[tuple]) -> StreamingHttpResponse:
    """The ledger as a streamed CSV download, named by when it was made and never kept by a cache."""
    response = StreamingHttpResponse(ledger_csv_lines(rows), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="afterresume-ledger-{stamp}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


def _text(column: str) -> str:
    """A text column as csv_text writes it; an empty result becomes NULL, which COPY writes unquoted (an
    empty string would be written as "") so the bytes match csv.writer's."""
    return f"NULLIF({csv_text_sql(column)}, '')"


_COPY_SELECT = f"""
SELECT l.id AS entry_id,
       to_char(l.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') AS created_at,
       {_text("t.slug")} AS tenant,
       {_text("l.kind")} AS kind,
       (l.amount_micros::numeric / 1000000)::numeric(26, 6) AS amount,
       (l.balance_after_micros::numeric / 1000000)::numeric(26, 6) AS balance_after,
       {_text("a.currency")} AS currency,
       {_text("l.idempotency_key")} AS idempotency_key,
       {_text("l.stripe_object_id")} AS stripe_object_id,
       l.usage_event_id AS usage_event_id,
       l.hold_id AS hold_id,
       {_text("u.email")} AS staff_user,
       {_text("l.memo")} AS memo
FROM billing_ledgerentry l
JOIN accounts_tenant t ON t.id = l.tenant_id
JOIN billing_reserveaccount a ON a.id = l.account_id
LEFT JOIN accounts_user u ON u.id = l.staff_user_id
WHERE {{conditions}}
ORDER BY l.id
"""  # noqa: S608 - the only interpolations are this module's constant column names


def ledger_csv_copy(
    out, *, tenant: Tenant | None = None, since: date | None = None, until: date | None = None
) -> int | None:
    """Write the ledger CSV through COPY on PostgreSQL; returns the count, or None on other databases."""
    if connection.vendor != "postgresql":
        return None
    conditions = [sql.SQL("TRUE")]
    if tenant is not None:
        conditions.append(sql.SQL("l.tenant_id = {}").format(sql.Literal(tenant.pk)))
    start, end = day_range(since, until)
    if start is not None:
        conditions.append(sql.SQL("l.created_at >= {}").format(sql.Literal(start)))
    if end is not None:
        conditions.append(sql.SQL("l.created_at < {}").format(sql.Literal(end)))
    query = sql.SQL(_COPY_SELECT).format(conditions=sql.SQL(" AND ").join(conditions))
    statement = sql.SQL("COPY ({}) TO STDOUT WITH (FORMAT csv, HEADER)").format(query)
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        decoder = codecs.getincrementaldecoder("utf-8")()  # a character may span two chunks
        with cursor.copy(statement) as copy:
            for chunk in copy:
                out.write(decoder.decode(bytes(chunk)))
        out.write(decoder.decode(b"", final=True))
        return cursor.rowcount
