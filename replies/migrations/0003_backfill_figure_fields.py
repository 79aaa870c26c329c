"""Fill the suggestion's figure fields (handling result, rating, met, replied on time) from the
replies, ratings and consultations already on record."""

from django.db import migrations


def backfill(apps, schema_editor):
    Suggestion = apps.get_model("suggestions", "Suggestion")
    Reply = apps.get_model("replies", "Reply")
    Evaluation = apps.get_model("replies", "Evaluation")
    Consultation = apps.get_model("consultations", "Consultation")
    met = set(Consultation.objects.filter(method="face").values_list("suggestion_id", flat=True))
    for suggestion in Suggestion.objects.all().iterator(chunk_size=2000):
        sent = list(Reply.objects.filter(suggestion_id=suggestion.pk, status="sent").order_by("version"))
        changes = {"met": suggestion.pk in met}
        if sent:
            latest = sent[-1]
            first_day = sent[0].sent_at.date() if sent[0].sent_at else None
            changes["handling_result"] = latest.category or ""
            changes["replied_on"] = latest.sent_at.date() if latest.sent_at else None
            changes["replied_on_time"] = any(
                r.sent_at and suggestion.due_on and r.sent_at.date() <= suggestion.due_on for r in sent
            ) or (first_day is not None and suggestion.due_on is None)
        rating = (
            Evaluation.objects.filter(reply__suggestion_id=suggestion.pk, deputy_id=suggestion.lead_deputy_id)
            .order_by("-created_at", "-pk").values_list("result", flat=True).first()
        )
        changes["rating"] = rating or ""
        Suggestion.objects.filter(pk=suggestion.pk).update(**changes)


class Migration(migrations.Migration):
    dependencies = [
        ("replies", "0002_withdrawn_status"),
        ("suggestions", "0004_figure_fields"),
        ("consultations", "0001_initial"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
