"""Who is told, and writing the notifications: in-app rows and their deliveries in the
caller's transaction; the e-mails and SMS are queued once that transaction commits.

Queries: a move's notifications cost one query for the recipients (with their addresses) and
two bulk inserts (the notifications, their deliveries), however many people are told. The
deliveries of every move of one transaction are queued together when it commits: one
background task per ``TASK_CHUNK`` deliveries (an import of 1000 assigned rows queues a
handful of tasks, not thousands). Many moves made inside ``rules.together()`` (an import)
find their recipients and write their notifications once for all (:func:`written_together`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import router, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from suggestions.models import StaffMember, Suggestion

from . import sms
from .models import Delivery, Notification

logger = logging.getLogger(__name__)
UNIT_ROLES = (StaffMember.Role.HANDLER, StaffMember.Role.HEAD)
# Deliveries per background task.
TASK_CHUNK = 500
# What contacts() reads of each recipient.
CONTACT_FIELDS = ("pk", "email", "staff_member__phone", "deputy__phone")


def users() -> QuerySet:
    return get_user_model().objects.filter(is_active=True)


def unit_staff(unit_ids: Iterable[int | None], roles=UNIT_ROLES) -> QuerySet:
    """The handlers and heads (or ``roles``) of the units."""
    ids = [pk for pk in unit_ids if pk]
    return users().filter(staff_member__unit_id__in=ids, staff_member__role__in=list(roles))


def office() -> QuerySet:
    return users().filter(staff_member__role=StaffMember.Role.OFFICE)


def deputies_of(suggestion: Suggestion) -> QuerySet:
    """Every deputy on the suggestion who has a login (the co-signers as a subquery)."""
    co = Suggestion.co_deputies.through.objects.filter(suggestion_id=suggestion.pk)
    return users().filter(Q(deputy__pk=suggestion.lead_deputy_id)
                          | Q(deputy__pk__in=co.values("deputy_id")))


def contacts(recipients: QuerySet, *extra: str) -> list[dict]:
    """id, e-mail and phone (a staff member's or a deputy's) of each recipient, one query;
    ``extra`` values (annotations) ride along."""
    return list(recipients.order_by().values(*CONTACT_FIELDS, *extra).distinct())


@dataclass
class Message:
    """One kind of notification to a list of people (contact dicts, as contacts() reads
    them)."""

    kind: str
    people: Sequence[dict]
    url: str
    params: dict | None = None


def notify(recipients: QuerySet, kind: str, *, suggestion: Suggestion | None, url: str,
           params: dict | None = None, actor=None, at=None) -> list[Notification]:
    """Tell ``recipients`` (a User queryset), except the one who acted: an in-app notification
    each, now, and an e-mail / SMS each after the current transaction commits."""
    return send([Message(kind, contacts(recipients), url, params)], suggestion=suggestion,
                actor=actor, at=at)


def send(messages: Iterable[Message], *, suggestion: Suggestion | None, actor=None,
         at=None) -> list[Notification]:
    """Write the notifications of ``messages`` (to everyone but the actor) in two bulk inserts,
    their notifications and their deliveries; the deliveries are queued on commit. Inside
    :func:`written_together` they are written at the end of the block instead."""
    skip = actor.pk if actor is not None and getattr(actor, "is_authenticated", False) else None
    told = [(message, person) for message in messages for person in message.people
            if person["pk"] != skip]
    if not told:
        return []
    ref = str(suggestion) if suggestion is not None else ""
    created = at or timezone.now()
    pairs = [
        (Notification(recipient_id=person["pk"], kind=message.kind, suggestion=suggestion,
                      params={"ref": ref} | (message.params or {}), url=message.url,
                      created_at=created), person)
        for message, person in told
    ]
    pending = getattr(_together, "pending", None)
    if pending is not None:
        pending.setdefault(suggestion.pk if suggestion is not None else None, []).extend(pairs)
        return [notification for notification, _person in pairs]
    return _write(pairs)


def _write(pairs: list[tuple[Notification, dict]]) -> list[Notification]:
    if not pairs:
        return []
    notifications = Notification.objects.bulk_create(
        [notification for notification, _person in pairs], batch_size=1000)
    write_deliveries(zip(notifications, [person for _notification, person in pairs], strict=True))
    return notifications


# --- Many moves, one write: an import --------------------------------------------------------

_together = threading.local()


@contextmanager
def written_together() -> Iterator[None]:
    """Inside, the notifications of every move are written at the end, in two inserts per
    thousand rather than two per move, and who is told is found for all the moves at once
    (:func:`later`). Registered with ``rules.batch_with`` (an import's moves). Use it inside
    the transaction: when the block raises, nothing is written."""
    if getattr(_together, "pending", None) is not None:
        yield  # nested: the outer block writes
        return
    _together.pending, _together.later = {}, {}
    try:
        yield
        for batch, kept in _together.later.items():
            batch(list(kept.values()))
        pending = _together.pending
    finally:
        _together.pending = _together.later = None
    _write([pair for pairs in pending.values() for pair in pairs])


def later(batch: Callable[[list[tuple]], None], suggestion: Suggestion, *args) -> bool:
    """Inside :func:`written_together`, keep ``(suggestion, *args)`` for ``batch``, called once
    at the end with everything kept, and return True; outside, return False (do it now). A
    second move on the same suggestion first runs what was kept, so it sees the one before."""
    kept_by_batch = getattr(_together, "later", None)
    if kept_by_batch is None:
        return False
    kept = kept_by_batch.setdefault(batch, {})
    if suggestion.pk in kept:
        batch(list(kept.values()))
        kept.clear()
    kept[suggestion.pk] = (suggestion, *args)
    return True


def write_pending(*suggestions: Suggestion) -> None:
    """Write now what :func:`written_together` holds for ``suggestions``, for a move that reads
    their notifications (who was asked before)."""
    pending = getattr(_together, "pending", None) or {}
    _write([pair for suggestion in suggestions for pair in pending.pop(suggestion.pk, [])])


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
    queue_on_commit([row.pk for row in made])
    return len(made)


# --- Queuing: one batch per transaction --------------------------------------------------------

class _Batch:
    """The deliveries written in one transaction; registered once with on_commit, it queues
    them all when the transaction commits (and vanishes with it when it rolls back)."""

    def __init__(self, anchor: tuple, using: str):
        self.anchor = anchor
        self.using = using
        self.ids: list[int] = []
        self.index = -1  # where it sits in the connection's run_on_commit, as a hint

    def __call__(self) -> None:
        ids, self.ids = self.ids, []
        enqueue(ids)

    def registered(self, connection) -> bool:
        """Still to run at commit: not run yet, nor dropped with a rolled-back savepoint."""
        hooks = connection.run_on_commit
        if 0 <= self.index < len(hooks) and hooks[self.index][1] is self:
            return True
        for index, (_sids, func, _robust) in enumerate(hooks):
            if func is self:
                self.index = index
                return True
        return False


def _anchor(connection) -> tuple:
    """The transaction the deliveries belong to: its outermost atomic block (its position and
    the savepoints up to it). A test case's own blocks (Django's ``_from_testcase``) are left
    out, so that under a test case each top-level block is a transaction of its own, as it is
    in production, and ``captureOnCommitCallbacks`` sees its deliveries queued."""
    for position, block in enumerate(connection.atomic_blocks):
        if not getattr(block, "_from_testcase", False):
            return (position, *connection.savepoint_ids[:position])
    return ()


def queue_on_commit(ids: list[int]) -> None:
    """Queue the deliveries ``ids`` when the current transaction commits, with every other
    delivery written in it (now, when there is no transaction)."""
    if not ids:
        return
    using = router.db_for_write(Delivery)
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        enqueue(ids)  # autocommit: the rows are committed already
        return
    anchor = _anchor(connection)
    batch = getattr(connection, "_notification_batch", None)
    if batch is None or batch.anchor != anchor or not batch.registered(connection):
        batch = _Batch(anchor, using)
        transaction.on_commit(batch, using=using)
        batch.index = len(connection.run_on_commit) - 1
        connection._notification_batch = batch
    batch.ids.extend(ids)


def enqueue(ids: list[int], *, run_after=None) -> None:
    """Queue the deliveries' sending, ``TASK_CHUNK`` per task; a queue that fails is logged,
    and the deliveries stay pending for ``retry_notifications`` (also run by
    ``send_reminders``) to pick up."""
    from .tasks import send_deliveries

    task = send_deliveries.using(run_after=run_after) if run_after else send_deliveries
    for start in range(0, len(ids), TASK_CHUNK):
        chunk = ids[start:start + TASK_CHUNK]
        try:
            task.enqueue(chunk)
        except Exception:
            logger.exception("Could not queue deliveries %s; they stay pending and are retried",
                             chunk)
