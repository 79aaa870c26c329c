"""The suggestion's moves, declared as data for the rule engine (``core.rules``).

Who may assign, accept, ask for a return, reassign, extend, waive, close…, from which
statuses, on which suggestions, and what each changes. Views and templates ask
``rules.available_moves`` and call ``rules.run``; nothing else changes ``Suggestion.status``.
The apps above add their own moves to this machine (drafting a reply, logging a consultation).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from core import calendar as workcal
from core import rules
from core.calendar import add_months  # noqa: F401  (where the workflow's callers found it)
from core.formatting import chinese_date
from core.roles import Role, user_unit_id
from core.rules import EVERYTHING, Move, Scope, WorkflowError

from .models import (
    AWAITING_REPLY,
    CoHandling,
    DueRule,
    Event,
    ExtensionRequest,
    HandlingUnit,
    Rating,
    Status,
    Suggestion,
)


def add_working_days(day: datetime.date, days: int) -> datetime.date:
    """The ``days``-th working day after ``day`` on China's working calendar (core.calendar)."""
    return workcal.add_working_days(day, days)


# --- Deadlines: computed on the working calendar, kept with what they run from ---

# How the explanation names what a limit runs from (交办 2026年7月1日 + 3个月 = …).
DUE_LABELS = {
    DueRule.ASSIGN: pgettext_lazy("deadline basis", "Assigned"),
    DueRule.REASSIGN: pgettext_lazy("deadline basis", "Reassigned"),
    DueRule.REHANDLE: pgettext_lazy("deadline basis", "Re-handling from"),
    DueRule.EXTENSION: pgettext_lazy("deadline basis", "Extended"),
}
CO_OPINION_LABEL = DUE_LABELS[DueRule.ASSIGN]


def set_due(suggestion: Suggestion, rule: str, basis: datetime.date, months: int | None = None,
            *, calendar: workcal.WorkCalendar | None = None) -> workcal.Deadline:
    """Set the suggestion's due date by ``rule`` from ``basis`` (+ ``months``), moved off days
    off, and keep what it was computed from."""
    deadline = workcal.deadline(basis, months, label=DUE_LABELS[rule], calendar=calendar)
    suggestion.due_rule, suggestion.due_basis, suggestion.due_months = rule, basis, months
    suggestion.due_on = deadline.due
    return deadline


def due_deadline(suggestion: Suggestion, *, calendar: workcal.WorkCalendar | None = None
                 ) -> workcal.Deadline | None:
    """The suggestion's due date as the calendar computes it now; None when it was not
    computed (set before the calendar was kept, or not assigned)."""
    if not suggestion.due_rule or suggestion.due_basis is None:
        return None
    return workcal.deadline(suggestion.due_basis, suggestion.due_months,
                            label=DUE_LABELS.get(suggestion.due_rule, ""), calendar=calendar)


def due_explanation(suggestion: Suggestion) -> str:
    """How the due date in force was computed (shown under it): 交办 2026年7月1日
    + 3个月 = 2026年10月1日（国庆节假期），顺延至2026年10月8日. Empty when unknown."""
    deadline = due_deadline(suggestion)
    if deadline is None or deadline.due != suggestion.due_on:
        return ""
    return deadline.explanation()


def co_opinion_deadline(co: CoHandling, *, calendar: workcal.WorkCalendar | None = None
                        ) -> workcal.Deadline | None:
    if co.due_basis is None or co.due_months is None:
        return None
    return workcal.deadline(co.due_basis, co.due_months, label=CO_OPINION_LABEL, calendar=calendar)


def extension_limit(suggestion: Suggestion) -> datetime.date | None:
    """The latest due date an extension may give: REPLY_MAX_EXTENDED_MONTHS from assignment,
    on the next working day when that is a day off."""
    if suggestion.assigned_on is None:
        return None
    return workcal.deadline(suggestion.assigned_on, settings.REPLY_MAX_EXTENDED_MONTHS).due


def pending_extension(suggestion: Suggestion) -> ExtensionRequest | None:
    return suggestion.extension_requests.filter(decision=ExtensionRequest.Decision.PENDING).first()


def _withdraw_extension_requests(suggestion: Suggestion) -> None:
    """A new unit, a reply sent or a new round of handling: a pending request is moot."""
    suggestion.extension_requests.filter(decision=ExtensionRequest.Decision.PENDING).update(
        decision=ExtensionRequest.Decision.WITHDRAWN, decided_at=timezone.now(),
    )


