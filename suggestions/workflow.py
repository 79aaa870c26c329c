"""The suggestion's moves, declared as data for the rule engine (``core.rules``).

Who may assign, accept, ask for a return, reassign, extend, waive, close…, from which
statuses, on which suggestions, and what each changes. Views and templates ask
``rules.available_moves`` and call ``rules.run``; nothing else changes ``Suggestion.status``.
The apps above add their own moves to this machine (drafting a reply, logging a consultation).
"""

from __future__ import annotations

import calendar
import datetime

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from core import rules
from core.roles import Role, user_unit_id
from core.rules import EVERYTHING, Move, Scope, WorkflowError

from .models import AWAITING_REPLY, CoHandling, Event, HandlingUnit, Rating, Status, Suggestion


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


def describe_changes(before: dict, after: dict, labels: dict) -> str:
    """标题：旧 → 新; one line per changed field, for the audit trail."""
    lines = []
    for name, label in labels.items():
        old, new = before.get(name), after.get(name)
        if old != new:
            lines.append(f"{label}：{_short(old)} → {_short(new)}")
    return "\n".join(lines)


def _short(value) -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, list | tuple | set):
        return "、".join(sorted(str(v) for v in value)) or "—"
    text = str(value)
    return text if len(text) <= 200 else text[:200] + "…"


# --- Scopes: which suggestions a role may touch, as Q objects over Suggestion ---

def _nothing() -> Q:
    return Q(pk__in=[])


def _lead_unit(user) -> Q:
    unit = user_unit_id(user)
    return Q(lead_unit_id=unit) if unit else _nothing()


def _co_unit(user) -> Q:
    unit = user_unit_id(user)
    if not unit:
        return _nothing()
    return Q(Exists(CoHandling.objects.filter(suggestion=OuterRef("pk"), unit_id=unit)))


def _own_suggestion(user) -> Q:
    deputy = getattr(user, "deputy", None)
    if deputy is None:
        return _nothing()
    cosigned = Suggestion.co_deputies.through.objects.filter(
        suggestion_id=OuterRef("pk"), deputy_id=deputy.pk
    )
    return Q(lead_deputy_id=deputy.pk) | Q(Exists(cosigned))


LEAD_UNIT = Scope("lead_unit", _lead_unit, gettext_lazy("Only the lead handling unit can do this."))
CO_UNIT = Scope("co_unit", _co_unit, gettext_lazy("Only a co-handling unit can do this."))
OWN_SUGGESTION = Scope(
    "own_suggestion", _own_suggestion,
    gettext_lazy("Only the deputies of this suggestion can do this."),
)

COORDINATORS = {Role.OFFICE: EVERYTHING, Role.ADMIN: EVERYTHING}
LEAD_STAFF = {Role.HANDLER: LEAD_UNIT, Role.HEAD: LEAD_UNIT}
CO_STAFF = {Role.HANDLER: CO_UNIT, Role.HEAD: CO_UNIT}
DEPUTIES = {Role.DEPUTY: OWN_SUGGESTION}
OPEN_FOR_HANDLING = frozenset({Status.HANDLING, Status.REHANDLING})
ALL_STATUSES = frozenset(Status.values)


def _today(params: dict) -> datetime.date:
    return params.get("on") or timezone.localdate()


# --- Checks and effects ---

def _check_assign(suggestion: Suggestion, user, params: dict) -> None:
    unit = params.get("unit") or suggestion.lead_unit
    if unit is None:
        raise WorkflowError(_("Choose the lead handling unit before assigning."))
    co_units = params.get("co_units") or []
    if any(co.pk == unit.pk for co in co_units):
        raise WorkflowError(_("The lead unit cannot also be a co-handling unit."))


def _apply_assign(suggestion: Suggestion, user, params: dict) -> None:
    unit: HandlingUnit = params.get("unit") or suggestion.lead_unit
    day = _today(params)
    params["previous_unit_id"] = suggestion.lead_unit_id
    params.setdefault("label", unit.name)
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


