"""Who is told, and writing the notifications: in-app rows and their deliveries in the
caller's transaction; the e-mails and SMS are queued once that transaction commits."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from suggestions.models import StaffMember, Suggestion

from . import sms
from .models import Delivery, Notification

logger = logging.getLogger(__name__)
UNIT_ROLES = (StaffMember.Role.HANDLER, StaffMember.Role.HEAD)
# Deliveries per background task.
TASK_CHUNK = 500


def users() -> QuerySet:
    return get_user_model().objects.filter(is_active=True)


def unit_staff(unit_ids: Iterable[int | None], roles=UNIT_ROLES) -> QuerySet:
    """The handlers and heads (or ``roles``) of the units."""
    ids = [pk for pk in unit_ids if pk]
    return users().filter(staff_member__unit_id__in=ids, staff_member__role__in=list(roles))


def office() -> QuerySet:
    return users().filter(staff_member__role=StaffMember.Role.OFFICE)


def deputies_of(suggestion: Suggestion) -> QuerySet:
    """Every deputy on the suggestion who has a login."""
    co = Suggestion.co_deputies.through.objects.filter(suggestion_id=suggestion.pk)
    ids = [suggestion.lead_deputy_id, *co.values_list("deputy_id", flat=True)]
    return users().filter(deputy__pk__in=ids)


def contacts(recipients: QuerySet) -> list[dict]:
    """id, e-mail and phone (a staff member's or a deputy's) of each recipient, one query."""
    return list(
        recipients.order_by().values("pk", "email", "staff_member__phone", "deputy__phone").distinct()
    )


def notify(recipients: QuerySet, kind: str, *, suggestion: Suggestion | None, url: str,
           params: dict | None = None, actor=None, at=None) -> list[Notification]:
    """Tell ``recipients`` (a User queryset), except the one who acted: an in-app notification
    each, now, and an e-mail / SMS each after the current transaction commits."""
    if actor is not None and getattr(actor, "is_authenticated", False):
        recipients = recipients.exclude(pk=actor.pk)
    people = contacts(recipients)
    if not people:
        return []
    values = {"ref": str(suggestion) if suggestion is not None else ""} | (params or {})
    created = at or timezone.now()
    notifications = Notification.objects.bulk_create([
        Notification(recipient_id=person["pk"], kind=kind, suggestion=suggestion,
                     params=values, url=url, created_at=created)
        for person in people
    ])
    write_deliveries(zip(notifications, people, strict=True))
    return notifications


def write_deliveries(pairs: Iterable[tuple[Notification, dict]], *, batch_size: int = 1000) -> int:
    """A Delivery per channel the recipient can be reached on; queued on commit."""
    sms_on = sms.get_backend().enabled
    now = timezone.now()
    rows = []
    for notification, person in pairs:
        if person.get("email"):
            rows.append(Delivery(notification=notification, channel=Delivery.Channel.EMAIL,
                                 address=person["email"], next_attempt_at=now))
        phone = person.get("staff_member__phone") or person.get("deputy__phone")
        if sms_on and phone:
            rows.append(Delivery(notification=notification, channel=Delivery.Channel.SMS,
                                 address=phone, next_attempt_at=now))
    if not rows:
        return 0
    made = Delivery.objects.bulk_create(rows, batch_size=batch_size)
    ids = [row.pk for row in made]
    transaction.on_commit(lambda: enqueue(ids))
    return len(ids)


def enqueue(ids: list[int], *, run_after=None) -> None:
    """Queue the deliveries' sending; a queue that fails is logged, and the deliveries stay
    pending for ``retry_notifications`` (also run by ``send_reminders``) to pick up."""
    from .tasks import send_deliveries

    task = send_deliveries.using(run_after=run_after) if run_after else send_deliveries
    for start in range(0, len(ids), TASK_CHUNK):
        chunk = ids[start:start + TASK_CHUNK]
        try:
            task.enqueue(chunk)
        except Exception:
            logger.exception("Could not queue deliveries %s; they stay pending and are retried",
                             chunk)
