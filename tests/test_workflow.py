"""The suggestion state machine: legal and illegal moves, by role, through HTTP and services."""

import datetime

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from core.calendar import deadline
from suggestions.models import CongressSession, Deputy, Event, HandlingUnit, Status, Suggestion
from suggestions.workflow import WorkflowError, add_months, transition


@pytest.fixture
def fresh(demo):
    """A registered suggestion No. 200 led by 苏红平, not yet assigned."""
    suggestion = Suggestion.objects.create(
        session=CongressSession.objects.get(), number=200, title="关于测试工作流程的建议",
        content="<p>测试内容。</p>", lead_deputy=Deputy.objects.get(name="苏红平"),
    )
    return suggestion


def gxj():
    return HandlingUnit.objects.get(name="晋城市工业和信息化局")


def assign(client, suggestion, unit, co_units=()):
    return client.post(f"/suggestions/{suggestion.pk}/assign/", {
        "unit": unit.pk, "co_units": [u.pk for u in co_units],
    })


def test_office_assigns_and_due_date_runs_three_months(fresh, login):
    response = assign(login("office"), fresh, gxj())
    assert response.status_code == 302
    fresh.refresh_from_db()
    assert fresh.status == Status.ASSIGNED
    assert fresh.assigned_on == timezone.localdate()
    # Three months on, or the next working day when that day is a holiday or a weekend (the
    # old expectation, add_months alone, was the weekend-blind rule).
    assert fresh.due_on == deadline(fresh.assigned_on, 3).due >= add_months(fresh.assigned_on, 3)
    event = fresh.events.get(action="assign")
    assert (event.from_status, event.to_status, event.actor.username) == (
        "registered", "assigned", "office",
    )


@pytest.mark.parametrize("username", ["staff", "head", "deputy", "other_staff"])
def test_only_the_office_assigns(fresh, login, username):
    response = assign(login(username), fresh, gxj())
    assert response.status_code in (403, 404)
    fresh.refresh_from_db()
    assert fresh.status == Status.REGISTERED


def test_lead_unit_cannot_be_co_unit(fresh, login):
    client = login("office")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = assign(client, fresh, gxj(), co_units=[gxj()])
    assert response.status_code == 200
    assert "The lead unit cannot also be a co-handling unit." in response.content.decode()
    fresh.refresh_from_db()
    assert fresh.status == Status.REGISTERED


def test_lead_unit_accepts_assignment(fresh, login, user):
    transition(fresh, name="assign", user=user("office"), unit=gxj())
    response = login("staff").post(f"/suggestions/{fresh.pk}/do/accept/")
    assert response.status_code == 302
    fresh.refresh_from_db()
    assert fresh.status == Status.HANDLING and fresh.accepted_on is not None


def test_other_unit_cannot_see_or_accept(fresh, login, user):
    transition(fresh, name="assign", user=user("office"), unit=gxj())
    response = login("other_staff").post(f"/suggestions/{fresh.pk}/do/accept/")
    assert response.status_code == 404
    fresh.refresh_from_db()
    assert fresh.status == Status.ASSIGNED


def test_illegal_move_gets_a_message_not_an_error(fresh, login):
    # Closing a suggestion that was never assigned: refused with a clear message.
    client = login("office")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(f"/suggestions/{fresh.pk}/do/close/", follow=True)
    assert response.status_code == 200
    fresh.refresh_from_db()
    assert fresh.status == Status.REGISTERED
    messages = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert messages == [("error", "“Close” is not possible while this is “registered”.")]


def test_unknown_move_name_is_refused(fresh, login):
    response = login("office").post(f"/suggestions/{fresh.pk}/do/evaporate/")
    assert response.status_code == 403


def test_return_request_needs_a_reason_and_office_reassigns(fresh, login, user):
    transition(fresh, name="assign", user=user("office"), unit=gxj())
    staff = login("staff")
    staff.post(f"/suggestions/{fresh.pk}/do/request_return/", {"note": ""})
    fresh.refresh_from_db()
    assert fresh.status == Status.ASSIGNED
    staff.post(f"/suggestions/{fresh.pk}/do/request_return/", {"note": "不属于本单位职责"})
    fresh.refresh_from_db()
    assert fresh.status == Status.RETURN_REQUESTED
    other = HandlingUnit.objects.get(name="晋城市住房和城乡建设局")
    response = login("office").post(
        f"/suggestions/{fresh.pk}/assign/", {"unit": other.pk, "note": "改由住建局办理"}
    )
    assert response.status_code == 302
    fresh.refresh_from_db()
    assert fresh.status == Status.ASSIGNED and fresh.lead_unit == other
    # The first unit no longer sees it; the new one does.
    assert login("staff").get(f"/suggestions/{fresh.pk}/").status_code == 404
    assert login("other_staff").get(f"/suggestions/{fresh.pk}/").status_code == 200


def test_return_request_only_within_seven_working_days(fresh, user):
    transition(fresh, name="assign", user=user("office"), unit=gxj(),
               on=datetime.date(2026, 11, 2))
    with pytest.raises(WorkflowError):
        transition(fresh, name="request_return", user=user("staff"), note="超出期限",
                   on=datetime.date(2026, 11, 12))


def test_no_replied_without_a_signed_reply(demo, user):
    handling = Suggestion.objects.get(number=123)
    with pytest.raises(WorkflowError, match="签发|signed"):
        transition(handling, name="reply", user=user("staff"))