def _check_request_return(suggestion: Suggestion, user, params: dict) -> None:
    if suggestion.assigned_on is None:
        return
    limit = add_working_days(suggestion.assigned_on, settings.RETURN_REQUEST_WORKING_DAYS)
    if _today(params) > limit:
        raise WorkflowError(
            _("A return can only be requested within %(days)d working days of assignment "
              "(until %(limit)s); ask the congress office directly.")
            % {"days": settings.RETURN_REQUEST_WORKING_DAYS, "limit": limit.isoformat()}
        )


def _check_reassign(suggestion: Suggestion, user, params: dict) -> None:
    unit = params.get("unit")
    if unit is None:
        raise WorkflowError(_("Choose the unit to reassign the suggestion to."))
    if suggestion.co_handlings.filter(unit=unit).exists():
        raise WorkflowError(_("The lead unit cannot also be a co-handling unit."))


def _apply_accept(suggestion: Suggestion, user, params: dict) -> None:
    suggestion.accepted_on = _today(params)


def _check_reply(suggestion: Suggestion, user, params: dict) -> None:
    reply = params.get("reply")
    if reply is None or reply.signed_at is None:
        raise WorkflowError(_("Only a signed reply can be sent."))


def _apply_reply(suggestion: Suggestion, user, params: dict) -> None:
    """The figures offices report, kept on the row so a list of 10^5 costs no subqueries."""
    reply = params["reply"]
    day = timezone.localtime(params.get("at") or timezone.now()).date()
    suggestion.handling_result = reply.category or ""
    suggestion.replied_on = day
    if suggestion.due_on is None or day <= suggestion.due_on:
        suggestion.replied_on_time = True
    params.setdefault("label", str(reply))


def _apply_rehandle(suggestion: Suggestion, user, params: dict) -> None:
    suggestion.due_on = add_months(_today(params), settings.REHANDLING_DUE_MONTHS)


def _check_extend(suggestion: Suggestion, user, params: dict) -> None:
    new_due = params.get("new_due")
    if new_due is None:
        raise WorkflowError(_("Choose the new due date."))
    limit = add_months(suggestion.assigned_on, settings.REPLY_MAX_EXTENDED_MONTHS)
    if suggestion.due_on and new_due <= suggestion.due_on:
        raise WorkflowError(_("The new due date must be later than the current one."))
    if new_due > limit:
        raise WorkflowError(
            _("The deadline can be extended to %(limit)s at the latest.") % {"limit": limit}
        )


def _apply_extend(suggestion: Suggestion, user, params: dict) -> None:
    params["label"] = f"{suggestion.due_on} → {params['new_due']}"
    suggestion.due_on, suggestion.due_extended = params["new_due"], True


def _apply_key_supervision(suggestion: Suggestion, user, params: dict) -> None:
    on = bool(params.get("on"))
    suggestion.key_supervision = on
    params["label"] = _("Key supervision on") if on else _("Key supervision off")


def _awaited_opinions(user) -> Q:
    awaited = CoHandling.objects.filter(
        suggestion=OuterRef("pk"), required=True, submitted_at__isnull=True
    )
    return Q(co_opinions_waived=False) & Q(Exists(awaited))


def _apply_waive(suggestion: Suggestion, user, params: dict) -> None:
    suggestion.co_opinions_waived = True


def _check_co_opinion(suggestion: Suggestion, user, params: dict) -> None:
    if not (params.get("opinion") or "").strip():
        raise WorkflowError(_("The opinion cannot be empty."))


def _apply_co_opinion(suggestion: Suggestion, user, params: dict) -> CoHandling:
    co = CoHandling.objects.select_for_update().get(suggestion=suggestion, unit_id=user_unit_id(user))
    co.opinion = params["opinion"].strip()
    co.submitted_at = params.get("at") or timezone.now()
    co.submitted_by = user
    co.save()
    params["label"] = co.unit.name
    return co


EDIT_LABELS = {
    "title": gettext_lazy("title"), "content": gettext_lazy("main content"),
    "topic": gettext_lazy("category"), "submitted_on": gettext_lazy("submitted on"),
    "lead_deputy": gettext_lazy("lead deputy"), "co_deputies": gettext_lazy("co-signing deputies"),
    "disclosure": gettext_lazy("disclosure"), "number": gettext_lazy("number"),
    "session": pgettext_lazy("congress session", "session"),
}


