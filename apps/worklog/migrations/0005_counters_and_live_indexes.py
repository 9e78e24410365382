"""Counters on skills, indexes of live entries, and full-text search inside one workspace.

- `Skill.entry_count` / `Skill.last_used_on`: the skill's live entries, kept in step by the services from
  now on; filled here from the links that exist.
- The timeline index now holds live entries only (every list reads those), so counting them is an
  index-only scan; a second partial index holds the live entries still without an impact statement.
- On PostgreSQL, the GIN index of the search column includes the workspace (`btree_gin`), so a search
  inside one workspace is one index scan instead of a scan of every workspace's matches.
"""

from django.contrib.postgres.operations import BtreeGinExtension
from django.db import migrations, models

RECOUNT_SQL = """
UPDATE worklog_skill SET
    entry_count = (
        SELECT COUNT(*) FROM worklog_entry_skills l JOIN worklog_entry e ON e.id = l.entry_id
        WHERE l.skill_id = worklog_skill.id AND e.deleted_at IS NULL
    ),
    last_used_on = (
        SELECT MAX(e.occurred_on) FROM worklog_entry_skills l JOIN worklog_entry e ON e.id = l.entry_id
        WHERE l.skill_id = worklog_skill.id AND e.deleted_at IS NULL
    )
"""

SEARCH_INDEX_SQL = [
    "DROP INDEX IF EXISTS entry_search_document",
    "CREATE INDEX entry_search_live ON worklog_entry USING GIN (tenant_id, search_document) "
    "WHERE deleted_at IS NULL",
]
SEARCH_INDEX_REVERSE_SQL = [
    "DROP INDEX IF EXISTS entry_search_live",
    "CREATE INDEX entry_search_document ON worklog_entry USING GIN (search_document)",
]


def recount(apps, schema_editor):
    schema_editor.execute(RECOUNT_SQL)


def _postgres_only(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("worklog", "0004_plural_names"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="entry", name="entry_timeline"),
        migrations.AddField(
            model_name="skill",
            name="entry_count",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="skill",
            name="last_used_on",
            field=models.DateField(blank=True, editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name="entry",
            index=models.Index(
                condition=models.Q(("deleted_at__isnull", True)),
                fields=["tenant", "-occurred_on", "-id"],
                name="entry_timeline_live",
            ),
        ),
        migrations.AddIndex(
            model_name="entry",
            index=models.Index(
                condition=models.Q(("deleted_at__isnull", True), ("impact", "")),
                fields=["tenant", "-occurred_on", "-id"],
                name="entry_without_impact",
            ),
        ),
        migrations.RunPython(recount, migrations.RunPython.noop, elidable=False),
        BtreeGinExtension(),
        migrations.RunPython(
            _postgres_only(SEARCH_INDEX_SQL), _postgres_only(SEARCH_INDEX_REVERSE_SQL), elidable=False
        ),
    ]
