"""Extending the reply deadline: the lead unit asks (with a reason and a date), the congress
office approves or refuses; once, to at most REPLY_MAX_EXTENDED_MONTHS from assignment; the
deputies see the approval. Through HTTP, as people do it."""

import datetime

import pytest
from django.conf import settings
from django.utils import translation

from core import rules
from core.models import CalendarDay
from suggestions import workflow
from suggestions.models import (
    CongressSession,
    Deputy,
    ExtensionRequest,
    HandlingUnit,
    Status,
    Suggestion,
)

D = datetime.date


@pytest.fixture
def handling(demo, user):
    """No. 600, led by 苏红平 with 王建国 co-signing: assigned to 工信局 on 2026-01-10 (due
    2026-04-10, at most 2026-07-10) and accepted."""
    suggestion = Suggestion.objects.create(
        session=CongressSession.objects.get(), number=600, title="关于延期办理的建议",
        content="<p>测试。</p>", lead_deputy=Deputy.objects.get(name="苏红平"),
    )
    suggestion.co_deputies.add(Deputy.objects.get(name="王建国"))
    unit = HandlingUnit.objects.get(name="晋城市工业和信息化局")
    workflow.transition(suggestion, name="assign", user=user("office"), unit=unit,
                        co_units=[HandlingUnit.objects.get(name="晋城市农业农村局")],
                        on=D(2026, 1, 10))
    workflow.transition(suggestion, name="accept", user=user("staff"), on=D(2026, 1, 12))
    assert suggestion.due_on == D(2026, 4, 10)
    return suggestion


def url(suggestion, tail="extend/"):
    return f"/suggestions/{suggestion.pk}/{tail}"


def request_extension(client, suggestion, new_due="2026-06-30", reason="涉及多部门协调，需延期办理"):
    return client.post(url(suggestion), {"new_due": new_due, "reason": reason})


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def pending(suggestion):
    return suggestion.extension_requests.filter(decision="pending")


def test_the_lead_unit_requests_and_nothing_changes_until_the_office_decides(handling, login):
    staff = login("staff")
    page = staff.get(url(handling))
    assert page.status_code == 200 and "2026年7月10日" in page.content.decode()  # the limit
    response = request_extension(staff, handling)
    assert response.status_code == 302
    handling.refresh_from_db()
    assert handling.due_on == D(2026, 4, 10) and not handling.due_extended
    request = pending(handling).get()
    assert (request.proposed_due, request.reason, request.requested_by.username) == (
        D(2026, 6, 30), "涉及多部门协调，需延期办理", "staff")
    event = handling.events.get(action="request_extension")
    assert event.internal and "涉及多部门协调" in event.note and event.actor.username == "staff"
    # The office and the unit see the request on the suggestion; the deputy does not.
    assert "涉及多部门协调" in login("office").get(url(handling, "")).content.decode()
    assert "涉及多部门协调" not in login("deputy").get(url(handling, "")).content.decode()
    # One request at a time.
    assert login("head").get(url(handling)).status_code == 403
    assert request_extension(login("head"), handling).status_code == 403
    assert pending(handling).count() == 1


@pytest.mark.parametrize("username, code", [
    ("deputy", 403), ("other_deputy", 403), ("agri_staff", 403), ("other_staff", 404),
])
def test_only_the_lead_unit_requests(handling, login, username, code):
    # other_deputy (王建国) co-signs No. 600 and agri_staff's unit co-handles it: they see it,
    # and may not ask for an extension; another unit does not even see it.
    assert login(username).get(url(handling)).status_code == code
    assert request_extension(login(username), handling).status_code == code
    assert not handling.extension_requests.exists()


def test_the_head_of_the_lead_unit_may_request(handling, login):
    assert request_extension(login("head"), handling).status_code == 302
    assert pending(handling).exists()


def test_the_office_does_not_request_and_a_unit_does_not_decide(handling, login, user):
    with pytest.raises(rules.WorkflowError):
        rules.run(handling, "request_extension", user=user("office"), new_due=D(2026, 6, 30),
                  reason="代为申请")
    request_extension(login("staff"), handling)
    for username in ("staff", "head"):
        client = login(username)
        # Refusing is a button; the unit's POST is refused with the rule's reason.
        response = client.post(url(handling, "do/refuse_extension/"), {"note": "自己驳回"}, follow=True)
        assert messages_of(response)
        assert client.post(url(handling, "do/approve_extension/")).status_code == 403
        with pytest.raises(rules.WorkflowError):
            rules.run(handling, "approve_extension", user=user(username))
    assert pending(handling).exists()
    handling.refresh_from_db()
    assert handling.due_on == D(2026, 4, 10)


