"""Every move's source statuses (``sources``): possible from exactly these, refused otherwise.

For each move, an object in the scope of a role that may make it is put through every status
of its machine; out of the move's sources the move is refused with the status reason (and is
neither offered nor found by ``actionable``), in them it is never refused for its status.
A status added to or removed from a ``sources`` set turns a test here red.
"""

import pytest
from test_rules_world import assigned, draft, not_now, record, user

from consultations.models import Consultation, Signature
from core import rules
from replies.models import Reply, ReplyStatus
from suggestions.models import Status, Suggestion

S, R, C = Status, ReplyStatus, Signature
AFTER_ASSIGNMENT = {S.ASSIGNED, S.HANDLING, S.REHANDLING}
EXPECTED_SOURCES = {
    Suggestion: {
        "assign": {S.REGISTERED},
        "accept": {S.ASSIGNED},
        "request_return": {S.ASSIGNED},
        "reject_return": {S.RETURN_REQUESTED},
        "reassign": {S.ASSIGNED, S.RETURN_REQUESTED, S.HANDLING},
        "reply": {S.HANDLING, S.REHANDLING},
        "evaluate": {S.REPLIED},
        "rehandle": {S.REPLIED, S.EVALUATED},
        "close": {S.REPLIED, S.EVALUATED},
        "extend": AFTER_ASSIGNMENT,
        "request_extension": {S.HANDLING, S.REHANDLING},
        "approve_extension": {S.HANDLING, S.REHANDLING},
        "refuse_extension": {S.HANDLING, S.REHANDLING},
        "edit": {S.REGISTERED, S.ASSIGNED},
        "key_supervision": set(S.values),
        "link": set(S.values),
        "unlink": set(S.values),
        "waive_co_opinions": AFTER_ASSIGNMENT | {S.RETURN_REQUESTED},
        "co_opinion": AFTER_ASSIGNMENT,
        "draft_reply": {S.HANDLING, S.REHANDLING},
        # Consultations: from assignment until closed, but not while a return is requested.
        "log_consultation": AFTER_ASSIGNMENT | {S.REPLIED, S.EVALUATED},
    },
    Reply: {
        "edit": {R.DRAFT}, "submit": {R.DRAFT}, "return": {R.PENDING}, "sign": {R.PENDING},
        "send": {R.SIGNED}, "rate": {R.SENT}, "rate_paper": {R.SENT},
    },
    Consultation: {
        "edit": {C.PENDING, C.PAPER}, "confirm": {C.PENDING},
        "attach": {C.PENDING, C.PAPER, C.ONLINE},
    },
}
# Who tries each move: a role that may make it, on an object in its scope.
ACTOR = {
    Suggestion: {"accept": "staff", "request_return": "staff", "reply": "staff",
                 "request_extension": "staff",
                 "co_opinion": "agri_staff", "draft_reply": "staff", "log_consultation": "staff",
                 "evaluate": "deputy", "rehandle": "deputy"},
    Reply: {"return": "head", "sign": "head", "rate": "deputy", "rate_paper": "office"},
    Consultation: {"confirm": "deputy"},
}
DEFAULT_ACTOR = {Suggestion: "office", Reply: "staff", Consultation: "staff"}


def test_every_move_has_its_sources_written_here(demo):
    for model, expected in EXPECTED_SOURCES.items():
        assert set(rules.machine(model).moves) == set(expected), model.__name__


def subject(model):
    if model is Suggestion:
        return assigned()  # 工信局 leads, 农业农村局 co-handles, 苏红平's
    if model is Reply:
        return draft()
    return record()


@pytest.mark.parametrize("model", list(EXPECTED_SOURCES), ids=lambda m: m.__name__)
def test_moves_start_only_from_their_sources(demo, model):
    obj = subject(model)
    mach = rules.machine(model)
    statuses = [value for value, _label in model._meta.get_field(mach.status_field).choices]
    for name, sources in EXPECTED_SOURCES[model].items():
        actor = user(ACTOR[model].get(name, DEFAULT_ACTOR[model]))
        for status in statuses:
            model.objects.filter(pk=obj.pk).update(**{mach.status_field: status})
            fresh = model.objects.get(pk=obj.pk)
            try:
                rules.check(fresh, name, actor, note="理由")
                message = None
            except rules.WorkflowError as error:
                message = error.message
            found = rules.actionable(model.objects.filter(pk=obj.pk), actor, [name]).exists()
            if status in sources:
                assert message != not_now(fresh, name), f"{name} refused from {status}"
            else:
                assert message == not_now(fresh, name), f"{name} from {status}: {message}"
                assert name not in rules.available_moves(fresh, actor), f"{name} from {status}"
                assert not found, f"{name} from {status} found by actionable"


def test_a_move_from_outside_its_sources_changes_nothing(demo):
    from test_rules_world import refused

    suggestion = assigned()
    refused(suggestion, "close", "office", not_now(suggestion, "close"))
    refused(suggestion, "assign", "office", not_now(suggestion, "assign"), unit=suggestion.lead_unit)
    reply = draft()
    refused(reply, "sign", "head", not_now(reply, "sign"))
    refused(reply, "send", "staff", not_now(reply, "send"))
