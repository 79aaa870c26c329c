"""Replies sent before publication existed are published as they would have been."""

import re

from django.conf import settings
from django.db import migrations
from django.utils import timezone

MASK = "＊＊＊"


def _redact(text):
    for pattern in settings.REDACTION_PATTERNS:
        text = re.sub(pattern, MASK, text or "")
    return text


def publish(apps, schema_editor):
    Reply = apps.get_model("replies", "Reply")
    Publication = apps.get_model("publication", "Publication")
    sent = Reply.objects.filter(status="sent", disclosure__in=["agreed", "active"],
                                publication__isnull=True)
    rows = []
    for reply in sent.iterator(chunk_size=2000):
        day = timezone.localtime(reply.sent_at).date() if reply.sent_at else timezone.localdate()
        text = "\n".join(p for p in (reply.salutation, reply.body, reply.copy_to) if p)
        rows.append(Publication(reply=reply, publish_on=day, public_title=_redact(reply.title),
                                public_text=_redact(text)))
        if len(rows) >= 2000:
            Publication.objects.bulk_create(rows)
            rows = []
    Publication.objects.bulk_create(rows)


class Migration(migrations.Migration):
    dependencies = [("publication", "0001_initial")]

    operations = [migrations.RunPython(publish, migrations.RunPython.noop)]
