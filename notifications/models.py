"""In-app notifications, their e-mail/SMS deliveries, and the reminders already sent.

A notification is written in the same transaction as the move that caused it, so it is never
lost; each e-mail or SMS is a ``Delivery`` row that a background task sends (and retries)
after the move has committed. A ``Reminder`` row says a reminder went out for one suggestion,
stage, recipient and due date, so ``send_reminders`` sends each once.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils import formats
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    ASSIGNED = "assigned", _("assigned to the unit")
    CO_OPINION_REQUESTED = "co_opinion_requested", _("co-handling opinion requested")
    RETURN_REQUESTED = "return_requested", _("return requested")
    EXTENSION_REQUESTED = "extension_requested", _("extension requested")
    AWAITING_SIGNOFF = "awaiting_signoff", _("reply awaiting sign-off")
    REPLY_RETURNED = "reply_returned", _("reply returned for revision")
    CONSULTATION_TO_CONFIRM = "consultation_to_confirm", _("consultation record to confirm")
    REPLY_SENT = "reply_sent", _("reply sent")
    REHANDLING = "rehandling", _("rated unsatisfied: re-handling")
    DEADLINE_EXTENDED = "deadline_extended", _("deadline extended")
    EXTENSION_REFUSED = "extension_refused", _("extension refused")
    DUE_SOON = "due_soon", _("reply due soon")
    OVERDUE = "overdue", _("reply overdue")
    CO_OPINION_DUE = "co_opinion_due", _("co-handling opinion due soon")
    CO_OPINION_OVERDUE = "co_opinion_overdue", _("co-handling opinion overdue")


# What each notification says: who must do what on which suggestion, never the letter's or
# the suggestion's content. ``ref`` is the suggestion's reference (市八届人大一次会议第120号建议).
MESSAGES = {
    Kind.ASSIGNED: _("%(ref)s has been assigned to your unit. Please accept it or ask to "
                     "return it."),
    Kind.CO_OPINION_REQUESTED: _("Your unit co-handles %(ref)s. Please send your written "
                                 "opinion by %(due)s."),
    Kind.RETURN_REQUESTED: _("The handling unit asks to return %(ref)s."),
    Kind.EXTENSION_REQUESTED: _("The handling unit asks to extend the deadline of %(ref)s."),
    Kind.AWAITING_SIGNOFF: _("The reply to %(ref)s awaits your sign-off."),
    Kind.REPLY_RETURNED: _("The reply to %(ref)s was returned to you for revision."),
    Kind.CONSULTATION_TO_CONFIRM: _("A consultation record of %(ref)s awaits your confirmation."),
    Kind.REPLY_SENT: _("The reply to %(ref)s has been sent to you. Please read it and rate "
                       "the handling."),
    Kind.REHANDLING: _("%(ref)s was rated unsatisfied and must be handled again by %(due)s."),
    Kind.DEADLINE_EXTENDED: _("The deadline of %(ref)s was extended to %(due)s."),
    Kind.EXTENSION_REFUSED: _("The request to extend the deadline of %(ref)s was refused."),
    Kind.DUE_SOON: _("Reminder: the reply to %(ref)s is due on %(due)s."),
    Kind.OVERDUE: _("Reminder: the reply to %(ref)s is overdue; it was due on %(due)s."),
    Kind.CO_OPINION_DUE: _("Reminder: your unit's opinion on %(ref)s is due on %(due)s."),
    Kind.CO_OPINION_OVERDUE: _("Reminder: your unit's opinion on %(ref)s is overdue; it was "
                               "due on %(due)s."),
}


class _Values(dict):
    def __missing__(self, key: str) -> str:
        return "—"


def render_message(kind: str, params: dict) -> str:
    """The notification's text in the active language (dates as the language writes them)."""
    values = _Values(params or {})
    if values.get("due"):
        try:
            values["due"] = formats.date_format(datetime.date.fromisoformat(values["due"]))
        except (TypeError, ValueError):
            pass
    template = MESSAGES.get(kind)
    if template is None:
        return str(values.get("ref", ""))
    return str(template) % values


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    suggestion = models.ForeignKey(
        "suggestions.Suggestion", verbose_name=_("suggestion"), on_delete=models.CASCADE,
        null=True, blank=True, related_name="+",
    )
    # The message's values (the suggestion's reference, a due date); the text is rendered in
    # the reader's language when shown, and in LANGUAGE_CODE for e-mail and SMS.
    params = models.JSONField(_("values"), default=dict, blank=True)
    url = models.CharField(_("link"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        # The badge on every page: one COUNT over (recipient, read_at IS NULL).
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return self.message

    @property
    def message(self) -> str:
        return render_message(self.kind, self.params)

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Delivery(models.Model):
    """One e-mail or SMS of a notification, sent by a background task and retried on failure."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("e-mail")
        SMS = "sms", _("SMS")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(_("channel"), max_length=5, choices=Channel.choices)
    address = models.CharField(_("address"), max_length=254)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # When a pending delivery is due (again): its creation, or the next retry after a failure.
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.address} ({self.get_status_display()})"


class Reminder(models.Model):
    """A reminder sent: once per suggestion, stage, recipient and due date (a changed deadline
    reminds again)."""

    suggestion = models.ForeignKey(
        "suggestions.Suggestion", on_delete=models.CASCADE, related_name="+"
    )
    stage = models.CharField(_("stage"), max_length=30, choices=Kind.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    due_on = models.DateField(_("due on"))
    # The run of send_reminders that inserted the row (bulk inserts that skip conflicts do not
    # say which rows they inserted; the run finds its own by this token).
    batch = models.CharField(max_length=32, db_index=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["suggestion", "stage", "recipient", "due_on"], name="unique_reminder",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stage} {self.suggestion_id} → {self.recipient_id} ({self.due_on})"