def _apply_edit(suggestion: Suggestion, user, params: dict) -> None:
    """Save the intake form's changes; the event says what changed (old → new)."""
    form = params["form"]
    before = snapshot(suggestion)
    form.instance = suggestion
    for name, value in form.cleaned_data.items():
        if name in EDIT_LABELS and name != "co_deputies":
            setattr(suggestion, name, value)
    suggestion.save()
    if "co_deputies" in form.cleaned_data:
        suggestion.co_deputies.set(form.cleaned_data["co_deputies"])
    after = snapshot(suggestion)
    params["changes"] = describe_changes(before, after, {k: str(v) for k, v in EDIT_LABELS.items()})


def snapshot(suggestion: Suggestion) -> dict:
    """The editable fields as text, to log what an edit changed."""
    from core.sanitize import html_to_text

    return {
        "title": suggestion.title, "content": html_to_text(suggestion.content),
        "topic": suggestion.get_topic_display() if suggestion.topic else "",
        "submitted_on": suggestion.submitted_on, "number": suggestion.number,
        "session": str(suggestion.session), "lead_deputy": str(suggestion.lead_deputy),
        "co_deputies": [d.name for d in suggestion.co_deputies.all()],
        "disclosure": suggestion.get_disclosure_display(),
    }


def _log(suggestion: Suggestion, *, user, move: Move, source: str, note: str, params: dict) -> None:
    if params.get("changes") is not None and not params["changes"]:
        return  # an edit that changed nothing
    text = "\n".join(part for part in (params.get("changes") or "", note) if part)
    record_event(
        suggestion, actor=user, action=move.action, note=text,
        from_status=source if move.target else "", to_status=move.target or "",
        internal=move.internal, at=params.get("at"), object_label=str(params.get("label") or ""),
    )


MACHINE = rules.machine(Suggestion, log=_log)
MACHINE.add(
    Move("assign", gettext_lazy("Assign"), frozenset({Status.REGISTERED}), Status.ASSIGNED,
         COORDINATORS, checks=(_check_assign,), effects=(_apply_assign,),
         ui="link:suggestions:assign", primary=True),
    Move("accept", gettext_lazy("Accept assignment"), frozenset({Status.ASSIGNED}),
         Status.HANDLING, LEAD_STAFF, effects=(_apply_accept,), primary=True),
    Move("request_return", gettext_lazy("Request return"), frozenset({Status.ASSIGNED}),
         Status.RETURN_REQUESTED, LEAD_STAFF, needs_note=True, checks=(_check_request_return,)),
    Move("reject_return", gettext_lazy("Keep with this unit"),
         frozenset({Status.RETURN_REQUESTED}), Status.ASSIGNED, COORDINATORS, needs_note=True),
    Move("reassign", gettext_lazy("Reassign"),
         frozenset({Status.ASSIGNED, Status.RETURN_REQUESTED, Status.HANDLING}),
         Status.ASSIGNED, COORDINATORS, checks=(_check_reassign,), effects=(_apply_assign,),
         ui="link:suggestions:assign"),
    # Made by sending a signed reply (replies), never on its own.
    Move("reply", gettext_lazy("Mark reply as sent"), OPEN_FOR_HANDLING, Status.REPLIED,
         LEAD_STAFF | COORDINATORS, checks=(_check_reply,), effects=(_apply_reply,), ui=""),
    # Made by a deputy's rating (replies), never on its own.
    Move("evaluate", gettext_lazy("Evaluate"), frozenset({Status.REPLIED}), Status.EVALUATED,
         DEPUTIES | COORDINATORS, ui=""),
    Move("rehandle", gettext_lazy("Re-handle after an unsatisfied rating"),
         frozenset({Status.REPLIED, Status.EVALUATED}), Status.REHANDLING,
         DEPUTIES | COORDINATORS, effects=(_apply_rehandle,), ui=""),
    Move("close", pgettext_lazy("workflow move", "Close"), frozenset({Status.EVALUATED, Status.REPLIED}),
         Status.CLOSED, COORDINATORS,
         confirm=gettext_lazy("Close this suggestion? Handling ends and it can no longer change.")),
    Move("extend", gettext_lazy("Extend the deadline"),
         frozenset({Status.ASSIGNED, Status.HANDLING, Status.REHANDLING}), None, COORDINATORS,
         where=lambda user: Q(due_extended=False),
         where_refusal=gettext_lazy("The deadline has already been extended once."),
         needs_note=True, checks=(_check_extend,), effects=(_apply_extend,),
         ui="link:suggestions:extend"),
    Move("edit", gettext_lazy("Edit"), frozenset({Status.REGISTERED, Status.ASSIGNED}), None,
         COORDINATORS, effects=(_apply_edit,), ui="link:suggestions:edit", save_fields=()),
    Move("key_supervision", gettext_lazy("Key supervision changed"), ALL_STATUSES, None,
         COORDINATORS, effects=(_apply_key_supervision,), ui="",
         save_fields=("key_supervision",)),
    Move("waive_co_opinions", gettext_lazy("Waive co-handling opinions"), AWAITING_REPLY, None,
         COORDINATORS, where=_awaited_opinions,
         where_refusal=gettext_lazy("No co-handling opinion is awaited."),
         needs_note=True, effects=(_apply_waive,), save_fields=("co_opinions_waived",)),
    Move("co_opinion", gettext_lazy("Co-handling opinion submitted"),
         frozenset({Status.ASSIGNED, Status.HANDLING, Status.REHANDLING}), None, CO_STAFF,
         checks=(_check_co_opinion,), effects=(_apply_co_opinion,),
         ui="link:suggestions:co_opinion", save_fields=()),
)