def _deadline_moved(suggestion_id: int, old: datetime.date, deadline: workcal.Deadline, actor,
                    now, **fields) -> Event:
    """The log entry of a deadline the calendar moved: old → new, and how."""
    return Event(suggestion_id=suggestion_id, actor=actor, action="deadline_recomputed", at=now,
                 note=f"{chinese_date(old)} → {chinese_date(deadline.due)}\n"
                      f"{deadline.explanation()}", **fields)


@transaction.atomic
def recompute_deadlines(dates: frozenset[datetime.date] = frozenset(), *, actor=None) -> int:
    """The working calendar changed on ``dates`` (every date when empty): move the open
    deadlines computed on it (suggestions awaiting a reply, co-unit opinions awaited), and log
    each move on its suggestion (old → new, and how). Replied and closed suggestions, and due
    dates that were not computed, are left alone. Returns how many deadlines moved."""
    # The log is written in the bureau's language, whoever changed the calendar.
    with translation.override(settings.LANGUAGE_CODE):
        cal = workcal.WorkCalendar().load()
        since = min(dates) if dates else None
        now = timezone.now()
        events, moved = [], []
        suggestions = Suggestion.objects.select_for_update().filter(
            status__in=AWAITING_REPLY, due_basis__isnull=False, due_on__isnull=False,
        ).exclude(due_rule="").only("pk", "due_on", "due_rule", "due_basis", "due_months")
        if since:
            suggestions = suggestions.filter(due_on__gte=since)
        for suggestion in suggestions.order_by("pk"):
            deadline = due_deadline(suggestion, calendar=cal)
            if deadline is None or deadline.due == suggestion.due_on:
                continue
            events.append(_deadline_moved(suggestion.pk, suggestion.due_on, deadline, actor, now))
            suggestion.due_on, suggestion.updated_at = deadline.due, now
            moved.append(suggestion)
        Suggestion.objects.bulk_update(moved, ["due_on", "updated_at"], batch_size=500)
        co_moved = []
        co_handlings = CoHandling.objects.select_for_update().filter(
            suggestion__status__in=AWAITING_REPLY, suggestion__co_opinions_waived=False,
            submitted_at__isnull=True, due_basis__isnull=False, due_months__isnull=False,
        ).select_related("unit")
        if since:
            co_handlings = co_handlings.filter(due_on__gte=since)
        for co in co_handlings.order_by("pk"):
            deadline = co_opinion_deadline(co, calendar=cal)
            if deadline is None or deadline.due == co.due_on:
                continue
            events.append(_deadline_moved(co.suggestion_id, co.due_on, deadline, actor, now,
                                          internal=True, object_label=co.unit.name[:200]))
            co.due_on = deadline.due
            co_moved.append(co)
        CoHandling.objects.bulk_update(co_moved, ["due_on"], batch_size=500)
        Event.objects.bulk_create(events, batch_size=500)
        return len(moved) + len(co_moved)


def _calendar_changed(sender, dates=frozenset(), actor=None, **kwargs) -> int:
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return recompute_deadlines(dates, actor=actor)


workcal.calendar_changed.connect(_calendar_changed, dispatch_uid="suggestions.recompute_deadlines")


def record_event(
    suggestion: Suggestion | None, *, actor, action: str, note: str = "",
    from_status: str = "", to_status: str = "", internal: bool = False, object_label: str = "",
    at: datetime.datetime | None = None,
) -> Event:
    event = new_event(suggestion, actor=actor, action=action, note=note, from_status=from_status,
                      to_status=to_status, internal=internal, object_label=object_label, at=at)
    event.save()
    return event


