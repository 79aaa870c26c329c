"""The conditions a move needs besides role, scope and status: each ``where``, ``needs_note``,
the consultation window and the parameter checks. Through the services (``rules.run``,
``available_moves``); a refusal must change nothing and give the rule's reason.
"""

import datetime

import pytest
from test_rules_world import (
    allowed,
    assigned,
    deputy,
    deputy_login,
    draft,
    handling,
    pending,
    reason_given,
    record,
    refused,
    sent,
    signed,
    state,
    user,
)

from consultations.services import NOT_OPEN, OPEN_STATUSES
from core import rules
from replies.models import Reply, ReplyStatus
from suggestions.models import CoHandling, Status, Suggestion


def where_refusal(obj, name):
    return rules.machine_of(obj).moves[name].where_refusal


def set_status(suggestion, status):
    Suggestion.objects.filter(pk=suggestion.pk).update(status=status)
    suggestion.refresh_from_db()


# --- extend: once ---

def test_the_deadline_is_extended_once(demo):
    suggestion = assigned(on=datetime.date(2026, 1, 10))
    allowed(suggestion, "extend", "office")
    rules.run(suggestion, "extend", user=user("office"), note="市政府批准延期",
              new_due=datetime.date(2026, 5, 10))
    # 2026-05-10 is a Sunday: the limit ends on the next working day (core.calendar).
    assert suggestion.due_extended and suggestion.due_on == datetime.date(2026, 5, 11)
    refused(suggestion, "extend", "office", where_refusal(suggestion, "extend"),
            note="再次延期", new_due=datetime.date(2026, 6, 10))
    assert "extend" not in rules.available_moves(suggestion, user("office"))


def test_extend_checks_the_new_date(demo):
    suggestion = assigned(on=datetime.date(2026, 1, 10))  # due 2026-04-10, at most 2026-07-10
    office = user("office")
    for new_due, text in [
        (None, "Choose the new due date."),
        (datetime.date(2026, 4, 10), "The new due date must be later than the current one."),
        (datetime.date(2026, 7, 11), "The deadline can be extended to 2026-07-10 at the latest."),
    ]:
        before = state(suggestion)
        with pytest.raises(rules.WorkflowError) as info, _english():
            rules.run(suggestion, "extend", user=office, note="延期", new_due=new_due)
        assert info.value.message == text
        assert state(suggestion) == before
    rules.run(suggestion, "extend", user=office, note="延期", new_due=datetime.date(2026, 7, 10))
    assert suggestion.due_on == datetime.date(2026, 7, 10)


def test_an_extension_request_needs_a_reason_and_a_later_date(demo):
    from suggestions.models import ExtensionRequest

    suggestion = handling()
    later = suggestion.due_on + datetime.timedelta(days=30)
    for params, text in [
        ({"new_due": later}, "Please give a reason."),
        ({"new_due": later, "reason": "  "}, "Please give a reason."),
        ({"reason": "需协调多部门"}, "Choose the new due date."),
        ({"reason": "需协调多部门", "new_due": suggestion.due_on},
         "The new due date must be later than the current one."),
    ]:
        before = state(suggestion)
        with pytest.raises(rules.WorkflowError) as info, _english():
            rules.run(suggestion, "request_extension", user=user("staff"), **params)
        assert info.value.message == text, params
        assert state(suggestion) == before
    assert not ExtensionRequest.objects.filter(suggestion=suggestion).exists()
    rules.run(suggestion, "request_extension", user=user("staff"), new_due=later,
              reason="需协调多部门")
    assert ExtensionRequest.objects.get(suggestion=suggestion).proposed_due == later


def test_an_approved_extension_keeps_to_the_limits(demo):
    from suggestions.models import ExtensionRequest

    suggestion = assigned(on=datetime.date(2026, 1, 10))  # due 2026-04-10, at most 2026-07-10
    rules.run(suggestion, "accept", user=user("staff"))
    rules.run(suggestion, "request_extension", user=user("staff"), reason="需协调多部门",
              new_due=datetime.date(2026, 6, 10))
    office = user("office")
    for new_due, text in [
        (datetime.date(2026, 7, 11), "The deadline can be extended to 2026-07-10 at the latest."),
        (datetime.date(2026, 4, 10), "The new due date must be later than the current one."),
    ]:
        before = state(suggestion)
        with pytest.raises(rules.WorkflowError) as info, _english():
            rules.run(suggestion, "approve_extension", user=office, new_due=new_due)
        assert info.value.message == text
        assert state(suggestion) == before
        assert ExtensionRequest.objects.get(suggestion=suggestion).decision == "pending"
    rules.run(suggestion, "approve_extension", user=office)  # as the unit asked
    assert suggestion.due_on == datetime.date(2026, 6, 10) and suggestion.due_extended


