"""CSV cells that a spreadsheet will not run.

Excel, LibreOffice and Google Sheets treat a cell starting with `=`, `+`, `-` or `@` (and, in some
versions, a tab or carriage return) as a formula, so a memo like `=HYPERLINK(...)` typed by someone
becomes live in whoever opens the export. Every text column of every CSV we write goes through
`csv_text`, which puts a `'` in front of such a value; numbers we format ourselves stay numbers.
PostgreSQL's COPY path builds the same expression with `csv_text_sql` so both stay byte-identical.
"""

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value) -> str:
    """A text cell, neutralised: `'` before a leading formula character; None becomes empty."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_text_sql(column_sql: str) -> str:
    """The SQL expression of `csv_text` for PostgreSQL (the column as text, NULL as empty)."""
    return (
        f"CASE WHEN left(coalesce(({column_sql})::text, ''), 1) IN ('=', '+', '-', '@', E'\\t', E'\\r') "
        f"THEN '''' || ({column_sql})::text ELSE coalesce(({column_sql})::text, '') END"
    )