def test_a_refusal_changes_nothing_but_is_logged(handling, login):
    request_extension(login("staff"), handling)
    office = login("office")
    moves = rules.available_moves(handling, _office())
    assert {"extend", "refuse_extension", "approve_extension"} <= set(moves)
    without_reason = office.post(url(handling, "do/refuse_extension/"), {"note": ""})
    assert without_reason.status_code == 302 and pending(handling).exists()
    response = office.post(url(handling, "do/refuse_extension/"), {"note": "理由不充分，请按期答复"})
    assert response.status_code == 302
    handling.refresh_from_db()
    assert handling.due_on == D(2026, 4, 10) and not handling.due_extended
    assert handling.due_rule == "assign"
    assert handling.extension_requests.get().decision == "refused"
    event = handling.events.get(action="refuse_extension")
    assert event.internal and "理由不充分" in event.note and event.actor.username == "office"
    # After a refusal the unit may ask again.
    assert request_extension(login("staff"), handling, reason="新情况").status_code == 302
    assert pending(handling).get().reason == "新情况"


def _office():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="office")


def test_an_approval_moves_the_due_date_and_the_deputies_see_it(handling, login):
    request_extension(login("staff"), handling)
    office = login("office")
    page = office.get(url(handling)).content.decode()
    assert "涉及多部门协调" in page and 'value="2026-06-30"' in page
    response = office.post(url(handling), {"new_due": "2026-06-30", "note": "经研究同意延期"})
    assert response.status_code == 302
    handling.refresh_from_db()
    assert handling.due_on == D(2026, 6, 30) and handling.due_extended
    assert (handling.due_rule, handling.due_basis, handling.due_months) == ("extension", D(2026, 6, 30), None)
    request = handling.extension_requests.get()
    assert (request.decision, request.granted_due, request.decided_by.username) == (
        "approved", D(2026, 6, 30), "office")
    event = handling.events.get(action="approve_extension")
    assert not event.internal and "经研究同意延期" in event.note
    assert event.object_label == "2026-04-10 → 2026-06-30"
    assert workflow.due_explanation(handling) == "延期至2026年6月30日"
    # Every deputy on the suggestion sees it on their timeline, and the new date, explained in
    # the page's language.
    with translation.override("en"):
        assert workflow.due_explanation(handling) == "Extended to June 30, 2026"
    for username in ("deputy", "other_deputy"):
        client = login(username)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        response = client.get(url(handling, ""))
        assert any(entry.title == "The deadline for the reply was extended."
                   for entry in response.context["timeline"]), username
        assert "Extended to June 30, 2026" in response.content.decode()


def test_at_most_once(handling, login):
    request_extension(login("staff"), handling)
    login("office").post(url(handling), {"new_due": "2026-06-30", "note": ""})
    handling.refresh_from_db()
    assert handling.due_extended
    staff = login("staff")
    assert staff.get(url(handling)).status_code == 403
    assert request_extension(staff, handling, new_due="2026-07-10").status_code == 403
    assert handling.extension_requests.count() == 1
    office = login("office")
    office.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    again = office.post(url(handling), {"new_due": "2026-07-09", "note": "再次延期"})
    assert messages_of(again)[-1] == "The deadline has already been extended once."
    handling.refresh_from_db()
    assert handling.due_on == D(2026, 6, 30)


def test_at_most_six_months_from_assignment(handling, login):
    staff = login("staff")
    staff.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    too_late = request_extension(staff, handling, new_due="2026-07-11")
    assert too_late.status_code == 200
    assert "2026-07-10" in messages_of(too_late)[-1]
    too_early = request_extension(staff, handling, new_due="2026-04-10")
    assert "later than the current one" in messages_of(too_early)[-1]
    no_reason = request_extension(staff, handling, reason="")
    assert no_reason.status_code == 200 and not handling.extension_requests.exists()
    assert request_extension(staff, handling, new_due="2026-07-10").status_code == 302
    # The office cannot approve past the limit either.
    office = login("office")
    office.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = office.post(url(handling), {"new_due": "2026-07-11", "note": ""})
    assert "2026-07-10" in messages_of(response)[-1]
    assert pending(handling).exists()


