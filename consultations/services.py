"""Consultation records' moves, declared for the rule engine: logging one (a move on the
suggestion), editing (optimistically locked), the deputy's online confirmation, attachments.

A record's "status" for the engine is its signature: pending, signed on paper, confirmed online.
"""

from __future__ import annotations

import datetime

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from core import rules
from core.locking import save_with_lock
from core.roles import Role, user_unit_id
from core.rules import Move, Scope
from core.sanitize import html_to_text
from suggestions import workflow
from suggestions.models import Status, Suggestion
from suggestions.workflow import LEAD_STAFF, describe_changes, record_event

from .models import Consultation, Method, Signature

# Consultations happen at any stage after assignment: before drafting, and when delivering
# the reply (the seed's meeting delivered a reply already signed).
OPEN_STATUSES = frozenset({
    Status.ASSIGNED, Status.HANDLING, Status.REHANDLING, Status.REPLIED, Status.EVALUATED,
})
RECORD_FIELDS = [
    "deputy", "method", "held_on", "held_at", "place", "attendees", "attendee_phone",
    "content_summary", "reply_points", "proposed_category", "deputy_opinion", "satisfaction",
    "signature", "signed_name",
]


def _record_lead_unit(user) -> Q:
    unit = user_unit_id(user)
    return Q(suggestion__lead_unit_id=unit) if unit else Q(pk__in=[])


def _record_deputy(user) -> Q:
    deputy = getattr(user, "deputy", None)
    return Q(deputy_id=deputy.pk) if deputy is not None else Q(pk__in=[])


def _suggestion_open(user) -> Q:
    return Q(suggestion__status__in=OPEN_STATUSES)


RECORD_UNIT = Scope("record_unit", _record_lead_unit,
                    gettext_lazy("Only the lead handling unit logs consultations."))
RECORD_DEPUTY = Scope("record_deputy", _record_deputy,
                      gettext_lazy("Only the deputy named on the record can confirm it."))
RECORD_STAFF = {Role.HANDLER: RECORD_UNIT, Role.HEAD: RECORD_UNIT}
NOT_OPEN = gettext_lazy(
    "Consultations can be logged once the suggestion is assigned and until it is closed."
)


def update_met(suggestion_id: int) -> None:
    """见面: the suggestion has a face-to-face consultation (a figure kept on the row)."""
    met = Consultation.objects.filter(
        suggestion_id=suggestion_id, method=Method.FACE_TO_FACE
    ).exists()
    Suggestion.objects.filter(pk=suggestion_id).exclude(met=met).update(met=met)


def _apply_log(suggestion: Suggestion, user, params: dict) -> Consultation:
    record = Consultation(suggestion=suggestion, created_by=user, **params["data"])
    if not record.content_summary:
        record.content_summary = html_to_text(suggestion.content)
    if record.signature == Signature.ONLINE:
        # Only the deputy confirms online; staff can only say it was signed on paper.
        record.signature = Signature.PENDING
    record.save()
    update_met(suggestion.pk)
    params["label"] = (
        f"{record.held_on:%Y-%m-%d} {record.get_method_display()} {record.place}".strip()
    )
    return record


def _apply_confirm(record: Consultation, user, params: dict) -> None:
    opinion = (params.get("opinion") or "").strip()
    if opinion:
        record.deputy_opinion = opinion
    record.signed_name = user.deputy.name
    record.confirmed_at = timezone.now()
    record.lock_version += 1


def _apply_attach(record: Consultation, user, params: dict):
    """Store a checked upload; a scan of the signed paper form marks the record as signed."""
    from .models import Attachment

    upload, kind = params["upload"], params["kind"]
    attachment = Attachment(
        consultation=record, kind=kind, original_name=(upload.name or "")[:200],
        content_type=params["content_type"], size=upload.size, uploaded_by=user,
    )
    attachment.file.save(upload.name, upload, save=False)
    attachment.save()
    if kind == Attachment.Kind.SCAN and record.signature == Signature.PENDING:
        record.signature = Signature.PAPER
        record.signed_name = record.signed_name or record.deputy.name
        record.save(update_fields=["signature", "signed_name", "updated_at"])
    params["label"] = attachment.original_name
    return attachment


