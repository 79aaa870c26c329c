"""The notifications, as effects added to the moves of the apps below (``Machine.extend``).

Each effect runs inside the move's transaction, after the move's own effects: the in-app
notifications are written with the move (and vanish with it if it is refused or rolled back);
e-mail and SMS are queued when it commits. Nothing here imports this app from below.
"""

from __future__ import annotations

import itertools
import logging
from collections import defaultdict

from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.urls import reverse

from consultations.models import Consultation, Signature
from core import rules
from replies.models import Reply
from suggestions.models import CoHandling, Suggestion

from . import services
from .models import Kind, Notification

logger = logging.getLogger(__name__)


def _when(params: dict):
    return params.get("at")


def _detail(suggestion: Suggestion) -> str:
    return reverse("suggestions:detail", args=[suggestion.pk])


def _iso(day) -> str:
    return day.isoformat() if day else ""


# --- On the suggestion's moves ---

def on_assign(suggestion: Suggestion, user, params: dict) -> None:
    """Assign / reassign: the lead unit's staff; the co-units' staff, once per suggestion, are
    asked for their opinion. One query finds them all (with the opinion's due date, and
    whether they were asked before), two inserts write it. Inside rules.together() (an
    import), everyone to tell is found for all the suggestions at once (_assigned_together)."""
    if services.later(_assigned_together, suggestion, user, params):
        return
    services.write_pending(suggestion)  # "asked" below reads them
    awaited = _awaited(suggestion.pk).exclude(unit_id=suggestion.lead_unit_id)
    asked = Notification.objects.filter(suggestion_id=suggestion.pk,
                                        kind=Kind.CO_OPINION_REQUESTED, recipient_id=OuterRef("pk"))
    people = services.contacts(
        services.users()
        .filter(staff_member__role__in=services.UNIT_ROLES)
        .filter(Q(staff_member__unit_id__in=[pk for pk in [suggestion.lead_unit_id] if pk])
                | Q(staff_member__unit_id__in=awaited.values("unit_id")))
        .annotate(
            unit_id=F("staff_member__unit_id"),
            co_due=Subquery(awaited.filter(unit_id=OuterRef("staff_member__unit_id"))
                            .order_by("pk").values("due_on")[:1]),
            asked=Exists(asked),
        ),
        "unit_id", "co_due", "asked",
    )
    _send_assigned(suggestion, people, user, params)


def _awaited(*suggestion_ids: int):
    return CoHandling.objects.filter(suggestion_id__in=suggestion_ids, required=True,
                                     submitted_at__isnull=True)


def _assigned_together(moves: list[tuple[Suggestion, object, dict]]) -> None:
    """on_assign for many suggestions: the same people, found in three queries for all (the
    awaited co-units, who was asked before, the units' staff) rather than one per suggestion."""
    suggestions = [suggestion for suggestion, _user, _params in moves]
    services.write_pending(*suggestions)
    lead_of = {s.pk: s.lead_unit_id for s in suggestions}
    co_due: dict[int, dict[int, object]] = defaultdict(dict)  # suggestion → unit → first due
    for pk, unit_id, due in _awaited(*lead_of).order_by("pk").values_list(
            "suggestion_id", "unit_id", "due_on"):
        if unit_id != lead_of[pk]:
            co_due[pk].setdefault(unit_id, due)
    asked = set(Notification.objects.filter(
        suggestion_id__in=list(co_due), kind=Kind.CO_OPINION_REQUESTED,
    ).values_list("suggestion_id", "recipient_id")) if co_due else set()
    units = {pk for pk in lead_of.values() if pk} | {u for dues in co_due.values() for u in dues}
    staff = services.contacts(
        services.users().filter(staff_member__role__in=services.UNIT_ROLES,
                                staff_member__unit_id__in=units)
        .annotate(unit_id=F("staff_member__unit_id")),
        "unit_id",
    )
    for suggestion, user, params in moves:
        dues = co_due.get(suggestion.pk, {})
        people = [
            person | {"co_due": dues.get(person["unit_id"]),
                      "asked": (suggestion.pk, person["pk"]) in asked}
            for person in staff
            if person["unit_id"] == suggestion.lead_unit_id or person["unit_id"] in dues
        ]
        _send_assigned(suggestion, people, user, params)


def _send_assigned(suggestion: Suggestion, people: list[dict], user, params: dict) -> None:
    """The lead unit's staff are told; the co-units' staff not asked before are asked, by
    unit, with the opinion's due date."""
    lead = [p for p in people if p["unit_id"] == suggestion.lead_unit_id]
    messages = [services.Message(Kind.ASSIGNED, sorted(lead, key=_by_pk), _detail(suggestion),
                                 {"due": _iso(suggestion.due_on)})]
    co = sorted((p for p in people if p["unit_id"] != suggestion.lead_unit_id and not p["asked"]),
                key=lambda p: (p["co_due"] is None, p["co_due"] or "", p["unit_id"], p["pk"]))
    url = reverse("suggestions:co_opinion", args=[suggestion.pk])
    for (_unit, due), group in itertools.groupby(co, key=lambda p: (p["unit_id"], p["co_due"])):
        messages.append(services.Message(Kind.CO_OPINION_REQUESTED, list(group), url,
                                          {"due": _iso(due)}))
    services.send(messages, suggestion=suggestion, actor=user, at=_when(params))


def _by_pk(person: dict) -> int:
    return person["pk"]


def on_request_return(suggestion: Suggestion, user, params: dict) -> None:
    services.notify(services.office(), Kind.RETURN_REQUESTED, suggestion=suggestion,
                    url=_detail(suggestion), actor=user, at=_when(params))


