"""``replaced``: set on the publications whose reply a later sent version replaced (what
``public()`` asked the replies table for, row by row), and the public list's index."""

from django.db import migrations, models
from django.db.models import Exists, OuterRef


def mark_replaced(apps, schema_editor):
    Publication = apps.get_model("publication", "Publication")
    Reply = apps.get_model("replies", "Reply")
    newer = Reply.objects.filter(
        suggestion_id=OuterRef("reply__suggestion_id"), version__gt=OuterRef("reply__version"),
        status="sent",
    )
    Publication.objects.filter(Exists(newer)).update(replaced=True)


class Migration(migrations.Migration):

    dependencies = [
        ('publication', '0003_search_document'),
        ('replies', '0004_reply_status_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='publication',
            name='replaced',
            field=models.BooleanField(default=False, editable=False, verbose_name='replaced by a later reply'),
        ),
        migrations.RunPython(mark_replaced, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='publication',
            index=models.Index(condition=models.Q(('replaced', False), ('status', 'public')), fields=['-publish_on', '-id'], name='publication_public_list'),
        ),
    ]