def _log(record: Consultation, *, user, move: Move, source: str, note: str, params: dict) -> None:
    record_event(
        record.suggestion, actor=user, action=move.action,
        note=note or str(params.get("label") or f"{record.held_on:%Y-%m-%d}"),
        internal=move.internal,
    )


MACHINE = rules.machine(Consultation, log=_log, status_field="signature")
MACHINE.add(
    Move("edit", gettext_lazy("Edit the record"), frozenset({Signature.PENDING, Signature.PAPER}),
         None, RECORD_STAFF, where=_suggestion_open, where_refusal=NOT_OPEN,
         ui="link:consultations:edit", save_fields=()),
    Move("confirm", gettext_lazy("Consultation record confirmed by the deputy"),
         frozenset({Signature.PENDING}), Signature.ONLINE, {Role.DEPUTY: RECORD_DEPUTY},
         effects=(_apply_confirm,), event="consultation_confirmed", ui=""),
    Move("attach", gettext_lazy("Attachment uploaded"), frozenset(Signature.values), None,
         RECORD_STAFF, where=_suggestion_open, where_refusal=NOT_OPEN,
         effects=(_apply_attach,), event="attachment", internal=True, ui="", save_fields=()),
)
workflow.MACHINE.add(
    Move("log_consultation", gettext_lazy("Consultation logged"), OPEN_STATUSES, None,
         LEAD_STAFF, effects=(_apply_log,), event="consultation",
         ui="link:consultations:create", save_fields=()),
)


def can_log(suggestion: Suggestion, user) -> bool:
    return rules.may(suggestion, "log_consultation", user)


def consultation_create(
    *, suggestion: Suggestion, user, data: dict, at: datetime.datetime | None = None
) -> Consultation:
    return rules.run(suggestion, "log_consultation", user=user, data=data, at=at)


EDIT_LABELS = {name: Consultation._meta.get_field(name).verbose_name for name in RECORD_FIELDS}


def consultation_update(
    *, record: Consultation, user, data: dict, expected_version: int
) -> Consultation:
    """Save the form (StaleEdit if someone saved meanwhile); log what changed."""
    rules.check(record, "edit", user)
    before = {name: field_text(record, name) for name in RECORD_FIELDS}
    for name, value in data.items():
        setattr(record, name, value)
    if record.signature == Signature.ONLINE:
        record.signature = Signature.PENDING
    save_with_lock(record, expected_version=expected_version, fields=RECORD_FIELDS,
                   only_if={"signature__in": [Signature.PENDING, Signature.PAPER]})
    update_met(record.suggestion_id)
    after = {name: field_text(record, name) for name in RECORD_FIELDS}
    changes = describe_changes(before, after, {k: str(v) for k, v in EDIT_LABELS.items()})
    if changes:
        record_event(record.suggestion, actor=user, action="consultation_edited", note=changes,
                     object_label=f"{record.held_on:%Y-%m-%d}")
    return record


def field_text(record: Consultation, name: str) -> str:
    """A field as the record shows it (choices by their label)."""
    display = getattr(record, f"get_{name}_display", None)
    value = display() if display and getattr(record, name) else getattr(record, name)
    return "" if value is None else str(value)


def consultation_confirm(*, record: Consultation, user, opinion: str = "") -> Consultation:
    """The deputy confirms the record online instead of signing the paper form."""
    return rules.run(record, "confirm", user=user, opinion=opinion)


def attachment_add(*, record: Consultation, user, upload, kind: str, content_type: str):
    return rules.run(record, "attach", user=user, upload=upload, kind=kind,
                     content_type=content_type)

