"""The ledger as CSV: one writer for `export_ledger` and the staff download, in constant memory."""

import csv
from collections.abc import Iterable, Iterator

from apps.billing.selectors import LEDGER_EXPORT_COLUMNS
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
    return [
        entry_id,
        created_at.isoformat(),
        tenant,
        kind,
        micros_to_decimal_string(amount),
        micros_to_decimal_string(after),
        currency,
        key,
        stripe_id,
        usage_id if usage_id is not None else "",
        hold_id if hold_id is not None else "",
        staff or "",
        memo,
    ]


def ledger_csv_write(rows: Iterable[tuple], out) -> int:
    """Write the header and every row to a text stream; returns the number of entries written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LEDGER_EXPORT_COLUMNS)
    count = 0
    for row in rows:
        writer.writerow(_csv_row(row))
        count += 1
    return count


class _Line:
    def write(self, value: str) -> str:
        return value


def ledger_csv_lines(rows: Iterable[tuple]) -> Iterator[str]:
    """The same CSV as a stream of lines, for StreamingHttpResponse."""
    writer = csv.writer(_Line(), lineterminator="\n")
    yield writer.writerow(LEDGER_EXPORT_COLUMNS)
    for row in rows:
        yield writer.writerow(_csv_row(row))