def test_a_link_needs_another_suggestion_and_a_kind_and_is_made_once(demo):
    from suggestions.models import SuggestionLink

    one, other = assigned(), handling()
    office = user("office")
    for params, text in [
        ({"kind": "similar"}, "Choose the suggestion to link."),
        ({"other": one, "kind": "similar"}, "A suggestion cannot be linked to itself."),
        ({"other": other, "kind": "twin"}, "Choose how the suggestions are linked."),
    ]:
        before = state(one)
        with pytest.raises(rules.WorkflowError) as info, _english():
            rules.run(one, "link", user=office, **params)
        assert info.value.message == text, params
        assert state(one) == before
    assert not SuggestionLink.objects.exists()
    rules.run(one, "link", user=office, other=other, kind="similar")
    with pytest.raises(rules.WorkflowError) as info, _english():
        rules.run(other, "link", user=office, other=one, kind="merged")
    assert info.value.message == "These suggestions are already linked."
    assert SuggestionLink.objects.get().kind == "similar"


def test_the_office_decides_a_pending_extension_request_before_extending_itself(demo):
    suggestion = handling()
    requested = suggestion.due_on + datetime.timedelta(days=30)
    rules.run(suggestion, "request_extension", user=user("staff"), new_due=requested,
              reason="需协调多部门")
    before = state(suggestion)
    with pytest.raises(rules.WorkflowError) as info, _english():
        rules.run(suggestion, "extend", user=user("office"), note="直接延期",
                  new_due=suggestion.due_on + datetime.timedelta(days=20))
    assert info.value.message == (
        "The unit's extension request awaits a decision: approve or refuse it first.")
    assert state(suggestion) == before and not suggestion.due_extended


def _english():
    from django.utils import translation

    return translation.override("en")


# --- waive co-unit opinions: only while one is awaited ---

def test_waive_only_while_an_opinion_is_awaited(demo):
    office = user("office")
    awaited = assigned()  # 农业农村局's opinion is awaited
    allowed(awaited, "waive_co_opinions", "office")
    refused(awaited, "waive_co_opinions", office, reason_given())
    rules.run(awaited, "waive_co_opinions", user=office, note="已电话沟通")
    assert awaited.co_opinions_waived
    refused(awaited, "waive_co_opinions", office, where_refusal(awaited, "waive_co_opinions"),
            note="再次")

    no_co_unit = assigned(co_units=())
    refused(no_co_unit, "waive_co_opinions", office,
            where_refusal(no_co_unit, "waive_co_opinions"), note="无协办")
    opinions_in = handling()
    refused(opinions_in, "waive_co_opinions", office,
            where_refusal(opinions_in, "waive_co_opinions"), note="已收到")
    not_required = assigned()
    CoHandling.objects.filter(suggestion=not_required).update(required=False)
    refused(not_required, "waive_co_opinions", office,
            where_refusal(not_required, "waive_co_opinions"), note="不需要")


def test_a_waiver_lets_the_letter_go_to_sign_off(demo):
    reply = draft(handling(opinions_in=False))
    with pytest.raises(rules.WorkflowError, match="农业农村局"):
        rules.run(reply, "submit", user=user("staff"))
    rules.run(reply.suggestion, "waive_co_opinions", user=user("office"), note="已电话沟通")
    rules.run(reply, "submit", user=user("staff"))
    assert reply.status == ReplyStatus.PENDING


def test_sign_off_waits_for_the_co_units_too(demo):
    from django.utils import translation

    reply = pending(handling(co_units=("nync", "jyj")))
    CoHandling.objects.filter(suggestion=reply.suggestion).update(submitted_at=None)
    before = state(reply)
    with pytest.raises(rules.WorkflowError) as refused:
        rules.run(reply, "sign", user=user("head"))
    units = "、".join(co.unit.name for co in reply.suggestion.co_handlings.select_related("unit"))
    assert "、" in units  # both co-units are named
    assert refused.value.message == translation.gettext(
        "Waiting for the opinion of the co-handling units: %(units)s. "
        "The congress office can waive this.") % {"units": units}
    assert state(reply) == before


# --- draft a reply: only when no unsigned reply exists ---

