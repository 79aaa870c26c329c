"""The rule engine itself (``core.rules``): how a move is run, logged and saved, and the small
helpers the rule modules declare moves with."""

import datetime

import pytest
from django.utils import translation
from test_rules_world import assigned, draft, handling, not_allowed, record, refused, signed, user

from consultations.models import Consultation
from core import rules
from replies.models import Reply, ReplyStatus
from suggestions import workflow
from suggestions.models import Event, Rating, Status, Suggestion


def test_a_machine_refuses_a_second_move_of_the_same_name(demo):
    mach = rules.machine(Suggestion)
    with pytest.raises(ValueError, match="accept"):
        mach.add(mach.moves["accept"])
    assert rules.machine(Suggestion) is mach
    with pytest.raises(LookupError):
        rules.machine(Event)
    assert {m.model for m in rules.machines()} >= {Suggestion, Reply, Consultation}


def test_an_unknown_move_is_refused(demo):
    with pytest.raises(rules.WorkflowError) as info:
        rules.run(demo, "evaporate", user=user("admin"))
    assert info.value.message == str(rules._("Unknown action."))
    assert not rules.may(demo, "evaporate", user("admin"))


def test_may(demo):
    suggestion = assigned()
    assert rules.may(suggestion, "accept", user("staff"))
    assert not rules.may(suggestion, "accept", user("agri_staff"))
    assert not rules.may(suggestion, "close", user("office"))


def test_a_move_changes_the_status_and_writes_the_event(demo):
    suggestion = assigned()
    staff = user("staff")
    count = Event.objects.count()
    result = rules.run(suggestion, "accept", user=staff, note="  已接收  ")
    assert result.pk == suggestion.pk and result.status == Status.HANDLING
    assert suggestion.status == Status.HANDLING  # the caller's instance follows the row
    assert Suggestion.objects.get(pk=suggestion.pk).status == Status.HANDLING
    assert Event.objects.count() == count + 1
    event = Event.objects.latest("pk")
    assert (event.action, event.from_status, event.to_status, event.note, event.actor) == (
        "accept", Status.ASSIGNED, Status.HANDLING, "已接收", staff)


def test_a_move_without_target_keeps_the_status_and_returns_what_it_made(demo):
    suggestion = handling()
    made = rules.run(suggestion, "draft_reply", user=user("staff"))
    assert isinstance(made, Reply) and made.suggestion_id == suggestion.pk
    assert Suggestion.objects.get(pk=suggestion.pk).status == Status.HANDLING
    event = Event.objects.latest("pk")
    assert (event.action, event.from_status, event.to_status) == ("reply_created", "", "")
    assert event.internal


def test_save_fields(demo):
    suggestion = assigned()
    stamp = Suggestion.objects.get(pk=suggestion.pk).updated_at
    # save_fields=(): nothing of the suggestion's own row is saved.
    rules.run(suggestion, "co_opinion", user=user("agri_staff"), opinion="同意。")
    assert Suggestion.objects.get(pk=suggestion.pk).updated_at == stamp
    # Only the declared fields (and updated_at) are saved.
    Suggestion.objects.filter(pk=suggestion.pk).update(title="改过的标题")
    rules.run(suggestion, "key_supervision", user=user("office"), on=True)
    row = Suggestion.objects.get(pk=suggestion.pk)
    assert row.key_supervision and row.title == "改过的标题" and row.updated_at > stamp
    rules.run(suggestion, "key_supervision", user=user("office"), on=False)
    assert not Suggestion.objects.get(pk=suggestion.pk).key_supervision


def test_a_refusal_checks_scope_before_status_and_status_before_condition(demo):
    """Another unit hears "not yours" even when the status is wrong too: a refusal says nothing
    about an object the user may not touch."""
    from suggestions.workflow import LEAD_UNIT

    theirs = signed(handling(lead_unit="zjj", co_units=(), lead="王建国")).suggestion
    refused(theirs, "accept", "staff", LEAD_UNIT.refusal)
    reply = draft()
    Suggestion.objects.filter(pk=reply.suggestion_id).update(status=Status.ASSIGNED)
    from test_rules_world import not_now

    refused(reply, "sign", "head", not_now(reply, "sign"))


