"""Who may make each move, and on which objects: roles and scopes, through the services.

Each test names the rule it guards; deleting that rule (a role from a move, a scope replaced by
"everything") makes it fail. A refused move must change nothing and say why (the scope's own
refusal); an allowed one must be offered (``available_moves``) and found (``actionable``).
"""

import pytest
from test_rules_world import (
    allowed,
    assigned,
    deputy_login,
    draft,
    handling,
    no_role_user,
    not_allowed,
    pending,
    record,
    refused,
    registered,
    sent,
    signed,
    user,
)

from consultations.models import Consultation
from consultations.services import RECORD_DEPUTY, RECORD_UNIT
from core import rules
from replies.models import Reply
from replies.services import ISSUING_UNIT, REPLY_DEPUTY
from suggestions.models import Suggestion
from suggestions.workflow import CO_UNIT, LEAD_UNIT, OWN_SUGGESTION

# Every move of every machine and the roles that may make it (``admin`` is a superuser).
# A move added, or a role added to or removed from a move, must be written here too.
COORDINATORS = {"admin", "office"}
UNIT = {"handler", "head"}
EXPECTED_ROLES = {
    Suggestion: {
        "assign": COORDINATORS, "accept": UNIT, "request_return": UNIT,
        "reject_return": COORDINATORS, "reassign": COORDINATORS, "reply": UNIT | COORDINATORS,
        "evaluate": {"deputy"} | COORDINATORS, "rehandle": {"deputy"} | COORDINATORS,
        "close": COORDINATORS, "extend": COORDINATORS, "edit": COORDINATORS,
        "request_extension": UNIT, "approve_extension": COORDINATORS,
        "refuse_extension": COORDINATORS,
        "key_supervision": COORDINATORS, "waive_co_opinions": COORDINATORS,
        "link": COORDINATORS, "unlink": COORDINATORS,
        "co_opinion": UNIT, "draft_reply": UNIT, "log_consultation": UNIT,
    },
    Reply: {
        "edit": UNIT, "submit": UNIT, "return": {"head"}, "sign": {"head"},
        "send": UNIT | COORDINATORS, "rate": {"deputy"}, "rate_paper": COORDINATORS,
    },
    Consultation: {"edit": UNIT, "confirm": {"deputy"}, "attach": UNIT},
}
ROLE_USERS = {"admin": "admin", "office": "office", "head": "head", "handler": "staff",
              "deputy": "deputy"}


def demo_objects(demo):
    return {Suggestion: demo, Reply: demo.replies.get(), Consultation: demo.consultations.get()}


def test_every_move_has_a_row(demo):
    for model, expected in EXPECTED_ROLES.items():
        assert set(rules.machine(model).moves) == set(expected), model.__name__


@pytest.mark.parametrize("model", [Suggestion, Reply, Consultation], ids=lambda m: m.__name__)
def test_only_the_declared_roles_may_make_each_move(demo, model):
    """The role check comes first: a role without the move hears "not allowed", whatever the
    object; a role with it never does."""
    obj = demo_objects(demo)[model]
    users = {role: user(name) for role, name in ROLE_USERS.items()}
    users["none"] = no_role_user()
    users["anonymous"] = user("anonymous")
    for name, roles in EXPECTED_ROLES[model].items():
        for role, actor in users.items():
            try:
                rules.check(obj, name, actor, note="理由")
                message = None
            except rules.WorkflowError as error:
                message = error.message
            if role in roles:
                assert message != not_allowed(obj, name), f"{name} refused to {role}"
            else:
                assert message == not_allowed(obj, name), f"{name} by {role}: {message}"
                assert name not in rules.available_moves(obj, actor)


def test_an_inactive_user_may_do_nothing(demo):
    office = user("office")
    office.is_active = False
    refused(demo, "close", office, not_allowed(demo, "close"))


# --- The lead unit (LEAD_UNIT) ---

LEAD_UNIT_MOVES = [("accept", assigned), ("request_return", assigned),
                   ("draft_reply", handling), ("log_consultation", handling),
                   ("request_extension", handling)]