def test_draft_only_when_no_unsigned_reply(demo):
    suggestion = handling()
    allowed(suggestion, "draft_reply", "staff")
    reply = draft(suggestion)
    refused(suggestion, "draft_reply", "staff", where_refusal(suggestion, "draft_reply"))
    rules.run(reply, "submit", user=user("staff"))
    refused(suggestion, "draft_reply", "head", where_refusal(suggestion, "draft_reply"))
    rules.run(reply, "sign", user=user("head"))
    # A signed letter is not unsigned: a new version may be drafted.
    allowed(suggestion, "draft_reply", "staff")
    second = rules.run(suggestion, "draft_reply", user=user("staff"))
    assert second.version == 2
    Reply.objects.filter(pk=second.pk).update(status=ReplyStatus.WITHDRAWN)
    allowed(suggestion, "draft_reply", "staff")


# --- send: only the latest version, only while the suggestion is in handling by its unit ---

def test_send_only_the_latest_version(demo):
    first = signed()
    allowed(first, "send", "staff")
    second = rules.run(first.suggestion, "draft_reply", user=user("staff"))
    refused(first, "send", "staff", where_refusal(first, "send"))
    refused(first, "send", "office", where_refusal(first, "send"))
    # A withdrawn newer draft does not count.
    Reply.objects.filter(pk=second.pk).update(status=ReplyStatus.WITHDRAWN)
    allowed(first, "send", "staff")
    rules.run(first, "send", user=user("staff"))
    assert first.status == ReplyStatus.SENT


def test_only_the_same_suggestions_later_letters_count(demo):
    """A later version of another suggestion's letter stops neither sending nor rating; a
    later version of this one's that is not sent yet does not stop the rating."""
    suggestion = handling(co_deputies=["李秀梅"])
    mine = signed(suggestion)
    elsewhere = draft()
    Reply.objects.filter(pk=elsewhere.pk).update(version=9, status=ReplyStatus.SENT)
    allowed(mine, "send", "staff")
    rules.run(mine, "send", user=user("staff"))
    li = deputy_login("李秀梅")
    allowed(mine, "rate", li)
    allowed(mine, "rate_paper", "office")
    rate(mine, "office", who=deputy("苏红平"), result="unsatisfied", name="rate_paper")
    newer = draft(suggestion)
    assert (newer.version, newer.status) == (2, ReplyStatus.DRAFT)
    allowed(mine, "rate", li)


@pytest.mark.parametrize("name,make,username", [
    ("edit", draft, "staff"), ("submit", draft, "staff"), ("sign", pending, "head"),
    ("send", signed, "staff"),
])
def test_reply_moves_only_while_the_suggestion_is_in_handling(demo, name, make, username):
    reply = make()
    suggestion = reply.suggestion
    for status in Status.values:
        set_status(suggestion, status)
        fresh = Reply.objects.get(pk=reply.pk)
        if status in (Status.HANDLING, Status.REHANDLING):
            allowed(fresh, name, username)
        else:
            refused(fresh, name, username, where_refusal(fresh, name))


@pytest.mark.parametrize("name,make,username", [
    ("edit", draft, "staff"), ("submit", draft, "staff"), ("sign", pending, "head"),
    ("send", signed, "staff"), ("send", signed, "office"),
])
def test_reply_moves_only_for_the_current_lead_unit(demo, name, make, username):
    """A letter of a unit the suggestion was taken from cannot go on (its own unit still is the
    issuing unit, so the scope alone would let it)."""
    reply = make()
    Suggestion.objects.filter(pk=reply.suggestion_id).update(lead_unit=deputy_unit("zjj"))
    refused(reply, name, username, where_refusal(reply, name))


def deputy_unit(short):
    from test_rules_world import unit

    return unit(short)


# --- rate: once per deputy, and only the latest sent reply ---

def rate(reply, username, who=None, result="satisfied", name="rate"):
    actor = user(username) if isinstance(username, str) else username
    who = who or actor.deputy
    return rules.run(reply, name, user=actor, deputy=who, attitude="satisfied", result=result,
                     source="online" if name == "rate" else "paper")


def test_a_deputy_rates_a_reply_once(demo):
    reply = sent(handling(co_deputies=["李秀梅"]))
    li = deputy_login("李秀梅")
    rate(reply, "deputy")
    refused(reply, "rate", "deputy", where_refusal(reply, "rate"), deputy=deputy("苏红平"),
            attitude="satisfied", result="satisfied")
    # The other deputy of the suggestion still may: "once" is per deputy.
    allowed(reply, "rate", li)
    rate(reply, li)
    refused(reply, "rate", li, where_refusal(reply, "rate"), deputy=deputy("李秀梅"),
            attitude="satisfied", result="satisfied")


