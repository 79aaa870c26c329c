"""Sending e-mail and SMS in the background (django-tasks), with retries.

One task sends the deliveries of one transaction (up to ``services.TASK_CHUNK``), one by one,
over one connection to the mail server. A delivery is claimed before it is sent (pending →
sending, one UPDATE), so two workers, or a retry queued twice, never send it twice. A failed
send is logged and retried with a growing delay (NOTIFICATION_RETRY_DELAYS): the task queues
the failed ones again (one task per delay) with ``run_after`` when the task backend can defer
(the database backend can), and ``retry_notifications`` / ``send_reminders`` pick up whatever
is due otherwise. After the last attempt the delivery is marked failed and logged as an error;
the in-app notification stays either way.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import get_connection, send_mail
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from . import sms
from .models import Delivery

logger = logging.getLogger(__name__)
# A delivery still "sending" after this long belongs to a worker that died: send it again.
STALE_CLAIM = datetime.timedelta(hours=1)
# A pending delivery is picked up by the retry command this long after it was due, leaving its
# own queued task the time to run first.
PICKUP_GRACE = datetime.timedelta(minutes=5)


def retry_delays() -> list[int]:
    """Seconds to wait before the 2nd, 3rd… attempt; their number + 1 is the attempts made."""
    return list(getattr(settings, "NOTIFICATION_RETRY_DELAYS", [60, 300, 1800, 7200]))


def absolute(url: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + url if url.startswith("/") else url


def email_text(delivery: Delivery) -> tuple[str, str]:
    notification = delivery.notification
    message = notification.message
    lines = [message]
    if notification.url:
        lines += ["", absolute(notification.url)]
    lines += ["", _("This message was sent by the deputy suggestion handling system. "
                    "Please do not reply to it.")]
    return message, "\n".join(lines)


def sms_text(delivery: Delivery) -> str:
    notification = delivery.notification
    link = absolute(notification.url) if notification.url else ""
    return f"{notification.message} {link}".strip()


class Mailer:
    """One connection to the mail server for a task's e-mails, opened at the first one and
    opened again after a failure (the server may have dropped it)."""

    def __init__(self):
        self.connection = None

    def send(self, subject: str, body: str, address: str) -> None:
        if self.connection is None:
            connection = get_connection(fail_silently=False)
            connection.open()  # raises when the server is down: this delivery fails
            self.connection = connection
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address],
                      fail_silently=False, connection=self.connection)
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # a connection that broke cannot always be closed cleanly
                logger.debug("Closing the mail connection failed", exc_info=True)


def transmit(delivery: Delivery, mailer: Mailer | None = None) -> None:
    """Send one delivery now; raises on failure."""
    with translation.override(settings.LANGUAGE_CODE):
        if delivery.channel == Delivery.Channel.EMAIL:
            subject, body = email_text(delivery)
            if mailer is None:
                send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [delivery.address],
                          fail_silently=False)
            else:
                mailer.send(subject, body, delivery.address)
        else:
            sms.get_backend().send(delivery.address, sms_text(delivery))


@dataclass(frozen=True)
class Outcome:
    sent: bool = False  # went out now
    retry_at: datetime.datetime | None = None  # failed, to be tried again then
    attempts: int = 0


def attempt(pk: int, mailer: Mailer | None = None) -> Outcome:
    """Claim, send and record one delivery."""
    now = timezone.now()
    claimed = Delivery.objects.filter(pk=pk, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.SENDING, claimed_at=now
    )
    if not claimed:
        return Outcome()  # sent, given up, or being sent by another worker
    delivery = Delivery.objects.select_related("notification").get(pk=pk)
    attempts = delivery.attempts + 1
    try:
        transmit(delivery, mailer)
    except Exception as error:
        delays = retry_delays()
        error_text = f"{type(error).__name__}: {error}"[:2000]
        if attempts > len(delays):
            Delivery.objects.filter(pk=pk).update(
                status=Delivery.Status.FAILED, attempts=attempts, last_error=error_text,
            )
            logger.error("%s to %s failed after %d attempts, giving up: %s",
                         delivery.get_channel_display(), delivery.address, attempts, error_text)
            return Outcome(attempts=attempts)
        retry_at = now + datetime.timedelta(seconds=delays[attempts - 1])
        Delivery.objects.filter(pk=pk).update(
            status=Delivery.Status.PENDING, attempts=attempts, last_error=error_text,
            next_attempt_at=retry_at,
        )
        logger.warning("%s to %s failed (attempt %d), retrying at %s: %s",
                       delivery.get_channel_display(), delivery.address, attempts,
                       retry_at.isoformat(), error_text)
        return Outcome(retry_at=retry_at, attempts=attempts)
    Delivery.objects.filter(pk=pk).update(
        status=Delivery.Status.SENT, attempts=attempts, sent_at=timezone.now(), last_error="",
    )
    return Outcome(sent=True, attempts=attempts)


def requeue(failed: dict[int, Outcome]) -> None:
    """Queue the failed deliveries again when the task backend can defer: those that failed
    at the same attempt (the same delay) in one task, run when the last of them is due.
    Otherwise ``retry_due`` (``retry_notifications`` / ``send_reminders``) picks them up."""
    if not failed or not send_deliveries.get_backend().supports_defer:
        return
    from .services import enqueue

    by_attempt: dict[int, dict[int, datetime.datetime]] = {}
    for pk, outcome in failed.items():
        by_attempt.setdefault(outcome.attempts, {})[pk] = outcome.retry_at
    for group in by_attempt.values():
        enqueue(list(group), run_after=max(group.values()))


def deliver(pk: int) -> bool:
    """Claim, send and record one delivery, queueing its retry; True when it went out now."""
    outcome = attempt(pk)
    if outcome.retry_at is not None:
        requeue({pk: outcome})
    return outcome.sent


@task()
def send_deliveries(delivery_ids: list[int]) -> int:
    """Send the deliveries (a transaction's, up to services.TASK_CHUNK), one by one, each
    claimed, retried and given up on its own; returns how many went out."""
    mailer = Mailer()
    sent, failed = 0, {}
    try:
        for pk in delivery_ids:
            outcome = attempt(pk, mailer)
            sent += outcome.sent
            if outcome.retry_at is not None:
                failed[pk] = outcome
    finally:
        mailer.close()
        requeue(failed)
    return sent


def retry_due(now: datetime.datetime | None = None) -> int:
    """Queue the pending deliveries that are due (a failed send's retry, or a queueing that
    failed) and those stuck in a dead worker; returns how many were queued."""
    from .services import enqueue

    now = now or timezone.now()
    Delivery.objects.filter(status=Delivery.Status.SENDING, claimed_at__lt=now - STALE_CLAIM).update(
        status=Delivery.Status.PENDING
    )
    ids = list(
        Delivery.objects.filter(status=Delivery.Status.PENDING,
                                next_attempt_at__lte=now - PICKUP_GRACE)
        .order_by("next_attempt_at").values_list("pk", flat=True)
    )
    enqueue(ids)
    return len(ids)