def test_moves_as_the_pages_offer_them(demo):
    moves = workflow.MACHINE.moves
    assert moves["assign"].link == "suggestions:assign" and moves["assign"].is_offered
    assert moves["accept"].link == "" and moves["accept"].is_offered
    assert not moves["reply"].is_offered and not moves["evaluate"].is_offered
    assert moves["accept"].action == "accept"
    assert moves["draft_reply"].action == "reply_created"
    assert rules.machine(Reply).moves["sign"].action == "reply_signed"


def test_available_moves_of_a_known_object(demo):
    suggestion = assigned()
    assert set(rules.available_moves(suggestion, user("staff"))) == {
        "accept", "request_return", "log_consultation"}
    assert set(rules.available_moves(suggestion, user("agri_staff"))) == {"co_opinion"}
    assert set(rules.available_moves(suggestion, user("office"))) == {
        "reassign", "extend", "edit", "key_supervision", "waive_co_opinions", "link", "unlink"}
    assert set(rules.available_moves(suggestion, user("deputy"))) == set()
    rec = record()
    assert set(rules.available_moves(rec, user("deputy"))) == {"confirm"}
    assert set(rules.available_moves(rec, user("staff"))) == {"edit", "attach"}


def test_extend_adds_to_a_move_declared_below(demo):
    mach = rules.machine(Suggestion)
    before = mach.moves["close"]
    calls = []
    try:
        mach.extend("close", effects=[lambda obj, user, params: calls.append(obj.pk)])
        assert mach.moves["close"].effects == before.effects + (mach.moves["close"].effects[-1],)
        suggestion = signed().suggestion
        rules.run(suggestion.replies.get(), "send", user=user("staff"))
        rules.run(suggestion, "close", user=user("office"))
        assert calls == [suggestion.pk]
    finally:
        mach.moves["close"] = before


def test_the_status_refusal_names_the_move_and_the_status(demo):
    suggestion = assigned()
    with pytest.raises(rules.WorkflowError) as info, translation.override("en"):
        rules.run(suggestion, "close", user=user("office"))
    assert info.value.message == "“Close” is not possible while this is “assigned”."


def test_a_move_label_in_the_refusal(demo):
    suggestion = assigned()
    with pytest.raises(rules.WorkflowError) as info:
        rules.run(suggestion, "accept", user=user("deputy"))
    assert info.value.message == not_allowed(suggestion, "accept")
    assert str(workflow.MACHINE.moves["accept"].label) in info.value.message


# --- workflow helpers ---

def test_add_months():
    add = workflow.add_months
    assert add(datetime.date(2026, 1, 31), 1) == datetime.date(2026, 2, 28)
    assert add(datetime.date(2024, 1, 31), 1) == datetime.date(2024, 2, 29)
    assert add(datetime.date(2026, 11, 15), 3) == datetime.date(2027, 2, 15)
    assert add(datetime.date(2026, 12, 1), 1) == datetime.date(2027, 1, 1)
    assert add(datetime.date(2026, 3, 10), 0) == datetime.date(2026, 3, 10)


def test_add_working_days(db):  # China's working calendar is in the database (core.calendar)
    add = workflow.add_working_days
    friday = datetime.date(2026, 11, 6)
    assert add(friday, 1) == datetime.date(2026, 11, 9)  # Monday
    assert add(friday, 7) == datetime.date(2026, 11, 17)
    assert add(datetime.date(2026, 11, 2), 0) == datetime.date(2026, 11, 2)


def test_the_return_request_window(demo, settings):
    settings.RETURN_REQUEST_WORKING_DAYS = 7
    assigned_on = datetime.date(2026, 11, 2)  # a Monday: 7 working days run to the 11th
    suggestion = assigned(on=assigned_on)
    for day, ok in [(datetime.date(2026, 11, 11), True), (datetime.date(2026, 11, 12), False)]:
        try:
            with translation.override("en"):
                rules.check(suggestion, "request_return", user("staff"), note="理由",
                            params={"on": day})
            result = True
        except rules.WorkflowError as error:
            assert error.message == (
                "A return can only be requested within 7 working days of assignment "
                "(until 2026-11-11); ask the congress office directly.")
            result = False
        assert result == ok, day