@pytest.mark.parametrize("name,make", LEAD_UNIT_MOVES, ids=[m for m, _ in LEAD_UNIT_MOVES])
def test_lead_unit_scope(demo, name, make):
    suggestion = make()  # led by 工信局, co-handled by 农业农村局
    allowed(suggestion, name, "staff")
    allowed(suggestion, name, "head")
    note = {"note": "理由"} if name == "request_return" else {}
    for outsider in ("agri_staff", "other_staff", "other_head"):
        refused(suggestion, name, outsider, LEAD_UNIT.refusal, **note)


@pytest.mark.parametrize("name,make", LEAD_UNIT_MOVES, ids=[m for m, _ in LEAD_UNIT_MOVES])
def test_lead_unit_scope_follows_the_suggestions_unit(demo, name, make):
    suggestion = make(lead_unit="zjj", co_units=())
    allowed(suggestion, name, "other_staff")
    note = {"note": "理由"} if name == "request_return" else {}
    refused(suggestion, name, "staff", LEAD_UNIT.refusal, **note)
    refused(suggestion, name, "head", LEAD_UNIT.refusal, **note)


def test_lead_unit_scope_on_marking_replied(demo):
    """``reply`` is made by sending a letter, but the move itself is scoped too."""
    reply = signed()
    suggestion = reply.suggestion
    for outsider in ("agri_staff", "other_staff", "other_head"):
        refused(suggestion, "reply", outsider, LEAD_UNIT.refusal, reply=reply)
    rules.run(suggestion, "reply", user=user("staff"), reply=reply)
    suggestion.refresh_from_db()
    assert suggestion.status == "replied"


# --- The co-handling units (CO_UNIT) ---

def test_co_unit_scope(demo):
    suggestion = handling(opinions_in=False)  # co-handled by 农业农村局 only
    allowed(suggestion, "co_opinion", "agri_staff")
    for outsider in ("staff", "head", "other_staff", "edu_staff"):
        refused(suggestion, "co_opinion", outsider, CO_UNIT.refusal, opinion="意见")
    rules.run(suggestion, "co_opinion", user=user("agri_staff"), opinion="同意。")
    assert suggestion.co_handlings.get().submitted_by.username == "agri_staff"


def test_co_unit_scope_is_per_suggestion(demo):
    theirs = handling(opinions_in=False, co_units=("jyj",))
    refused(theirs, "co_opinion", "agri_staff", CO_UNIT.refusal, opinion="意见")
    allowed(theirs, "co_opinion", "edu_staff")


# --- The deputies of a suggestion (OWN_SUGGESTION, REPLY_DEPUTY) ---

@pytest.mark.parametrize("name", ["evaluate", "rehandle"])
def test_own_suggestion_scope(demo, name):
    led = sent().suggestion  # led by 苏红平
    cosigned = sent(handling(lead="李秀梅", co_deputies=["苏红平"])).suggestion
    allowed(led, name, "deputy")
    allowed(cosigned, name, "deputy")
    refused(led, name, "other_deputy", OWN_SUGGESTION.refusal)
    refused(cosigned, name, "other_deputy", OWN_SUGGESTION.refusal)
    # 苏红平 co-signs other suggestions (No. 122): that gives no say on 王建国's.
    theirs = sent(handling(lead="王建国", lead_unit="zjj", co_units=())).suggestion
    refused(theirs, name, "deputy", OWN_SUGGESTION.refusal)
    allowed(theirs, name, "other_deputy")
    rules.run(cosigned, name, user=user("deputy"))