def test_the_limit_is_moved_off_a_holiday(demo, user):
    suggestion = Suggestion.objects.create(
        session=CongressSession.objects.get(), number=601, title="关于延期上限的建议",
        content="<p>测试。</p>", lead_deputy=Deputy.objects.get(name="苏红平"),
    )
    workflow.transition(suggestion, name="assign", user=user("office"),
                        unit=HandlingUnit.objects.get(name="晋城市工业和信息化局"), on=D(2026, 4, 1))
    workflow.transition(suggestion, name="accept", user=user("staff"))
    assert workflow.extension_limit(suggestion) == D(2026, 10, 8)  # 10-1 is 国庆节
    with pytest.raises(rules.WorkflowError):
        rules.run(suggestion, "request_extension", user=user("staff"), new_due=D(2026, 10, 9),
                  reason="理由")
    rules.run(suggestion, "request_extension", user=user("staff"), new_due=D(2026, 10, 8),
              reason="理由")
    assert pending(suggestion).exists()


def test_an_approved_date_on_a_day_off_moves_and_is_otherwise_kept(handling, login, user):
    request_extension(login("staff"), handling, new_due="2026-06-20")  # 端午节
    login("office").post(url(handling), {"new_due": "2026-06-20", "note": ""})
    handling.refresh_from_db()
    assert handling.due_on == D(2026, 6, 22)
    assert workflow.due_explanation(handling) == "延期至2026年6月20日（端午假期），顺延至2026年6月22日"
    # The calendar changes elsewhere: the approved date stays.
    admin = login("admin")
    admin.post("/admin/core/calendarday/add/", {"date": "2026-06-23", "kind": "holiday", "note": "测试"})
    handling.refresh_from_db()
    assert handling.due_on == D(2026, 6, 22)
    # The day it was moved to becomes a day off: it moves on.
    admin.post("/admin/core/calendarday/add/", {"date": "2026-06-22", "kind": "holiday", "note": "测试"})
    handling.refresh_from_db()
    assert handling.due_on == D(2026, 6, 24)
    assert handling.events.filter(action="deadline_recomputed").count() == 1
    assert CalendarDay.objects.filter(date=D(2026, 6, 22), source="manual").exists()


def test_an_approved_working_day_is_never_recomputed(handling, login):
    request_extension(login("staff"), handling)
    login("office").post(url(handling), {"new_due": "2026-06-30", "note": ""})
    assert workflow.recompute_deadlines() == 0
    handling.refresh_from_db()
    assert handling.due_on == D(2026, 6, 30)


def test_the_office_may_approve_another_date(handling, login):
    request_extension(login("staff"), handling, new_due="2026-07-10")
    login("office").post(url(handling), {"new_due": "2026-06-15", "note": "同意延期至6月15日"})
    handling.refresh_from_db()
    assert handling.due_on == D(2026, 6, 15)
    assert handling.extension_requests.get().granted_due == D(2026, 6, 15)


def test_the_office_extends_on_its_own_when_nothing_is_pending(handling, login):
    office = login("office")
    page = office.get(url(handling)).content.decode()
    assert "涉及" not in page
    response = office.post(url(handling), {"new_due": "2026-06-20", "note": "市政府批准延期"})
    assert response.status_code == 302
    handling.refresh_from_db()
    assert handling.due_on == D(2026, 6, 22) and handling.due_extended
    assert handling.events.get(action="extend").object_label == "2026-04-10 → 2026-06-22"


def test_the_office_extend_waits_for_a_pending_request(handling, login, user):
    request_extension(login("staff"), handling)
    with pytest.raises(rules.WorkflowError, match="approve or refuse|同意或不同意"):
        rules.run(handling, "extend", user=user("office"), note="直接延期", new_due=D(2026, 6, 1))
    assert pending(handling).exists()


def test_reassignment_withdraws_a_pending_request(handling, login, user):
    request_extension(login("staff"), handling)
    workflow.transition(handling, name="reassign", user=user("office"),
                        unit=HandlingUnit.objects.get(name="晋城市住房和城乡建设局"), note="改办")
    assert handling.extension_requests.get().decision == "withdrawn"
    assert "approve_extension" not in rules.available_moves(handling, user("office"))


def test_moves_are_declared_for_others_to_hook(db):
    moves = workflow.MACHINE.moves
    assert {"request_extension", "approve_extension", "refuse_extension"} <= set(moves)
    assert moves["refuse_extension"].needs_note and moves["refuse_extension"].ui == "button"
    assert moves["request_extension"].sources == {Status.HANDLING, Status.REHANDLING}


def test_to_do_queries_find_pending_requests(handling, login, user):
    office = user("office")
    queryset = Suggestion.objects.all()
    assert not rules.actionable(queryset, office, ["approve_extension"]).exists()
    request_extension(login("staff"), handling)
    assert list(rules.actionable(queryset, office, ["approve_extension", "refuse_extension"])) == [handling]
    staff_may = rules.actionable(queryset, user("staff"), ["request_extension"])
    assert not staff_may.filter(pk=handling.pk).exists()
    assert ExtensionRequest.objects.filter(decision="pending").count() == 1
