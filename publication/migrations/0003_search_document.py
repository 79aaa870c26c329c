"""The public search's document (tokens of the published title and text), filled for every
publication, and (PostgreSQL only) its GIN index, built CONCURRENTLY: not atomic."""

from django.db import migrations

import suggestions.fields

INDEX = "publication_search_gin"


def backfill(apps, schema_editor):
    from suggestions.search import build_document

    Publication = apps.get_model("publication", "Publication")
    batch = []
    rows = Publication.objects.only("pk", "public_title", "public_text").order_by("pk")
    for publication in rows.iterator(chunk_size=1000):
        publication.search_document = build_document(
            [publication.public_title, publication.public_text])
        batch.append(publication)
        if len(batch) >= 1000:
            Publication.objects.bulk_update(batch, ["search_document"])
            batch = []
    Publication.objects.bulk_update(batch, ["search_document"])


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # other databases search the same document with LIKE
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY {INDEX} ON publication_publication USING gin (search_document)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('publication', '0002_publish_sent_replies'),
    ]

    operations = [
        migrations.AddField(
            model_name='publication',
            name='search_document',
            field=suggestions.fields.SearchDocumentField(blank=True, default='', editable=False, verbose_name='search document'),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(create_index, drop_index),
    ]