def test_describe_changes():
    text = workflow.describe_changes(
        {"title": "旧", "content": None, "same": "x", "many": ["乙", "甲"]},
        {"title": "新", "content": "正文" * 150, "same": "x", "many": []},
        {"title": "标题", "content": "正文", "same": "不变", "many": "代表"},
    )
    lines = text.split("\n")
    assert lines[0] == "标题：旧 → 新"
    assert lines[1] == "正文：— → " + ("正文" * 100) + "…"
    assert lines[2] == "代表：乙、甲 → —"  # sorted
    assert len(lines) == 3


def test_deciding_rating(settings):
    ratings = [(2, Rating.UNSATISFIED), (1, Rating.BASICALLY)]
    settings.REHANDLING_TRIGGER = "lead"
    assert workflow.deciding_rating(ratings, 1) == Rating.BASICALLY
    assert workflow.deciding_rating(ratings, 3) == ""
    settings.REHANDLING_TRIGGER = "any"
    assert workflow.deciding_rating(ratings, 1) == Rating.UNSATISFIED
    assert workflow.deciding_rating([(1, Rating.SATISFIED), (2, Rating.BASICALLY)], 1) == Rating.BASICALLY
    assert workflow.deciding_rating([], 1) == ""


def test_action_labels(demo):
    assert workflow.action_label("accept") == str(workflow.MACHINE.moves["accept"].label)
    assert workflow.action_label("reply_signed") == str(rules.machine(Reply).moves["sign"].label)
    assert workflow.action_label("register") == str(workflow.OTHER_ACTIONS["register"])
    assert workflow.action_label("nonsense") == str(rules._("Other change"))
    assert workflow.may_register(user("office")) and workflow.may_register(user("admin"))
    assert not workflow.may_register(user("staff")) and not workflow.may_register(user("deputy"))


def test_reply_status_after_each_move(demo):
    reply = draft()
    for name, username, status in [("submit", "staff", ReplyStatus.PENDING),
                                   ("return", "head", ReplyStatus.DRAFT),
                                   ("submit", "head", ReplyStatus.PENDING),
                                   ("sign", "head", ReplyStatus.SIGNED),
                                   ("send", "office", ReplyStatus.SENT)]:
        rules.run(reply, name, user=user(username), note="理由")
        assert Reply.objects.get(pk=reply.pk).status == status
    assert Suggestion.objects.get(pk=reply.suggestion_id).status == Status.REPLIED


def test_a_machine_holds_what_is_added_and_extended(demo):
    """On a machine of its own: the project's machines are filled once, at import."""
    mach = rules.Machine(Suggestion, log=lambda *args, **kwargs: None)
    accept = workflow.MACHINE.moves["accept"]
    mach.add(accept)
    assert mach.moves == {"accept": accept}

    def check(obj, user, params):
        pass

    def effect(obj, user, params):
        pass

    mach.extend("accept", checks=[check], effects=[effect])
    extended = mach.moves["accept"]
    assert extended.checks == accept.checks + (check,)
    assert extended.effects == accept.effects + (effect,)
    assert (extended.sources, extended.roles, extended.target) == (
        accept.sources, accept.roles, accept.target)
    # Relations the apps' effects read are loaded with the locked row: each once, in order.
    assert mach.related == ()
    mach.load_related("lead_unit", "session")
    mach.load_related("session", "lead_deputy")
    assert mach.related == ("lead_unit", "session", "lead_deputy")


# --- What some moves change besides the status ---

def test_reassigning_withdraws_only_the_old_units_unsigned_drafts(demo):
    from test_rules_world import unit

    reply = draft()
    suggestion = reply.suggestion
    office = user("office")
    # Reassigned to the same unit: its draft stays.
    rules.run(suggestion, "reassign", user=office, note="仍由本单位", unit=unit("gxj"))
    assert Reply.objects.get(pk=reply.pk).status == ReplyStatus.DRAFT
    rules.run(suggestion, "accept", user=user("staff"))
    rules.run(suggestion, "reassign", user=office, note="改由住建局办理", unit=unit("zjj"))
    assert Reply.objects.get(pk=reply.pk).status == ReplyStatus.WITHDRAWN
    event = suggestion.events.get(action="reply_withdrawn")
    assert event.actor == office and event.internal
    assert (event.object_label, event.note) == (str(reply), "晋城市工业和信息化局")