def may_register(user) -> bool:
    """Registering creates a suggestion, so no object's moves can answer it."""
    from core.roles import is_coordinator

    return is_coordinator(user)


def transition(suggestion: Suggestion, *, name: str, user, note: str = "", **params):
    """Make move ``name`` on ``suggestion``; see ``core.rules.run``."""
    return rules.run(suggestion, name, user=user, note=note, **params)


# Events that are not moves of any machine, for their labels on the timeline.
OTHER_ACTIONS = {
    "register": gettext_lazy("Registered"),
    "consultation_edited": gettext_lazy("Consultation record changed"),
    "reply_created": gettext_lazy("Reply drafted"),
    "reply_edited": gettext_lazy("Reply draft changed"),
    "reply_withdrawn": gettext_lazy("Unsigned reply withdrawn"),
    "pdf_export": gettext_lazy("PDF downloaded"),
    "bulk_export": gettext_lazy("Exported in bulk"),
    "report_export": gettext_lazy("Figures exported to Excel"),
    "attachment": gettext_lazy("Attachment uploaded"),
    "evaluation": gettext_lazy("Deputy's evaluation"),
    "admin_change": gettext_lazy("Changed in the administration"),
    "link": gettext_lazy("Linked as similar"),
    "import": gettext_lazy("Imported an assignment list"),
}
# Downloads are audited, but they are not steps of the suggestion's handling.
DOWNLOAD_ACTIONS = frozenset({"pdf_export", "bulk_export", "report_export"})


def known_actions() -> set[str]:
    names = set(OTHER_ACTIONS)
    for machine in rules.machines():
        names |= {move.action for move in machine.moves.values()}
    return names


def action_label(action: str) -> str:
    for machine in rules.machines():
        for move in machine.moves.values():
            if move.action == action:
                return str(move.label)
    return str(OTHER_ACTIONS.get(action, _("Other change")))


def deciding_rating(ratings: list[tuple[int, str]], lead_deputy_id: int) -> str:
    """The rating of a reply that counts: for re-handling and for the 满意率 figures alike.

    ``ratings`` are (deputy id, result) pairs of the deputies who rated the reply. By default
    (REHANDLING_TRIGGER=lead) the lead deputy's rating of the result counts; with ``any``, the
    least satisfied rating of any deputy on the suggestion.
    """
    if settings.REHANDLING_TRIGGER == "any":
        order = [Rating.UNSATISFIED, Rating.BASICALLY, Rating.SATISFIED]
        results = {result for _deputy, result in ratings}
        return next((r for r in order if r in results), "")
    return next((result for deputy, result in ratings if deputy == lead_deputy_id), "")