def test_only_the_latest_sent_reply_is_rated(demo):
    suggestion = handling(co_deputies=["李秀梅"])
    first = sent(suggestion)
    rate(first, "office", who=deputy("苏红平"), result="unsatisfied", name="rate_paper")
    suggestion.refresh_from_db()
    assert suggestion.status == Status.REHANDLING
    second = sent(suggestion)
    assert second.version == 2
    li = deputy_login("李秀梅")
    refused(first, "rate", li, where_refusal(first, "rate"), deputy=deputy("李秀梅"),
            attitude="satisfied", result="satisfied")
    refused(first, "rate_paper", "office", where_refusal(first, "rate_paper"),
            deputy=deputy("李秀梅"), attitude="satisfied", result="satisfied", source="paper")
    allowed(second, "rate", li)
    allowed(second, "rate", "deputy")
    allowed(second, "rate_paper", "office")
    rate(second, li)


def test_rating_checks(demo):
    reply = sent()
    su, wang = deputy("苏红平"), deputy("王建国")
    office, me = user("office"), user("deputy")
    cases = [
        (office, "rate_paper", {"deputy": wang},
         "Only the deputies of this suggestion can evaluate its reply."),
        (office, "rate_paper", {"deputy": None},
         "Only the deputies of this suggestion can evaluate its reply."),
        (office, "rate_paper", {"deputy": su, "result": "great"},
         "Choose a rating for both the attitude and the result."),
        (office, "rate_paper", {"deputy": su, "attitude": ""},
         "Choose a rating for both the attitude and the result."),
        (me, "rate", {"deputy": deputy("李秀梅")}, "You can only give your own evaluation."),
    ]
    for actor, name, params, text in cases:
        params = {"attitude": "satisfied", "result": "satisfied"} | params
        before = state(reply)
        with pytest.raises(rules.WorkflowError) as info, _english():
            rules.run(reply, name, user=actor, **params)
        assert info.value.message == text, (name, params)
        assert state(reply) == before
    rate(reply, "office", who=su, name="rate_paper")
    with pytest.raises(rules.WorkflowError) as info, _english():
        rate(reply, "office", who=su, name="rate_paper")
    assert info.value.message == "This deputy has already evaluated this reply."


# --- needs_note ---

NEEDS_NOTE = {Suggestion: {"request_return", "reject_return", "extend", "waive_co_opinions",
                           "refuse_extension"},
              Reply: {"return"}}


def test_the_moves_that_need_a_reason(demo):
    from consultations.models import Consultation

    expected = NEEDS_NOTE | {Consultation: set()}
    for model, names in expected.items():
        assert {n for n, m in rules.machine(model).moves.items() if m.needs_note} == names


@pytest.mark.parametrize("name,make,username,params", [
    ("request_return", assigned, "staff", {}),
    ("reject_return", None, "office", {}),
    ("extend", assigned, "office", {"new_due": None}),
    ("waive_co_opinions", assigned, "office", {}),
    ("return", pending, "head", {}),
])
def test_a_reason_is_required(demo, name, make, username, params):
    if make is None:
        obj = assigned()
        rules.run(obj, "request_return", user=user("staff"), note="不属于本单位")
    else:
        obj = make()
    if name == "extend":
        params = {"new_due": obj.due_on + datetime.timedelta(days=10)}
    for note in ("", "   "):
        refused(obj, name, username, reason_given(), note=note, **params)
    rules.run(obj, name, user=user(username), note="理由", **params)


# --- consultations: from assignment until closed ---

@pytest.mark.parametrize("name", ["edit", "attach"])
def test_records_change_only_while_the_suggestion_is_open(demo, name):
    rec = record()
    for status in Status.values:
        set_status(rec.suggestion, status)
        fresh = type(rec).objects.get(pk=rec.pk)
        if status in OPEN_STATUSES:
            allowed(fresh, name, "staff")
        else:
            refused(fresh, name, "staff", NOT_OPEN)


def test_the_consultation_window(demo):
    assert OPEN_STATUSES == {Status.ASSIGNED, Status.HANDLING, Status.REHANDLING,
                             Status.REPLIED, Status.EVALUATED}
    suggestion = handling()
    for status in Status.values:
        set_status(suggestion, status)
        if status in OPEN_STATUSES:
            allowed(suggestion, "log_consultation", "staff")
        else:
            from test_rules_world import not_now

            refused(suggestion, "log_consultation", "staff", not_now(suggestion, "log_consultation"),
                    data={})


# --- the other parameter checks ---