def new_event(suggestion: Suggestion | None, *, actor, action: str, note: str = "",
              from_status: str = "", to_status: str = "", internal: bool = False,
              object_label: str = "", at: datetime.datetime | None = None) -> Event:
    """The event record_event writes, unsaved (for a bulk insert of many)."""
    return Event(
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
    """Assign or reassign. ``calendar`` (optional): a WorkCalendar shared by many moves of one
    transaction (an import), so its days are read once, not per suggestion."""
    unit: HandlingUnit = params.get("unit") or suggestion.lead_unit
    day = _today(params)
    params["previous_unit_id"] = suggestion.lead_unit_id
    params.setdefault("label", unit.name)
    # Registered suggestions never had a unit: nothing of an earlier assignment to undo
    # (co-handling rows and extension requests are only made once assigned).
    first = suggestion.status == Status.REGISTERED
    rule = DueRule.ASSIGN if first else DueRule.REASSIGN
    suggestion.lead_unit = unit
    suggestion.assigned_on = day
    suggestion.accepted_on = None
    cal = params.get("calendar") or workcal.WorkCalendar()
    set_due(suggestion, rule, day, settings.REPLY_DUE_MONTHS, calendar=cal)
    suggestion.due_extended = False
    if not first:
        _withdraw_extension_requests(suggestion)
    if "co_units" in params:
        _set_co_handlings(suggestion, params["co_units"], day, cal, first=first)


def _set_co_handlings(suggestion: Suggestion, units: list[HandlingUnit], day: datetime.date,
                      cal: workcal.WorkCalendar, *, first: bool) -> None:
    """Co-handling by ``units`` from ``day``: units no longer named are removed, new ones
    added (in one insert) with their opinion due date; those kept keep theirs."""
    wanted = {co.pk: co for co in units}
    existing: set[int] = set()
    if not first:
        suggestion.co_handlings.exclude(unit_id__in=wanted).delete()
        existing = set(suggestion.co_handlings.values_list("unit_id", flat=True))
    added = [co for pk, co in wanted.items() if pk not in existing]
    if not added:
        return
    months = settings.CO_OPINION_DUE_MONTHS
    due = workcal.deadline(day, months, calendar=cal).due
    CoHandling.objects.bulk_create([
        CoHandling(suggestion=suggestion, unit=co, due_basis=day, due_months=months, due_on=due)
        for co in added
    ])


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
    _withdraw_extension_requests(suggestion)


def _apply_rehandle(suggestion: Suggestion, user, params: dict) -> None:
    set_due(suggestion, DueRule.REHANDLE, _today(params), settings.REHANDLING_DUE_MONTHS)
    _withdraw_extension_requests(suggestion)


def _check_new_due(suggestion: Suggestion, new_due: datetime.date | None) -> None:
    """An extension's date: later than the due date in force, at most
    REPLY_MAX_EXTENDED_MONTHS from assignment."""
    if new_due is None:
        raise WorkflowError(_("Choose the new due date."))
    limit = extension_limit(suggestion)
    if suggestion.due_on and new_due <= suggestion.due_on:
        raise WorkflowError(_("The new due date must be later than the current one."))
    if limit is not None and new_due > limit:
        raise WorkflowError(
            _("The deadline can be extended to %(limit)s at the latest.") % {"limit": limit}
        )


def _check_no_request_pending(suggestion: Suggestion, user, params: dict) -> None:
    if pending_extension(suggestion) is not None:
        raise WorkflowError(
            _("The unit's extension request awaits a decision: approve or refuse it first.")
        )


def _check_extend(suggestion: Suggestion, user, params: dict) -> None:
    _check_new_due(suggestion, params.get("new_due"))


def _extend_to(suggestion: Suggestion, new_due: datetime.date, params: dict) -> None:
    """The extension in force: due on ``new_due``, or the next working day after it."""
    old = suggestion.due_on
    set_due(suggestion, DueRule.EXTENSION, new_due)
    suggestion.due_extended = True
    params["label"] = f"{old} → {suggestion.due_on}"


def _apply_extend(suggestion: Suggestion, user, params: dict) -> None:
    _extend_to(suggestion, params["new_due"], params)


def _check_request_extension(suggestion: Suggestion, user, params: dict) -> None:
    if not (params.get("reason") or "").strip():
        raise WorkflowError(_("Please give a reason."))
    _check_new_due(suggestion, params.get("new_due"))


def _apply_request_extension(suggestion: Suggestion, user, params: dict) -> ExtensionRequest:
    request = ExtensionRequest.objects.create(
        suggestion=suggestion, proposed_due=params["new_due"], reason=params["reason"].strip(),
        requested_by=user, requested_at=params.get("at") or timezone.now(),
    )
    params["label"] = _("to %(date)s") % {"date": chinese_date(request.proposed_due)}
    params["log_note"] = request.reason
    return request


def _decide_extension(suggestion: Suggestion, user, params: dict, decision: str) -> ExtensionRequest:
    request = ExtensionRequest.objects.select_for_update().get(
        suggestion=suggestion, decision=ExtensionRequest.Decision.PENDING
    )
    request.decision, request.decided_by = decision, user
    request.decided_at = params.get("at") or timezone.now()
    return request


def _check_approve_extension(suggestion: Suggestion, user, params: dict) -> None:
    request = pending_extension(suggestion)
    _check_new_due(suggestion, params.get("new_due") or (request.proposed_due if request else None))


def _apply_approve_extension(suggestion: Suggestion, user, params: dict) -> ExtensionRequest:
    request = _decide_extension(suggestion, user, params, ExtensionRequest.Decision.APPROVED)
    _extend_to(suggestion, params.get("new_due") or request.proposed_due, params)
    request.granted_due = suggestion.due_on
    request.save()
    return request


def _apply_refuse_extension(suggestion: Suggestion, user, params: dict) -> ExtensionRequest:
    request = _decide_extension(suggestion, user, params, ExtensionRequest.Decision.REFUSED)
    request.save()
    params["label"] = _("to %(date)s") % {"date": chinese_date(request.proposed_due)}
    return request


def _pending_extension_q() -> Q:
    return Q(Exists(ExtensionRequest.objects.filter(
        suggestion=OuterRef("pk"), decision=ExtensionRequest.Decision.PENDING,
    )))


def _may_extend(user) -> Q:
    """Not extended yet, and no request awaiting the office's decision."""
    return Q(due_extended=False) & ~_pending_extension_q()


def _extension_pending(user) -> Q:
    return _pending_extension_q()


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
    text = "\n".join(part for part in (params.get("changes") or "", params.get("log_note") or "", note)
                     if part)
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
    # The office's own extension (with written approval). Its page decides a unit's request
    # instead when one is pending (approve_extension below).
    Move("extend", gettext_lazy("Extend the deadline"),
         frozenset({Status.ASSIGNED, Status.HANDLING, Status.REHANDLING}), None, COORDINATORS,
         where=lambda user: Q(due_extended=False),
         where_refusal=gettext_lazy("The deadline has already been extended once."),
         needs_note=True, checks=(_check_no_request_pending, _check_extend),
         effects=(_apply_extend,), ui="link:suggestions:extend"),
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


# Extension on the unit's request (the office decides; every deputy is told of an approval).
# request_extension takes new_due (the proposed date) and reason; approve_extension an optional
# new_due (default: the proposed date) and a note; refuse_extension a note (the reason).
MACHINE.add(
    Move("request_extension", gettext_lazy("Request an extension"), OPEN_FOR_HANDLING, None,
         LEAD_STAFF, where=_may_extend,
         where_refusal=gettext_lazy(
             "The deadline has already been extended once, or an extension request awaits "
             "the congress office's decision."),
         checks=(_check_request_extension,), effects=(_apply_request_extension,),
         internal=True, ui="link:suggestions:extend", save_fields=()),
    # Made on the office's extension page (suggestions:extend, offered as "extend"), which
    # shows the unit's request while one is pending.
    Move("approve_extension", gettext_lazy("Approve the extension"), OPEN_FOR_HANDLING, None,
         COORDINATORS, where=_extension_pending,
         where_refusal=gettext_lazy("No extension request awaits a decision."),
         checks=(_check_approve_extension,), effects=(_apply_approve_extension,), ui=""),
    Move("refuse_extension", gettext_lazy("Refuse the extension"), OPEN_FOR_HANDLING, None,
         COORDINATORS, where=_extension_pending,
         where_refusal=gettext_lazy("No extension request awaits a decision."),
         needs_note=True, effects=(_apply_refuse_extension,), internal=True, save_fields=()),
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
    "ledger_export": gettext_lazy("Ledger downloaded"),
    "attachment": gettext_lazy("Attachment uploaded"),
    "evaluation": gettext_lazy("Deputy's evaluation"),
    "admin_change": gettext_lazy("Changed in the administration"),
    "link": gettext_lazy("Linked as similar"),
    "deadline_recomputed": gettext_lazy("Deadline recomputed on the working calendar"),
    "import": gettext_lazy("Imported an assignment list"),
}
# Downloads are audited, but they are not steps of the suggestion's handling.
DOWNLOAD_ACTIONS = frozenset({"pdf_export", "bulk_export", "report_export", "ledger_export"})


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
