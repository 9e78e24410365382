"""PostgreSQL full-text search for entries: a generated, weighted tsvector column with a GIN index.

Title weighs most (A), then impact (B), then body (C). The column is maintained by PostgreSQL itself, so
every write path (ORM, import, admin, SQL) keeps it current. Other databases skip this migration's SQL;
apps/worklog/search.py falls back to plain matching there.
"""

from django.db import migrations

CREATE_SQL = [
    """
    ALTER TABLE worklog_entry ADD COLUMN search_document tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') ||
        setweight(to_tsvector('english'::regconfig, coalesce(impact, '')), 'B') ||
        setweight(to_tsvector('english'::regconfig, coalesce(body, '')), 'C')
    ) STORED
    """,
    "CREATE INDEX entry_search_document ON worklog_entry USING GIN (search_document)",
]
DROP_SQL = [
    "DROP INDEX IF EXISTS entry_search_document",
    "ALTER TABLE worklog_entry DROP COLUMN IF EXISTS search_document",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("worklog", "0001_initial")]

    operations = [migrations.RunPython(_run(CREATE_SQL), _run(DROP_SQL), elidable=False)]