def on_request_extension(suggestion: Suggestion, user, params: dict) -> None:
    services.notify(services.office(), Kind.EXTENSION_REQUESTED, suggestion=suggestion,
                    url=_detail(suggestion), actor=user, at=_when(params))


def _unit_and_deputies(suggestion: Suggestion):
    return services.unit_staff([suggestion.lead_unit_id]) | services.deputies_of(suggestion)


def on_extension_granted(suggestion: Suggestion, user, params: dict) -> None:
    """approve_extension, or the office's own ``extend``: the unit and the deputies (the
    deadline they are told is the one in force, moved to a working day)."""
    services.notify(_unit_and_deputies(suggestion), Kind.DEADLINE_EXTENDED,
                    suggestion=suggestion, url=_detail(suggestion),
                    params={"due": _iso(suggestion.due_on)}, actor=user, at=_when(params))


def on_extension_refused(suggestion: Suggestion, user, params: dict) -> None:
    """The unit that asked. The request and its refusal stay between the office and the unit
    (internal moves, left out of the deputies' timeline): deputies are told of extensions."""
    services.notify(services.unit_staff([suggestion.lead_unit_id]), Kind.EXTENSION_REFUSED,
                    suggestion=suggestion, url=_detail(suggestion), actor=user,
                    at=_when(params))


def on_rehandle(suggestion: Suggestion, user, params: dict) -> None:
    """不满意: the office and the lead unit's staff; the new due date is set by now."""
    services.notify(
        services.office() | services.unit_staff([suggestion.lead_unit_id]), Kind.REHANDLING,
        suggestion=suggestion, url=_detail(suggestion), params={"due": _iso(suggestion.due_on)},
        actor=user, at=_when(params),
    )


def on_log_consultation(suggestion: Suggestion, user, params: dict) -> None:
    """The deputy named on the new record, if it awaits their confirmation and they have a
    login. The suggestion is locked by the move, so its newest record is the one just made."""
    record = (Consultation.objects.filter(suggestion=suggestion).select_related("deputy")
              .order_by("-pk").first())
    if record is None or record.signature != Signature.PENDING or not record.deputy.user_id:
        return
    services.notify(
        services.users().filter(pk=record.deputy.user_id), Kind.CONSULTATION_TO_CONFIRM,
        suggestion=suggestion, url=reverse("consultations:detail", args=[record.pk]),
        actor=user, at=_when(params),
    )


# --- On the reply's moves ---

def on_submit(reply: Reply, user, params: dict) -> None:
    """Awaiting sign-off: the issuing unit's heads."""
    services.notify(
        services.unit_staff([reply.issuing_unit_id], roles=["head"]), Kind.AWAITING_SIGNOFF,
        suggestion=reply.suggestion, url=reverse("replies:detail", args=[reply.pk]),
        actor=user, at=_when(params),
    )


def on_return(reply: Reply, user, params: dict) -> None:
    """Returned for revision: the drafter (the unit's handlers if the drafter is unknown)."""
    if reply.created_by_id:
        recipients = services.users().filter(pk=reply.created_by_id)
    else:
        recipients = services.unit_staff([reply.issuing_unit_id], roles=["handler"])
    services.notify(recipients, Kind.REPLY_RETURNED, suggestion=reply.suggestion,
                    url=reverse("replies:edit", args=[reply.pk]), actor=user, at=_when(params))


def on_send(reply: Reply, user, params: dict) -> None:
    """Sent: every deputy on the suggestion who has a login, with a link to the letter."""
    suggestion = reply.suggestion
    services.notify(services.deputies_of(suggestion), Kind.REPLY_SENT, suggestion=suggestion,
                    url=reverse("replies:detail", args=[reply.pk]), actor=user,
                    at=_when(params))


SUGGESTION_HOOKS = {
    "assign": [on_assign],
    "reassign": [on_assign],
    "request_return": [on_request_return],
    "rehandle": [on_rehandle],
    "log_consultation": [on_log_consultation],
    # The office's own extension (with written approval) is a decision too.
    "extend": [on_extension_granted],
}
# Extension on the unit's request (the working-day calendar's moves), when they are declared.
EXTENSION_HOOKS = {
    "request_extension": [on_request_extension],
    "approve_extension": [on_extension_granted],
    "refuse_extension": [on_extension_refused],
}
REPLY_HOOKS = {
    "submit": [on_submit],
    "return": [on_return],
    "send": [on_send],
}


def _extend(machine: rules.Machine, hooks: dict[str, list]) -> list[str]:
    hooked = []
    for name, effects in hooks.items():
        move = machine.moves.get(name)
        if move is None:
            continue
        new = [effect for effect in effects if effect not in move.effects]  # ready() twice
        if new:
            machine.extend(name, effects=new)
        hooked.append(name)
    return hooked


def install(suggestion_machine: rules.Machine | None = None,
            reply_machine: rules.Machine | None = None) -> list[str]:
    """Add the notifications to the moves; returns the names of the moves hooked."""
    suggestion_machine = suggestion_machine or rules.machine(Suggestion)
    reply_machine = reply_machine or rules.machine(Reply)
    # The notifications name the suggestion (str(suggestion): its session's name): loaded
    # with the locked row rather than by one more query per move.
    suggestion_machine.load_related("session")
    reply_machine.load_related("suggestion__session")
    # Many moves together (an import): their notifications written once, at the end.
    rules.batch_with(services.written_together)
    hooked = _extend(suggestion_machine, SUGGESTION_HOOKS)
    extension = _extend(suggestion_machine, EXTENSION_HOOKS)
    if not extension:
        logger.debug("No extension request moves: only the office's 'extend' notifies.")
    hooked += extension
    hooked += [f"reply.{name}" for name in _extend(reply_machine, REPLY_HOOKS)]
    return hooked
