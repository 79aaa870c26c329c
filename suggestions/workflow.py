"""The suggestion's state machine: allowed moves, who may make them, what each requires.

Views and services call :func:`transition`; nothing else changes ``Suggestion.status``.
Every move runs in a transaction on a locked row and writes an :class:`Event`.
"""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.roles import Role, role_of, user_unit_id

from .models import CoHandling, Event, HandlingUnit, Status, Suggestion


class WorkflowError(Exception):
    """A move that is not allowed; the message is shown to the user as it is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def add_months(day: datetime.date, months: int) -> datetime.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def add_working_days(day: datetime.date, days: int) -> datetime.date:
    # Weekends only: public holidays differ by year and are not modelled.
    while days > 0:
        day += datetime.timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: frozenset[str]
    target: str
    roles: frozenset[Role]
    # Unit staff may only make the move for their own unit, as lead unit.
    lead_unit_only: bool = True
    needs_note: bool = False
    check: Callable[..., None] | None = field(default=None, compare=False)
    apply: Callable[..., None] | None = field(default=None, compare=False)
    internal: bool = False


STAFF = frozenset({Role.HANDLER, Role.HEAD})
COORDINATORS = frozenset({Role.OFFICE, Role.ADMIN})
OPEN_FOR_HANDLING = frozenset({Status.HANDLING, Status.REHANDLING})


def _today(params: dict) -> datetime.date:
    return params.get("on") or timezone.localdate()


def _check_assign(suggestion: Suggestion, params: dict) -> None:
    unit = params.get("unit") or suggestion.lead_unit
    if unit is None:
        raise WorkflowError(_("Choose the lead handling unit before assigning."))
    co_units = params.get("co_units") or []
    if any(co.pk == unit.pk for co in co_units):
        raise WorkflowError(_("The lead unit cannot also be a co-handling unit."))


def _apply_assign(suggestion: Suggestion, params: dict) -> None:
    unit: HandlingUnit = params.get("unit") or suggestion.lead_unit
    day = _today(params)
    suggestion.lead_unit = unit
    suggestion.assigned_on = day
    suggestion.accepted_on = None
    suggestion.due_on = add_months(day, settings.REPLY_DUE_MONTHS)
    suggestion.due_extended = False
    if "co_units" in params:
        wanted = {co.pk: co for co in params["co_units"]}
        suggestion.co_handlings.exclude(unit_id__in=wanted).delete()
        existing = set(suggestion.co_handlings.values_list("unit_id", flat=True))
        for pk, co in wanted.items():
            if pk not in existing:
                CoHandling.objects.create(
                    suggestion=suggestion, unit=co,
                    due_on=add_months(day, settings.CO_OPINION_DUE_MONTHS),
                )


def _check_request_return(suggestion: Suggestion, params: dict) -> None:
    if suggestion.assigned_on is None:
        return
    limit = add_working_days(suggestion.assigned_on, settings.RETURN_REQUEST_WORKING_DAYS)
    if _today(params) > limit:
        raise WorkflowError(
            _("A return can only be requested within %(days)d working days of assignment "
              "(until %(limit)s); ask the congress office directly.")
            % {"days": settings.RETURN_REQUEST_WORKING_DAYS, "limit": limit.isoformat()}
        )


def _check_reassign(suggestion: Suggestion, params: dict) -> None:
    unit = params.get("unit")
    if unit is None:
        raise WorkflowError(_("Choose the unit to reassign the suggestion to."))
    if suggestion.co_handlings.filter(unit=unit).exists():
        raise WorkflowError(_("The lead unit cannot also be a co-handling unit."))


def _apply_accept(suggestion: Suggestion, params: dict) -> None:
    suggestion.accepted_on = _today(params)


def _check_reply(suggestion: Suggestion, params: dict) -> None:
    reply = params.get("reply")
    if reply is None or reply.signed_at is None:
        raise WorkflowError(_("Only a signed reply can be sent."))
    if not suggestion.co_opinions_waived:
        missing = [
            co.unit.name
            for co in suggestion.co_handlings.select_related("unit")
            if co.required and co.submitted_at is None
        ]
        if missing:
            raise WorkflowError(
                _("Waiting for the opinion of the co-handling units: %(units)s. "
                  "The congress office can waive this.") % {"units": "、".join(missing)}
            )


def _apply_rehandle(suggestion: Suggestion, params: dict) -> None:
    suggestion.due_on = add_months(_today(params), settings.REHANDLING_DUE_MONTHS)


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in [
        Transition(
            "assign", gettext_lazy("Assign"), frozenset({Status.REGISTERED}), Status.ASSIGNED,
            COORDINATORS, check=_check_assign, apply=_apply_assign,
        ),
        Transition(
            "accept", gettext_lazy("Accept assignment"), frozenset({Status.ASSIGNED}),
            Status.HANDLING, STAFF, apply=_apply_accept,
        ),
        Transition(
            "request_return", gettext_lazy("Request return"), frozenset({Status.ASSIGNED}),
            Status.RETURN_REQUESTED, STAFF, needs_note=True, check=_check_request_return,
        ),
        Transition(
            "reject_return", gettext_lazy("Keep with this unit"),
            frozenset({Status.RETURN_REQUESTED}), Status.ASSIGNED, COORDINATORS, needs_note=True,
        ),
        Transition(
            "reassign", gettext_lazy("Reassign"),
            frozenset({Status.ASSIGNED, Status.RETURN_REQUESTED, Status.HANDLING}),
            Status.ASSIGNED, COORDINATORS, check=_check_reassign, apply=_apply_assign,
        ),
        Transition(
            "reply", gettext_lazy("Mark reply as sent"), OPEN_FOR_HANDLING, Status.REPLIED,
            STAFF | COORDINATORS, check=_check_reply,
        ),
        Transition(
            "evaluate", gettext_lazy("Evaluate"), frozenset({Status.REPLIED, Status.EVALUATED}),
            Status.EVALUATED, frozenset({Role.DEPUTY}) | COORDINATORS,
        ),
        Transition(
            "rehandle", gettext_lazy("Re-handle after an unsatisfied rating"),
            frozenset({Status.REPLIED, Status.EVALUATED}), Status.REHANDLING,
            frozenset({Role.DEPUTY}) | COORDINATORS, apply=_apply_rehandle,
        ),
        Transition(
            "close", gettext_lazy("Close"), frozenset({Status.EVALUATED, Status.REPLIED}),
            Status.CLOSED, COORDINATORS,
        ),
    ]
}

# Events that are not status changes, for their labels on the timeline.
OTHER_ACTIONS = {
    "register": gettext_lazy("Registered"),
    "extend": gettext_lazy("Deadline extended"),
    "key_supervision": gettext_lazy("Key supervision changed"),
    "co_opinion": gettext_lazy("Co-handling opinion submitted"),
    "waive_co_opinions": gettext_lazy("Co-handling opinions waived"),
    "consultation": gettext_lazy("Consultation logged"),
    "consultation_confirmed": gettext_lazy("Consultation record confirmed by the deputy"),
    "reply_created": gettext_lazy("Reply drafted"),
    "reply_submitted": gettext_lazy("Reply submitted for sign-off"),
    "reply_returned": gettext_lazy("Reply returned to the handler"),
    "reply_signed": gettext_lazy("Reply signed off"),
    "pdf_export": gettext_lazy("PDF exported"),
    "report_export": gettext_lazy("Figures exported to Excel"),
    "attachment": gettext_lazy("Attachment uploaded"),
    "evaluation": gettext_lazy("Deputy's evaluation"),
}


def action_label(action: str) -> str:
    if action in TRANSITIONS:
        return str(TRANSITIONS[action].label)
    return str(OTHER_ACTIONS.get(action, action))


def record_event(
    suggestion: Suggestion | None, *, actor, action: str, note: str = "",
    from_status: str = "", to_status: str = "", internal: bool = False, object_label: str = "",
    at: datetime.datetime | None = None,
) -> Event:
    return Event.objects.create(
        suggestion=suggestion, actor=actor if actor and actor.is_authenticated else None,
        action=action, note=note, from_status=from_status, to_status=to_status,
        internal=internal, object_label=object_label, at=at or timezone.now(),
    )


def _is_on_suggestion(user, suggestion: Suggestion) -> bool:
    deputy = getattr(user, "deputy", None)
    if deputy is None:
        return False
    return suggestion.lead_deputy_id == deputy.pk or suggestion.co_deputies.filter(
        pk=deputy.pk
    ).exists()


def check_allowed(suggestion: Suggestion, name: str, user) -> Transition:
    """Raise WorkflowError unless ``user`` may make move ``name`` from the current status."""
    move = TRANSITIONS.get(name)
    if move is None:
        raise WorkflowError(_("Unknown action."))
    role = role_of(user)
    if role not in move.roles:
        raise WorkflowError(_("You are not allowed to do this: %(action)s.") % {"action": move.label})
    if role in STAFF and move.lead_unit_only and user_unit_id(user) != suggestion.lead_unit_id:
        raise WorkflowError(_("Only the lead handling unit can do this."))
    if role == Role.DEPUTY and not _is_on_suggestion(user, suggestion):
        raise WorkflowError(_("Only the deputies of this suggestion can do this."))
    if suggestion.status not in move.sources:
        raise WorkflowError(
            _("“%(action)s” is not possible while the suggestion is “%(status)s”.")
            % {"action": move.label, "status": suggestion.get_status_display()}
        )
    return move


def available_moves(suggestion: Suggestion, user) -> list[Transition]:
    """The moves the user could try now (used to show buttons; preconditions still apply)."""
    allowed = []
    for name in TRANSITIONS:
        try:
            allowed.append(check_allowed(suggestion, name, user))
        except WorkflowError:
            continue
    return allowed


@transaction.atomic
def transition(
    suggestion: Suggestion, *, name: str, user, note: str = "", **params
) -> Suggestion:
    """Make move ``name`` on ``suggestion`` as ``user``; raise WorkflowError if not allowed."""
    locked = Suggestion.objects.select_for_update().get(pk=suggestion.pk)
    move = check_allowed(locked, name, user)
    note = (note or "").strip()
    if move.needs_note and not note:
        raise WorkflowError(_("Please give a reason."))
    if move.check:
        move.check(locked, params)
    source = locked.status
    if move.apply:
        move.apply(locked, params)
    locked.status = move.target
    locked.save()
    record_event(
        locked, actor=user, action=name, note=note, from_status=source,
        to_status=move.target, internal=move.internal, at=params.get("at"),
        object_label=str(params.get("unit") or ""),
    )
    suggestion.refresh_from_db()
    return locked


# --- Changes that are not status moves, kept here so every rule sits in one module ---

@transaction.atomic
def extend_deadline(suggestion: Suggestion, *, user, new_due: datetime.date, note: str) -> None:
    """Complex cases may be extended once, to at most REPLY_MAX_EXTENDED_MONTHS after assignment."""
    locked = Suggestion.objects.select_for_update().get(pk=suggestion.pk)
    if role_of(user) not in COORDINATORS:
        raise WorkflowError(_("Only the congress office can extend a deadline."))
    if locked.status not in {Status.ASSIGNED, Status.HANDLING, Status.REHANDLING}:
        raise WorkflowError(_("Only a suggestion in handling can have its deadline extended."))
    if locked.due_extended:
        raise WorkflowError(_("The deadline has already been extended once."))
    if not (note or "").strip():
        raise WorkflowError(_("Please give the written approval or reason for the extension."))
    limit = add_months(locked.assigned_on, settings.REPLY_MAX_EXTENDED_MONTHS)
    if locked.due_on and new_due <= locked.due_on:
        raise WorkflowError(_("The new due date must be later than the current one."))
    if new_due > limit:
        raise WorkflowError(
            _("The deadline can be extended to %(limit)s at the latest.") % {"limit": limit}
        )
    old = locked.due_on
    locked.due_on, locked.due_extended = new_due, True
    locked.save(update_fields=["due_on", "due_extended", "updated_at"])
    record_event(locked, actor=user, action="extend", note=f"{old} → {new_due}：{note.strip()}")


@transaction.atomic
def set_key_supervision(suggestion: Suggestion, *, user, on: bool) -> None:
    if role_of(user) not in COORDINATORS:
        raise WorkflowError(_("Only the congress office can mark key supervision."))
    Suggestion.objects.filter(pk=suggestion.pk).update(key_supervision=on)
    record_event(
        suggestion, actor=user, action="key_supervision",
        note=_("Key supervision on") if on else _("Key supervision off"),
    )


@transaction.atomic
def submit_co_opinion(
    co: CoHandling, *, user, opinion: str, at: datetime.datetime | None = None
) -> None:
    if role_of(user) not in STAFF or user_unit_id(user) != co.unit_id:
        raise WorkflowError(_("Only the co-handling unit can submit its opinion."))
    if not (opinion or "").strip():
        raise WorkflowError(_("The opinion cannot be empty."))
    if co.suggestion.status not in {Status.ASSIGNED, Status.HANDLING, Status.REHANDLING}:
        raise WorkflowError(_("The suggestion is no longer in handling."))
    co.opinion, co.submitted_at, co.submitted_by = opinion.strip(), at or timezone.now(), user
    co.save()
    record_event(co.suggestion, actor=user, action="co_opinion", note=co.unit.name, at=at)


@transaction.atomic
def waive_co_opinions(suggestion: Suggestion, *, user, note: str) -> None:
    if role_of(user) not in COORDINATORS:
        raise WorkflowError(_("Only the congress office can waive co-handling opinions."))
    if not (note or "").strip():
        raise WorkflowError(_("Please give a reason."))
    Suggestion.objects.filter(pk=suggestion.pk).update(co_opinions_waived=True)
    record_event(suggestion, actor=user, action="waive_co_opinions", note=note.strip())