def test_a_signed_letter_is_not_withdrawn_on_reassignment(demo):
    from test_rules_world import unit

    reply = signed()
    rules.run(reply.suggestion, "reassign", user=user("office"), note="改办", unit=unit("zjj"))
    assert Reply.objects.get(pk=reply.pk).status == ReplyStatus.SIGNED


def test_confirming_a_record(demo):
    rec = record()
    before = Consultation.objects.get(pk=rec.pk)
    rules.run(rec, "confirm", user=user("deputy"))
    after = Consultation.objects.get(pk=rec.pk)
    assert after.signature == "online" and after.confirmed_at is not None
    assert after.deputy_opinion == before.deputy_opinion  # no opinion given, none invented
    assert after.lock_version == before.lock_version + 1
    assert after.signed_name == "苏红平"


def test_editing_a_paper_signed_record_keeps_its_signature(demo):
    from consultations.services import consultation_update

    rec = record(signature="paper")
    assert rec.signature == "paper"
    consultation_update(record=rec, user=user("staff"), data={"place": "新地点"},
                        expected_version=rec.lock_version)
    rec = Consultation.objects.get(pk=rec.pk)
    assert (rec.signature, rec.place) == ("paper", "新地点")


def test_extending_logs_old_and_new_dates(demo):
    suggestion = assigned(on=datetime.date(2026, 1, 10))
    rules.run(suggestion, "extend", user=user("office"), note="批准",
              new_due=datetime.date(2026, 5, 10))
    event = suggestion.events.get(action="extend")
    # 2026-05-10 is a Sunday: the extension ends on the next working day (core.calendar).
    assert event.object_label == "2026-04-10 → 2026-05-11" and event.note == "批准"


def test_a_draft_submitted_meanwhile_is_not_overwritten(demo):
    """The editor was opened on a draft, and the head submitted it before the save: the save
    must not change a letter that is no longer a draft."""
    from core.locking import StaleEdit
    from replies.services import reply_update_draft

    reply = draft()
    stale = Reply.objects.get(pk=reply.pk)
    rules.run(reply, "submit", user=user("head"))
    with pytest.raises(StaleEdit):
        reply_update_draft(reply=stale, user=user("staff"), data={"body": "改过的正文"},
                           expected_version=stale.lock_version)
    row = Reply.objects.get(pk=reply.pk)
    assert (row.status, row.body) == (ReplyStatus.PENDING, reply.body)


def test_editing_a_draft_saves_and_logs_what_changed(demo):
    from core.locking import StaleEdit
    from replies.services import reply_update_draft

    reply = draft()
    version = reply.lock_version
    reply_update_draft(reply=reply, user=user("staff"), data={"title": "新标题", "copy_to": "市政府"},
                       expected_version=version)
    row = Reply.objects.get(pk=reply.pk)
    assert (row.title, row.copy_to, row.lock_version) == ("新标题", "市政府", version + 1)
    assert row.body == reply.body  # fields not in the form keep their value
    event = reply.suggestion.events.filter(action="reply_edited").get()
    assert event.actor == user("staff") and event.internal
    assert "新标题" in event.note and "市政府" in event.note
    with pytest.raises(StaleEdit):  # a form opened on the earlier version
        reply_update_draft(reply=Reply.objects.get(pk=reply.pk), user=user("head"),
                           data={"title": "另一个标题"}, expected_version=version)
    assert Reply.objects.get(pk=reply.pk).title == "新标题"
    # Saving without a change logs nothing.
    reply_update_draft(reply=Reply.objects.get(pk=reply.pk), user=user("staff"),
                       data={"title": "新标题"}, expected_version=version + 1)
    assert reply.suggestion.events.filter(action="reply_edited").count() == 1


def test_editing_a_record_saves_and_logs_what_changed(demo):
    from consultations.services import consultation_update
    from core.locking import StaleEdit

    rec = record()
    version = rec.lock_version
    consultation_update(record=rec, user=user("head"), data={"place": "新会议室"},
                        expected_version=version)
    row = Consultation.objects.get(pk=rec.pk)
    assert (row.place, row.lock_version, row.signature) == ("新会议室", version + 1, "pending")
    event = rec.suggestion.events.filter(action="consultation_edited").get()
    assert event.actor == user("head") and "新会议室" in event.note and "会议室" in event.note
    with pytest.raises(StaleEdit):
        consultation_update(record=Consultation.objects.get(pk=rec.pk), user=user("staff"),
                            data={"place": "别处"}, expected_version=version)
    assert Consultation.objects.get(pk=rec.pk).place == "新会议室"


