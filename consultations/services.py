"""Writes on consultation records: logging, editing (optimistically locked), confirmation."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.locking import save_with_lock
from core.roles import Role, role_of, user_unit_id
from core.sanitize import html_to_text
from suggestions.models import Status, Suggestion
from suggestions.workflow import WorkflowError, record_event

from .models import Consultation, Signature

# Consultations happen at any stage after assignment: before drafting, and when delivering
# the reply (the seed's meeting delivered a reply already signed).
OPEN_STATUSES = {
    Status.ASSIGNED, Status.HANDLING, Status.REHANDLING, Status.REPLIED, Status.EVALUATED,
}
RECORD_FIELDS = [
    "deputy", "method", "held_on", "held_at", "place", "attendees", "attendee_phone",
    "content_summary", "reply_points", "proposed_category", "deputy_opinion", "satisfaction",
    "signature", "signed_name",
]


def _check_can_log(suggestion: Suggestion, user) -> None:
    if role_of(user) not in (Role.HANDLER, Role.HEAD) or user_unit_id(user) != suggestion.lead_unit_id:
        raise WorkflowError(_("Only the lead handling unit logs consultations."))
    if suggestion.status not in OPEN_STATUSES:
        raise WorkflowError(
            _("Consultations can be logged once the suggestion is assigned and until it is closed.")
        )


def can_log(suggestion: Suggestion, user) -> bool:
    """Whether to offer the form; the same rule the writes enforce."""
    try:
        _check_can_log(suggestion, user)
    except WorkflowError:
        return False
    return True


@transaction.atomic
def consultation_create(
    *, suggestion: Suggestion, user, data: dict, at: datetime.datetime | None = None
) -> Consultation:
    _check_can_log(suggestion, user)
    record = Consultation(suggestion=suggestion, created_by=user, **data)
    if not record.content_summary:
        record.content_summary = html_to_text(suggestion.content)
    if record.signature == Signature.ONLINE:
        # Only the deputy confirms online; staff can only say it was signed on paper.
        record.signature = Signature.PENDING
    record.save()
    record_event(
        suggestion, actor=user, action="consultation",
        note=f"{record.held_on:%Y-%m-%d} {record.get_method_display()} {record.place}".strip(),
        at=at,
    )
    return record


def consultation_update(
    *, record: Consultation, user, data: dict, expected_version: int
) -> Consultation:
    _check_can_log(record.suggestion, user)
    if record.signature == Signature.ONLINE:
        raise WorkflowError(_("The deputy has confirmed this record online; it can no longer "
                              "be changed. Log a new consultation instead."))
    for name, value in data.items():
        setattr(record, name, value)
    if record.signature == Signature.ONLINE:
        record.signature = Signature.PENDING
    save_with_lock(record, expected_version=expected_version, fields=RECORD_FIELDS)
    return record


@transaction.atomic
def consultation_confirm(*, record: Consultation, user, opinion: str = "") -> Consultation:
    """The deputy confirms the record online instead of signing the paper form."""
    record = Consultation.objects.select_for_update().get(pk=record.pk)
    deputy = getattr(user, "deputy", None)
    if role_of(user) != Role.DEPUTY or deputy is None or deputy.pk != record.deputy_id:
        raise WorkflowError(_("Only the deputy named on the record can confirm it."))
    if record.signature != Signature.PENDING:
        raise WorkflowError(_("This record has already been signed or confirmed."))
    if opinion.strip():
        record.deputy_opinion = opinion.strip()
    record.signature, record.signed_name = Signature.ONLINE, deputy.name
    record.confirmed_at = timezone.now()
    record.lock_version += 1
    record.save()
    record_event(record.suggestion, actor=user, action="consultation_confirmed",
                 note=f"{record.held_on:%Y-%m-%d}")
    return record


@transaction.atomic
def attachment_add(*, record: Consultation, user, upload, kind: str, content_type: str):
    """Store a checked upload; a scan of the signed paper form marks the record as signed."""
    from .models import Attachment

    _check_can_log(record.suggestion, user)
    attachment = Attachment(
        consultation=record, kind=kind, original_name=(upload.name or "")[:200],
        content_type=content_type, size=upload.size, uploaded_by=user,
    )
    attachment.file.save(upload.name, upload, save=False)
    attachment.save()
    if kind == Attachment.Kind.SCAN and record.signature == Signature.PENDING:
        Consultation.objects.filter(pk=record.pk).update(
            signature=Signature.PAPER, signed_name=record.signed_name or record.deputy.name,
        )
    record_event(record.suggestion, actor=user, action="attachment",
                 note=attachment.original_name, internal=True)
    return attachment
