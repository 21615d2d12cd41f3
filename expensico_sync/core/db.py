"""Database helpers shared by the apps' migrations."""

from django.db import migrations


def upper_pattern_indexes(table: str, *columns: str) -> migrations.RunPython:
    """Indexes on UPPER(column) with text_pattern_ops, so the admin's `^field` (istartswith) and
    `=field` (iexact) searches, which Django writes as UPPER(col::text) LIKE/=, use an index
    whatever the database's collation. PostgreSQL only: SQLite's tables are small by design."""

    def name(column):
        return f"{table}_{column}_upper_idx"[:63]

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for column in columns:
                schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name(column)}" ON "{table}" '
                                      f'(UPPER("{column}"::text) text_pattern_ops)')

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for column in columns:
                schema_editor.execute(f'DROP INDEX IF EXISTS "{name(column)}"')

    return migrations.RunPython(forwards, backwards, elidable=False)