def test_can_log(demo):
    from consultations.services import can_log

    suggestion = assigned()
    assert can_log(suggestion, user("staff")) and can_log(suggestion, user("head"))
    assert not can_log(suggestion, user("agri_staff"))
    assert not can_log(suggestion, user("office"))
    assert not can_log(suggestion, user("deputy"))


def test_together_enters_each_registered_batch_once_around_the_moves(demo):
    import contextlib

    entered = []

    @contextlib.contextmanager
    def batch():
        entered.append("enter")
        yield
        entered.append("exit")

    rules.batch_with(batch)
    rules.batch_with(batch)  # registered once, however often an app asks
    try:
        with rules.together():
            assert entered == ["enter"]
            rules.run(Suggestion.objects.get(number=124), "assign", user=user("office"),
                      unit=Suggestion.objects.get(number=123).lead_unit, note="")
            assert entered == ["enter"]
        assert entered == ["enter", "exit"]
        assert Suggestion.objects.get(number=124).status == "assigned"
    finally:
        rules._BATCHES.remove(batch)


def test_a_move_that_needs_a_reason_is_refused_without_one(demo):
    suggestion = Suggestion.objects.get(number=122)
    Suggestion.objects.filter(pk=suggestion.pk).update(status=Status.RETURN_REQUESTED)
    suggestion.refresh_from_db()
    office = user("office")
    with pytest.raises(rules.WorkflowError) as refused:
        rules.check(suggestion, "reject_return", office)
    assert str(refused.value) == translation.gettext("Please give a reason.")
    assert rules.check(suggestion, "reject_return", office, note="仍由教育局办理").name == "reject_return"


def test_a_model_gets_one_machine_made_by_its_app(demo):
    from suggestions.models import CoHandling

    with pytest.raises(LookupError, match="CoHandling"):
        rules.machine(CoHandling)

    def log(*args, **kwargs):
        pass

    try:
        made = rules.machine(CoHandling, log=log)
        assert (made.model, made.log, made.status_field) == (CoHandling, log, "status")
        assert rules.machine(CoHandling) is made
        assert rules.machine(CoHandling, log=lambda *a, **k: None) is made
        rules._MACHINES.pop(CoHandling)
        # A model whose state lives in another field names it.
        assert rules.machine(CoHandling, log=log, status_field="required").status_field == "required"
    finally:
        rules._MACHINES.pop(CoHandling, None)


def test_a_refusal_without_words_of_its_own_still_says_why(demo):
    """The engine's own reasons, for a scope or a condition declared without one."""
    from django.db.models import Q

    from core.roles import Role

    nobody = rules.Scope("nobody", lambda user: Q(pk__in=[]), "")
    probes = [
        rules.Move("probe_scope", "probe", frozenset(Status.values), None, {Role.OFFICE: nobody}),
        rules.Move("probe_where", "probe", frozenset(Status.values), None,
                   {Role.OFFICE: rules.EVERYTHING}, where=lambda user: Q(pk__in=[])),
    ]
    workflow.MACHINE.add(*probes)
    try:
        suggestion = Suggestion.objects.get(number=123)
        for name, reason in (("probe_scope", "You are not allowed to do this."),
                             ("probe_where", "This is not possible now.")):
            with pytest.raises(rules.WorkflowError) as refused:
                rules.check(suggestion, name, user("office"))
            assert str(refused.value) == translation.gettext(reason)
    finally:
        for probe in probes:
            workflow.MACHINE.moves.pop(probe.name)


def test_workflow_transition_passes_the_note_on_and_adds_none_of_its_own(demo):
    """``workflow.transition`` (the demo's and older callers' entry) is ``rules.run``: the
    event carries the note given, and an empty one when none is."""
    returned = assigned()
    workflow.transition(returned, name="request_return", user=user("staff"), note="不属于本单位")
    assert returned.events.order_by("pk").last().note == "不属于本单位"
    accepted = assigned()
    workflow.transition(accepted, name="accept", user=user("staff"))
    event = accepted.events.order_by("pk").last()
    assert (event.action, event.note) == ("accept", "")