def test_deputy_cannot_move_someone_elses_suggestion(demo, user):
    theirs = Suggestion.objects.get(number=121)  # led by 王建国 (other_deputy)
    with pytest.raises(WorkflowError):
        transition(theirs, name="close", user=user("deputy"))


def test_deadline_extension_once_and_at_most_six_months(fresh, login, user):
    transition(fresh, name="assign", user=user("office"), unit=gxj(),
               on=datetime.date(2026, 1, 10))
    client = login("office")
    too_late = client.post(f"/suggestions/{fresh.pk}/extend/",
                           {"new_due": "2026-08-01", "note": "情况复杂"})
    assert too_late.status_code == 200
    fresh.refresh_from_db()
    assert fresh.due_on == datetime.date(2026, 4, 10)
    ok = client.post(f"/suggestions/{fresh.pk}/extend/",
                     {"new_due": "2026-07-10", "note": "市政府批准延期"})
    assert ok.status_code == 302
    fresh.refresh_from_db()
    assert fresh.due_on == datetime.date(2026, 7, 10) and fresh.due_extended
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    again = client.post(f"/suggestions/{fresh.pk}/extend/",
                        {"new_due": "2026-07-09", "note": "再次延期"})
    assert again.status_code == 200
    messages = [(m.level_tag, str(m)) for m in again.context["messages"]]
    assert messages[-1] == ("error", "The deadline has already been extended once.")
    fresh.refresh_from_db()
    assert fresh.due_on == datetime.date(2026, 7, 10)


def test_events_are_immutable(demo):
    event = Event.objects.first()
    event.note = "rewritten"
    with pytest.raises(PermissionDenied):
        event.save()
    with pytest.raises(PermissionDenied):
        event.delete()


def test_office_sees_the_figures_it_reports(demo, login):
    figures = login("office").get("/suggestions/").context["figures"]
    # Demo: 4 assigned (120–123), 1 replied (120), met face to face (120), rated satisfied.
    assert figures["assigned"] == 4 and figures["replied_rate"] == "25%"
    assert figures["met_rate"] == "25%" and figures["satisfied_rate"] == "100%"
    assert login("staff").get("/suggestions/").context["figures"] is None


def test_list_filters_by_status_and_text(demo, login):
    client = login("office")
    page = client.get("/suggestions/", {"status": "handling"}).context["page"]
    assert sorted(s.number for s in page) == [121, 123]
    page = client.get("/suggestions/", {"q": "120"}).context["page"]
    assert [s.number for s in page] == [120]
    bad = client.get("/suggestions/", {"status": "nonsense"})
    assert bad.status_code == 200


def test_duplicate_number_in_a_session_gets_a_clear_message(demo, login):
    from suggestions.models import CongressSession, Deputy

    response = login("office").post("/suggestions/new/", {
        "session": CongressSession.objects.get().pk, "number": 120, "title": "重复编号",
        "content": "<p>内容</p>", "lead_deputy": Deputy.objects.get(name="苏红平").pk,
        "disclosure": "agreed",
    })
    assert response.status_code == 200
    assert "本届次已有该编号的建议" in response.content.decode()
    assert Suggestion.objects.filter(number=120).count() == 1


def test_admin_finds_suggestion_by_number_and_title(demo, login):
    client = login("admin")
    page = client.get("/admin/suggestions/suggestion/", {"q": "120"}).content.decode()
    assert "关于应加强加速 5G 新型基建发展" in page and "关于中小学课后服务" not in page
    page = client.get("/admin/suggestions/suggestion/", {"q": "老旧小区"}).content.decode()
    assert "关于加快老旧小区加装电梯工作的建议" in page


@pytest.mark.parametrize("path", [
    "/admin/suggestions/congresssession/", "/admin/suggestions/deputy/",
    "/admin/suggestions/handlingunit/", "/admin/suggestions/staffmember/",
    "/admin/suggestions/event/", "/admin/consultations/consultation/",
    "/admin/consultations/attachment/", "/admin/replies/reply/", "/admin/replies/evaluation/",
    "/admin/auth/user/", "/admin/suggestions/suggestion/1/change/",
])
def test_admin_pages_open(demo, login, path):
    path = path.replace("/1/", f"/{demo.pk}/")
    assert login("admin").get(path).status_code == 200


def test_office_watches_deadlines(demo, login):
    import datetime

    from django.conf import settings
    from django.utils import timezone

    from core.calendar import add_working_days

    today = timezone.localdate()
    # Due soon: within REMINDER_DAYS_BEFORE working days on the calendar (holidays off).
    window = settings.REMINDER_DAYS_BEFORE
    Suggestion.objects.filter(number=121).update(due_on=today - datetime.timedelta(days=1))
    Suggestion.objects.filter(number=122).update(due_on=add_working_days(today, window))
    Suggestion.objects.filter(number=123).update(due_on=add_working_days(today, window + 1))
    client = login("office")
    assert [s.number for s in client.get("/suggestions/", {"overdue": "true"}).context["page"]] == [121]
    soon = client.get("/suggestions/", {"due_soon": "true"}).context["page"]
    assert [s.number for s in soon] == [122]
    response = client.get("/suggestions/")
    figures = response.context["figures"]
    assert figures["overdue"] == 1 and figures["due_soon"] == 1
    # Every row awaiting a reply says how long is left, or how late it is.
    page = response.content.decode()
    assert "超期1天" in page
    assert f"剩余{(add_working_days(today, window) - today).days}天" in page
    assert f"{window}个工作日内到期" in page