def test_reply_deputy_scope(demo):
    from replies.models import Evaluation

    led = sent()
    cosigned = sent(handling(lead="李秀梅", co_deputies=["苏红平"]))
    wang = user("other_deputy")
    for reply in (led, cosigned):
        allowed(reply, "rate", "deputy")
        refused(reply, "rate", wang, REPLY_DEPUTY.refusal, deputy=wang.deputy,
                attitude="satisfied", result="satisfied")
    su = user("deputy")
    # 苏红平 co-signs other suggestions (No. 122): that gives no say on 王建国's reply.
    theirs = sent(handling(lead="王建国", lead_unit="zjj", co_units=()))
    refused(theirs, "rate", su, REPLY_DEPUTY.refusal, deputy=su.deputy, attitude="satisfied",
            result="satisfied")
    allowed(theirs, "rate", "other_deputy")
    rules.run(cosigned, "rate", user=su, deputy=su.deputy, attitude="satisfied",
              result="satisfied")
    assert Evaluation.objects.filter(reply=cosigned, deputy=su.deputy).exists()


# --- The issuing unit of a reply (ISSUING_UNIT), and sign-off by the head only ---

@pytest.mark.parametrize("name,make,may", [
    ("edit", draft, ["staff", "head"]), ("submit", draft, ["staff", "head"]),
    ("return", pending, ["head"]), ("sign", pending, ["head"]),
    ("send", signed, ["staff", "head"]),
])
def test_issuing_unit_scope(demo, name, make, may):
    reply = make()
    for username in may:
        allowed(reply, name, username)
    note = {"note": "理由"} if name == "return" else {}
    # The other unit's head may sign, return… its own letters, not this one.
    outsiders = ["other_head"] if may == ["head"] else ["other_staff", "other_head", "agri_staff"]
    for outsider in outsiders:
        refused(reply, name, outsider, ISSUING_UNIT.refusal, **note)


@pytest.mark.parametrize("name", ["sign", "return"])
def test_only_the_head_signs_and_returns(demo, name):
    reply = pending()
    note = {"note": "请修改"} if name == "return" else {}
    for username in ("staff", "office", "admin", "deputy"):
        refused(reply, name, username, not_allowed(reply, name), **note)
    allowed(reply, name, "head")
    rules.run(reply, name, user=user("head"), **note)
    reply.refresh_from_db()
    assert reply.status == {"sign": "signed", "return": "draft"}[name]


def test_the_office_sends_any_units_letter(demo):
    reply = signed(handling(lead_unit="zjj", co_units=()))
    refused(reply, "send", "staff", ISSUING_UNIT.refusal)
    allowed(reply, "send", "office")
    allowed(reply, "send", "admin")


# --- Consultation records (RECORD_DEPUTY, RECORD_UNIT) ---

def test_record_deputy_scope(demo):
    """Only the deputy named on the record confirms it, not another deputy of the suggestion."""
    suggestion = handling(co_deputies=["李秀梅"])
    mine = record(suggestion)
    li = deputy_login("李秀梅")
    allowed(mine, "confirm", "deputy")
    refused(mine, "confirm", li, RECORD_DEPUTY.refusal)
    refused(mine, "confirm", "other_deputy", RECORD_DEPUTY.refusal)
    hers = record(suggestion, for_deputy="李秀梅")
    refused(hers, "confirm", "deputy", RECORD_DEPUTY.refusal)
    allowed(hers, "confirm", li)
    rules.run(hers, "confirm", user=li)
    hers.refresh_from_db()
    assert hers.signature == "online" and hers.signed_name == "李秀梅"


@pytest.mark.parametrize("name", ["edit", "attach"])
def test_record_unit_scope(demo, name):
    mine = record()
    allowed(mine, name, "staff")
    allowed(mine, name, "head")
    for outsider in ("agri_staff", "other_staff", "other_head"):
        refused(mine, name, outsider, RECORD_UNIT.refusal)
    theirs = record(handling(lead_unit="zjj", co_units=(), lead="王建国"), for_deputy="王建国")
    allowed(theirs, name, "other_staff")
    refused(theirs, name, "staff", RECORD_UNIT.refusal)


def test_coordinators_reach_every_suggestion(demo):
    """The office's scope is everything: another unit's, another deputy's suggestion alike."""
    theirs = assigned(lead_unit="zjj", co_units=(), lead="王建国")
    for name in ("reassign", "extend", "edit", "key_supervision"):
        allowed(theirs, name, "office")
        allowed(theirs, name, "admin")
    allowed(registered(lead="王建国"), "assign", "office")