def test_suggestion_parameter_checks(demo):
    from test_rules_world import registered, unit

    office = user("office")
    fresh = registered()
    cases = [
        (fresh, "assign", {}, "Choose the lead handling unit before assigning."),
        (fresh, "assign", {"unit": unit("gxj"), "co_units": [unit("gxj")]},
         "The lead unit cannot also be a co-handling unit."),
    ]
    mine = assigned()
    cases += [
        (mine, "reassign", {}, "Choose the unit to reassign the suggestion to."),
        (mine, "reassign", {"unit": unit("nync")}, "The lead unit cannot also be a co-handling unit."),
    ]
    for obj, name, params, text in cases:
        before = state(obj)
        with pytest.raises(rules.WorkflowError) as info, _english():
            rules.run(obj, name, user=office, **params)
        assert info.value.message == text, (name, params)
        assert state(obj) == before
    opinion_due = handling(opinions_in=False)
    with pytest.raises(rules.WorkflowError) as info, _english():
        rules.run(opinion_due, "co_opinion", user=user("agri_staff"), opinion="  ")
    assert info.value.message == "The opinion cannot be empty."
    for nothing in ({"opinion": ""}, {"opinion": None}, {}):
        with pytest.raises(rules.WorkflowError) as info, _english():
            rules.run(opinion_due, "co_opinion", user=user("agri_staff"), **nothing)
        assert info.value.message == "The opinion cannot be empty.", nothing
    assert opinion_due.co_handlings.get().submitted_at is None


def test_a_template_only_letter_is_not_submitted(demo):
    from replies.services import reply_create_draft

    reply = reply_create_draft(suggestion=handling(), user=user("staff"))
    before = state(reply)
    with pytest.raises(rules.WorkflowError), _english():
        rules.run(reply, "submit", user=user("staff"))
    assert state(reply) == before


def test_a_new_version_needs_its_own_number(demo):
    first = draft()
    first.doc_number = "晋工信函〔2026〕1号"
    first.save()
    rules.run(first, "submit", user=user("staff"))
    rules.run(first, "sign", user=user("head"))
    second = rules.run(first.suggestion, "draft_reply", user=user("staff"))
    Reply.objects.filter(pk=second.pk).update(doc_number=first.doc_number)
    second.refresh_from_db()
    rules.run(second, "submit", user=user("staff"))
    before = state(second)
    with pytest.raises(rules.WorkflowError) as info, _english():
        rules.run(second, "sign", user=user("head"))
    assert info.value.message == (
        "Document number 晋工信函〔2026〕1号 was already used by version 1 of this reply; give "
        "the new version its own number.")
    assert state(second) == before
    # With a number of its own, the same version is signed.
    Reply.objects.filter(pk=second.pk).update(doc_number="晋工信函〔2026〕2号")
    second.refresh_from_db()
    rules.run(second, "sign", user=user("head"))
    second.refresh_from_db()
    assert second.status == "signed"


def test_only_a_signed_reply_marks_the_suggestion_replied(demo):
    reply = pending()
    suggestion = reply.suggestion
    for params in ({"reply": reply}, {}):
        before = state(suggestion)
        with pytest.raises(rules.WorkflowError) as info, _english():
            rules.run(suggestion, "reply", user=user("staff"), **params)
        assert info.value.message == "Only a signed reply can be sent."
        assert state(suggestion) == before


def test_sign_off_checks_the_body_again(demo):
    """A letter that lost its body after submission (changed outside the editor) is not signed."""
    reply = pending()
    Reply.objects.filter(pk=reply.pk).update(body="感谢您对我们工作的关心和支持。")
    reply.refresh_from_db()
    before = state(reply)
    with pytest.raises(rules.WorkflowError) as info, _english():
        rules.run(reply, "sign", user=user("head"))
    assert info.value.message == "Write the body of the reply before submitting it for sign-off."
    assert state(reply) == before


def test_an_online_rating_must_be_a_rating(demo):
    reply = sent()
    me = user("deputy")
    before = state(reply)
    with pytest.raises(rules.WorkflowError) as info, _english():
        rules.run(reply, "rate", user=me, deputy=me.deputy, attitude="satisfied", result="great")
    assert info.value.message == "Choose a rating for both the attitude and the result."
    assert state(reply) == before


def test_editing_a_records_method_updates_met(demo):
    from consultations.services import consultation_update

    rec = record()
    assert Suggestion.objects.get(pk=rec.suggestion_id).met
    consultation_update(record=rec, user=user("staff"), data={"method": "phone"},
                        expected_version=rec.lock_version)
    assert not Suggestion.objects.get(pk=rec.suggestion_id).met
