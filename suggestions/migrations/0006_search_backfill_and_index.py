"""Fill every suggestion's search document, then (PostgreSQL only) build the GIN index the
list's search uses, on that column (a tsvector there: see suggestions.fields).

Not atomic: the backfill commits batch by batch, and the index is built CONCURRENTLY, so a
large table stays writable meanwhile. The backfill uses the live ``refresh_all`` (it reads only
the columns it names), so the document is the one the code makes, replies' numbers included.
"""

from django.db import migrations

INDEX = "suggestion_search_gin"


def backfill(apps, schema_editor):
    from suggestions.search import refresh_all

    refresh_all(batch_size=1000)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # other databases search the same document with LIKE, without an index
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")
    schema_editor.execute("SET maintenance_work_mem = '256MB'")
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY {INDEX} ON suggestions_suggestion USING gin (search_document)"
    )
    schema_editor.execute("RESET maintenance_work_mem")
    schema_editor.execute("ANALYZE suggestions_suggestion")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('suggestions', '0005_search_document_and_links'),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(create_index, drop_index),
    ]
