"""Reminders: replies due soon and overdue (the lead unit's staff), co-handling opinions due
soon and overdue (the co-unit's staff). Once per suggestion, stage, recipient and due date.

Set-based for 10^5 suggestions: per stage, one query joins the items to their recipients and
leaves out those already reminded (NOT EXISTS over the unique index); the new reminders are
inserted in bulk, skipping conflicts (a concurrent run), and this run then reads back the rows
it inserted itself (by its batch token) and writes their notifications and deliveries in bulk.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable

from django.db import transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone

from suggestions.models import AWAITING_REPLY, CoHandling, Status, Suggestion, due_soon_horizon

from . import services
from .models import Kind, Notification, Reminder

# Where the co-handling opinion can still be given (the co_opinion move's statuses).
CO_OPINION_OPEN = (Status.ASSIGNED, Status.HANDLING, Status.REHANDLING)


def _reminded(stage: str, suggestion: str) -> Exists:
    return Exists(Reminder.objects.filter(
        suggestion_id=OuterRef(suggestion), stage=stage, recipient_id=OuterRef("recipient"),
        due_on=OuterRef("due_on"),
    ))


def reply_candidates(stage: str, due: dict) -> QuerySet:
    """(suggestion, recipient, due date, session, number) of replies awaited, per lead-unit
    staff member not yet reminded at this stage for this due date."""
    return (
        Suggestion.objects.filter(status__in=AWAITING_REPLY, **due)
        .filter(lead_unit__members__role__in=services.UNIT_ROLES,
                lead_unit__members__user__is_active=True)
        .annotate(recipient=F("lead_unit__members__user_id"))
        .filter(~_reminded(stage, "pk"))
        .order_by()
        .values_list("pk", "recipient", "due_on", "session__name", "number")
    )


def co_opinion_candidates(stage: str, due: dict) -> QuerySet:
    return (
        CoHandling.objects.filter(required=True, submitted_at__isnull=True,
                                  suggestion__co_opinions_waived=False,
                                  suggestion__status__in=CO_OPINION_OPEN, **due)
        .filter(unit__members__role__in=services.UNIT_ROLES, unit__members__user__is_active=True)
        .annotate(recipient=F("unit__members__user_id"))
        .filter(~_reminded(stage, "suggestion_id"))
        .order_by()
        .values_list("suggestion_id", "recipient", "due_on", "suggestion__session__name",
                     "suggestion__number")
    )


def stages(today: datetime.date) -> list[tuple[str, Callable, dict, str]]:
    """(stage, candidates, due-date filter, URL name of the page where the action is)."""
    soon = {"due_on__gte": today, "due_on__lte": due_soon_horizon(today)}
    late = {"due_on__lt": today}
    return [
        (Kind.DUE_SOON, reply_candidates, soon, "suggestions:detail"),
        (Kind.OVERDUE, reply_candidates, late, "suggestions:detail"),
        (Kind.CO_OPINION_DUE, co_opinion_candidates, soon, "suggestions:co_opinion"),
        (Kind.CO_OPINION_OVERDUE, co_opinion_candidates, late, "suggestions:co_opinion"),
    ]


def reference(session_name: str, number: int) -> str:
    """As ``str(suggestion)`` writes it, without loading the suggestion."""
    return f"{session_name}第{number}号建议"


def send_reminders(today: datetime.date | None = None, *, batch_size: int = 2000) -> int:
    """Create the reminders due today that were not sent yet; returns how many."""
    today = today or timezone.localdate()
    total = 0
    for stage, candidates, due, url_name in stages(today):
        with transaction.atomic():
            total += _send_stage(stage, candidates(stage, due), url_name, batch_size)
    return total


def _send_stage(stage: str, candidates: QuerySet, url_name: str, batch_size: int) -> int:
    token = uuid.uuid4().hex
    refs: dict[int, str] = {}
    rows = []
    for suggestion_id, recipient_id, due_on, session_name, number in candidates.iterator(
            chunk_size=batch_size):
        refs[suggestion_id] = reference(session_name, number)
        rows.append(Reminder(suggestion_id=suggestion_id, stage=stage, recipient_id=recipient_id,
                             due_on=due_on, batch=token))
    if not rows:
        return 0
    Reminder.objects.bulk_create(rows, batch_size=batch_size, ignore_conflicts=True)
    mine = list(Reminder.objects.filter(batch=token).values_list("suggestion_id", "recipient_id",
                                                                 "due_on"))
    if not mine:
        return 0
    now = timezone.now()
    urls = {pk: reverse(url_name, args=[pk]) for pk in {s for s, _r, _d in mine}}
    notifications = Notification.objects.bulk_create(
        [Notification(recipient_id=recipient_id, kind=stage, suggestion_id=suggestion_id,
                      params={"ref": refs[suggestion_id], "due": due_on.isoformat()},
                      url=urls[suggestion_id], created_at=now)
         for suggestion_id, recipient_id, due_on in mine],
        batch_size=batch_size,
    )
    people = {person["pk"]: person for person in _contacts({r for _s, r, _d in mine})}
    services.write_deliveries(
        ((n, people[n.recipient_id]) for n in notifications if n.recipient_id in people),
        batch_size=batch_size,
    )
    return len(mine)


def _contacts(user_ids: set[int]) -> list[dict]:
    ids = sorted(user_ids)
    found = []
    for start in range(0, len(ids), 5000):  # under SQLite's limit of query parameters
        found += services.contacts(services.users().filter(pk__in=ids[start:start + 5000]))
    return found
