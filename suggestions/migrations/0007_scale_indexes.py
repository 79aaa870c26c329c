# Indexes for 10^5–10^6 suggestions (see README, Scale): the list's order, the ids a unit or a
# deputy may see (visible_to), and index-only scans for the sort keys and the list's figures.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('suggestions', '0006_search_backfill_and_index'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='suggestion',
            index=models.Index(fields=['-session', 'number'], include=('id',), name='suggestion_list_order'),
        ),
        migrations.AddIndex(
            model_name='suggestion',
            index=models.Index(fields=['id'], include=('session', 'number'), name='suggestion_order_keys'),
        ),
        migrations.AddIndex(
            model_name='suggestion',
            index=models.Index(fields=['lead_unit'], include=('id',), name='suggestion_unit_ids'),
        ),
        migrations.AddIndex(
            model_name='suggestion',
            index=models.Index(fields=['lead_deputy'], include=('id',), name='suggestion_deputy_ids'),
        ),
        migrations.AddIndex(
            model_name='suggestion',
            index=models.Index(fields=['status', 'due_on'], include=('handling_result', 'rating', 'met', 'replied_on_time', 'session', 'lead_unit', 'topic', 'key_supervision', 'id'), name='suggestion_figures'),
        ),
    ]
