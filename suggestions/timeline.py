"""The suggestion's timeline as each role may see it.

Deputies see the public steps in plain language, without internal notes; staff see it all.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from core.roles import Role, role_of

from .models import Event, Suggestion
from .workflow import DOWNLOAD_ACTIONS


@dataclass
class Entry:
    at: object
    title: str
    actor: str
    note: str
    from_label: str
    to_label: str
    internal: bool


def _deputy_wording(event: Event) -> str:
    unit = event.object_label or (
        event.suggestion.lead_unit.name if event.suggestion.lead_unit else ""
    )
    wording = {
        "register": _("Your suggestion was registered."),
        "assign": _("Your suggestion was assigned to %(unit)s for handling.") % {"unit": unit},
        "reassign": _("Your suggestion was reassigned to %(unit)s.") % {"unit": unit},
        "accept": _("The handling unit accepted your suggestion and is working on it."),
        "extend": _("The deadline for the reply was extended."),
        "approve_extension": _("The deadline for the reply was extended."),
        "deadline_recomputed": _("The deadline for the reply moved with the working calendar."),
        "consultation": _("The handling unit met or contacted you about the suggestion."),
        "consultation_confirmed": _("You confirmed a consultation record."),
        "reply": _("The reply was sent to you."),
        "evaluate": _("Your evaluation of the reply was recorded."),
        "evaluation": _("A deputy's evaluation of the reply was recorded."),
        "rehandle": _("The suggestion went back to handling after an unsatisfied rating."),
        "close": _("Handling of your suggestion is finished."),
    }
    return wording.get(event.action, event.action_label)


def _actor_name(event: Event) -> str:
    from core.roles import display_name

    return display_name(event.actor) if event.actor else ""


def timeline_for(suggestion: Suggestion, user) -> list[Entry]:
    # Downloads are in the audit log (``audit_log``), not steps of the handling.
    events = suggestion.events.exclude(action__in=DOWNLOAD_ACTIONS).select_related(
        "actor__staff_member", "actor__deputy", "suggestion__lead_unit"
    ).order_by("at", "pk")
    if role_of(user) == Role.DEPUTY:
        return [
            Entry(e.at, _deputy_wording(e), "", "", "", "", False)
            for e in events.filter(internal=False)
            if e.action in {
                "register", "assign", "reassign", "accept", "extend", "approve_extension",
                "deadline_recomputed", "consultation",
                "consultation_confirmed", "reply", "evaluate", "evaluation", "rehandle", "close",
            }
        ]
    return [
        Entry(e.at, e.action_label, _actor_name(e), e.note, e.from_label, e.to_label, e.internal)
        for e in events
    ]
