"""Optimistic locking for records edited in a browser form (no lost updates)."""

from django.db import models
from django.db.models import F
from django.utils.translation import gettext as _


class StaleEdit(Exception):
    """Somebody else saved the record after this form was opened."""

    def __init__(self, message: str | None = None):
        self.message = message or _(
            "Someone else saved this record while you were editing it. Your text is kept below: "
            "compare it with the current version, then save again."
        )
        super().__init__(self.message)


def save_with_lock(
    instance: models.Model, *, expected_version: int, fields: list[str], only_if: dict | None = None
) -> None:
    """Write ``fields`` only if the row still has ``expected_version`` (and matches ``only_if``)."""
    model = type(instance)
    values = {name: getattr(instance, name) for name in fields}
    if any(f.name == "updated_at" for f in model._meta.fields):
        from django.utils import timezone

        values["updated_at"] = timezone.now()
    updated = model.objects.filter(
        pk=instance.pk, lock_version=expected_version, **(only_if or {})
    ).update(
        lock_version=F("lock_version") + 1, **values
    )
    if not updated:
        raise StaleEdit()
    instance.lock_version = expected_version + 1
