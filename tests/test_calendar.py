"""The working calendar (core.calendar): holidays and make-up working days from the
chinese-calendar package, due dates moved off days off, working-day windows, years the
calendar does not know, recomputation when the calendar changes, and the office's warning."""

import datetime

import pytest
from django.core.management import call_command

from core import calendar, checks
from core.calendar import deadline
from core.models import CalendarDay, CalendarYear
from suggestions import workflow
from suggestions.models import CongressSession, Deputy, Event, HandlingUnit, Status, Suggestion

D = datetime.date


@pytest.fixture
def office(user):
    return user("office")


def new_suggestion(number: int) -> Suggestion:
    return Suggestion.objects.create(
        session=CongressSession.objects.get(), number=number, title="关于工作日历的建议",
        content="<p>测试。</p>", lead_deputy=Deputy.objects.get(name="苏红平"),
    )


def unit(name="晋城市工业和信息化局"):
    return HandlingUnit.objects.get(name=name)


def assigned(number: int, on: datetime.date, user, co_units=()) -> Suggestion:
    suggestion = new_suggestion(number)
    workflow.transition(suggestion, name="assign", user=user("office"), unit=unit(),
                        co_units=list(co_units), on=on)
    return suggestion


# --- The calendar as filled from the package (after migrate) ---

def test_migrate_filled_the_calendar_from_the_package(db):
    national_day = CalendarDay.objects.get(date=D(2026, 10, 1))
    assert (national_day.kind, national_day.note, national_day.source) == ("holiday", "国庆节", "package")
    makeup = CalendarDay.objects.get(date=D(2026, 9, 20))  # a Sunday worked for 国庆节
    assert (makeup.kind, makeup.note) == ("workday", "国庆节")
    assert CalendarYear.objects.get(year=2026).complete
    assert CalendarYear.objects.filter(year=2004, complete=True).exists()
    assert not CalendarYear.objects.filter(year=2027).exists()  # the package stops at 2026


def test_sync_holidays_is_idempotent(db, capsys):
    before = list(CalendarDay.objects.values_list("date", "kind", "note", "source"))
    call_command("sync_holidays")
    out = capsys.readouterr().out
    assert "0 days added, 0 updated, 0 removed; 0 deadlines recomputed" in out
    assert list(CalendarDay.objects.values_list("date", "kind", "note", "source")) == before
    # Removed by hand, the package's days come back, and a second run finds nothing to do.
    CalendarDay.objects.filter(date__year=2026, date__month=10).delete()
    first, second = calendar.sync(), calendar.sync()
    assert first.created == 8 and first.changes == 8  # 10-1 … 10-7 off, 10-10 worked
    assert second.changes == 0 and second.recomputed == 0
    assert list(CalendarDay.objects.values_list("date", "kind", "note", "source")) == before


def test_sync_keeps_days_entered_by_hand(db):
    CalendarDay.objects.filter(date=D(2026, 10, 8)).delete()
    local = CalendarDay.objects.create(date=D(2026, 10, 8), kind="holiday", note="本地假日")
    CalendarDay.objects.filter(date=D(2026, 10, 1)).update(kind="workday", note="改", source="manual")
    result = calendar.sync()
    assert result.kept_manual == [D(2026, 10, 1)] and result.changes == 0
    local.refresh_from_db()
    assert local.note == "本地假日"  # the package has no 10-8: the hand-made day stays
    replaced = calendar.sync(replace_manual=True)
    assert replaced.updated == 1 and replaced.removed == 1
    assert CalendarDay.objects.get(date=D(2026, 10, 1)).kind == "holiday"
    assert not CalendarDay.objects.filter(date=D(2026, 10, 8)).exists()


def test_a_package_without_a_year_does_not_fail_the_sync(db, monkeypatch):
    """The package raises for a year it does not know; the sync never asks it for one."""
    import chinese_calendar

    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(D(2027, 3, 1))
    assert calendar.sync().years[-1] == 2026
    monkeypatch.setitem(__import__("sys").modules, "chinese_calendar", None)
    with pytest.raises(calendar.PackageMissing):
        calendar.sync()
    calendar.sync_after_migrate(sender=None)  # without the package: nothing, and no error


# --- Deadlines ---

def test_a_deadline_on_a_holiday_moves_to_the_next_working_day(db):
    due = deadline(D(2026, 7, 1), 3, label="交办")
    assert (due.nominal, due.due) == (D(2026, 10, 1), D(2026, 10, 8))
    assert due.explanation() == "交办 2026年7月1日 + 3个月 = 2026年10月1日（国庆节假期），顺延至2026年10月8日"


def test_a_deadline_on_a_weekend_moves_to_monday(db):
    due = deadline(D(2026, 5, 8), 3, label="交办")  # 2026-08-08 is a Saturday
    assert due.due == D(2026, 8, 10)
    assert due.explanation() == "交办 2026年5月8日 + 3个月 = 2026年8月8日（星期六），顺延至2026年8月10日"


def test_a_make_up_working_day_is_a_valid_deadline(db):
    due = deadline(D(2026, 6, 20), 3, label="交办")  # 2026-09-20: a Sunday worked for 国庆节
    assert due.due == D(2026, 9, 20) and not due.moved
    assert due.explanation() == "交办 2026年6月20日 + 3个月 = 2026年9月20日（星期日，国庆节调休上班）"
    plain = deadline(D(2026, 3, 2), 3, label="交办")
    assert plain.explanation() == "交办 2026年3月2日 + 3个月 = 2026年6月2日"


def test_working_day_windows_skip_holidays_and_count_make_up_days(db):
    assert calendar.add_working_days(D(2026, 9, 18), 1) == D(2026, 9, 20)  # Fri → the make-up Sunday
    assert calendar.add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)  # over 国庆节
    assert calendar.add_working_days(D(2026, 10, 9), 1) == D(2026, 10, 10)  # a make-up Saturday
    assert calendar.add_working_days(D(2026, 10, 8), -1) == D(2026, 9, 30)
    assert calendar.working_days_between(D(2026, 9, 30), D(2026, 10, 8)) == 1
    assert calendar.working_days_between(D(2026, 9, 18), D(2026, 9, 21)) == 2  # Sun 20, Mon 21
    assert calendar.working_days_between(D(2026, 10, 8), D(2026, 9, 30)) == -1
    assert calendar.working_days_between(D(2026, 11, 2), D(2026, 11, 2)) == 0
    assert not calendar.is_working_day(D(2026, 10, 1)) and calendar.is_working_day(D(2026, 10, 10))
    # The legacy name in the workflow is the same calendar.
    assert workflow.add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)


def test_the_return_request_window_counts_working_days(demo, user):
    suggestion = assigned(500, D(2026, 9, 28), user)  # Monday before 国庆节
    # 9-29, 9-30, 10-8, 10-9, 10-10 (make-up Saturday), 10-12, 10-13: the 7th working day.
    staff = user("staff")
    from core import rules

    rules.check(suggestion, "request_return", staff, note="理由", params={"on": D(2026, 10, 13)})
    with pytest.raises(rules.WorkflowError, match="2026-10-13"):
        rules.check(suggestion, "request_return", staff, note="理由", params={"on": D(2026, 10, 14)})


def test_a_year_the_calendar_does_not_know_counts_weekends_only(db):
    assert not CalendarYear.objects.filter(year=2027).exists()
    due = deadline(D(2026, 11, 27), 3, label="交办")  # 2027-02-27, a Saturday
    assert due.due == D(2027, 3, 1) and due.unknown_years == (2027,)
    assert due.explanation() == (
        "交办 2026年11月27日 + 3个月 = 2027年2月27日（星期六），顺延至2027年3月1日"
        "；2027年的节假日安排尚未录入，仅按周末计算"
    )
    assert calendar.is_working_day(D(2027, 10, 1))  # a Friday, for all the calendar knows
    assert calendar.add_working_days(D(2027, 9, 30), 1) == D(2027, 10, 1)
    # Entered by hand, and the year marked complete: the explanation stops hedging.
    CalendarDay.objects.create(date=D(2027, 3, 1), kind="holiday", note="测试假日")
    CalendarYear.objects.create(year=2027, complete=True)
    due = deadline(D(2026, 11, 27), 3, label="交办")
    assert due.due == D(2027, 3, 2) and not due.unknown_years
    assert due.explanation().endswith("（星期六），顺延至2027年3月2日")


def test_every_deadline_the_workflow_sets_is_on_the_calendar(demo, user):
    jyj = unit("晋城市教育局")
    suggestion = assigned(501, D(2026, 7, 1), user, co_units=[jyj])
    assert suggestion.due_on == D(2026, 10, 8)
    assert (suggestion.due_rule, suggestion.due_basis, suggestion.due_months) == ("assign", D(2026, 7, 1), 3)
    co = suggestion.co_handlings.get()
    assert co.due_on == D(2026, 8, 3)  # 8-1 is a Saturday
    assert (co.due_basis, co.due_months) == (D(2026, 7, 1), 1)
    # Reassignment: a new three months from the day it was reassigned.
    workflow.transition(suggestion, name="reassign", user=user("office"),
                        unit=unit("晋城市住房和城乡建设局"), on=D(2026, 7, 2))
    assert suggestion.due_on == D(2026, 10, 8) and suggestion.due_rule == "reassign"
    assert workflow.due_explanation(suggestion) == (
        "重新交办 2026年7月2日 + 3个月 = 2026年10月2日（国庆节假期），顺延至2026年10月8日")
    # Re-handling: a month from the unsatisfied rating.
    Suggestion.objects.filter(pk=suggestion.pk).update(status=Status.REPLIED)
    suggestion.refresh_from_db()
    workflow.transition(suggestion, name="rehandle", user=user("office"), on=D(2026, 9, 1))
    assert suggestion.due_on == D(2026, 10, 8)
    assert workflow.due_explanation(suggestion) == (
        "重新办理 2026年9月1日 + 1个月 = 2026年10月1日（国庆节假期），顺延至2026年10月8日")
    # The extension limit: six months from assignment, off days off.
    suggestion.assigned_on = D(2026, 4, 1)
    assert workflow.extension_limit(suggestion) == D(2026, 10, 8)


# --- Recomputation when the calendar changes ---

def admin_add_day(client, day, kind="holiday", note="临时假日"):
    return client.post("/admin/core/calendarday/add/", {"date": day.isoformat(), "kind": kind, "note": note})


def test_a_holiday_added_in_the_admin_moves_the_deadlines_on_it(demo, login, user):
    open_one = assigned(502, D(2026, 11, 2), user, co_units=[unit("晋城市教育局")])
    assert open_one.due_on == D(2027, 2, 2)  # a Tuesday, in a year the calendar lacks
    co = open_one.co_handlings.get()
    assert co.due_on == D(2026, 12, 2)
    replied = assigned(503, D(2026, 11, 2), user)
    Suggestion.objects.filter(pk=replied.pk).update(status=Status.REPLIED)
    closed = assigned(504, D(2026, 11, 2), user)
    Suggestion.objects.filter(pk=closed.pk).update(status=Status.CLOSED)
    admin = login("admin")

    response = admin_add_day(admin, D(2027, 2, 2), note="春节")
    assert response.status_code == 302
    assert CalendarDay.objects.get(date=D(2027, 2, 2)).source == "manual"
    open_one.refresh_from_db()
    assert open_one.due_on == D(2027, 2, 3)
    event = open_one.events.get(action="deadline_recomputed")
    assert event.note.splitlines()[0] == "2027年2月2日 → 2027年2月3日"
    assert "2027年2月2日（春节假期），顺延至2027年2月3日" in event.note
    assert event.actor.username == "admin"
    assert "2027年2月2日（春节假期），顺延至2027年2月3日" in workflow.due_explanation(open_one)
    for untouched in (replied, closed):
        untouched.refresh_from_db()
        assert untouched.due_on == D(2027, 2, 2)
        assert not untouched.events.filter(action="deadline_recomputed").exists()

    # The co-unit's opinion date too, and only the one whose day changed.
    admin_add_day(admin, D(2026, 12, 2), note="测试")
    co.refresh_from_db()
    assert co.due_on == D(2026, 12, 3)
    co_event = open_one.events.filter(action="deadline_recomputed").last()
    assert co_event.object_label == "晋城市教育局"
    assert co_event.note.startswith("2026年12月2日 → 2026年12月3日")
    open_one.refresh_from_db()
    assert open_one.due_on == D(2027, 2, 3)

    # Deleted again in the admin: the deadline comes back, logged again.
    day = CalendarDay.objects.get(date=D(2027, 2, 2))
    response = admin.post(f"/admin/core/calendarday/{day.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    open_one.refresh_from_db()
    assert open_one.due_on == D(2027, 2, 2)
    assert open_one.events.filter(action="deadline_recomputed").count() == 3


def test_a_make_up_day_entered_for_a_weekend_deadline_keeps_it(demo, login, user):
    suggestion = assigned(505, D(2026, 11, 27), user)  # 2027-02-27 (Sat) → 2027-03-01
    assert suggestion.due_on == D(2027, 3, 1)
    admin_add_day(login("admin"), D(2027, 2, 27), kind="workday", note="春节")
    suggestion.refresh_from_db()
    assert suggestion.due_on == D(2027, 2, 27)
    assert workflow.due_explanation(suggestion) == (
        "交办 2026年11月27日 + 3个月 = 2027年2月27日（星期六，春节调休上班）"
        "；2027年的节假日安排尚未录入，仅按周末计算")


def test_editing_a_note_moves_nothing(demo, login, user):
    suggestion = assigned(506, D(2026, 7, 1), user)
    day = CalendarDay.objects.get(date=D(2026, 10, 1))
    response = login("admin").post(f"/admin/core/calendarday/{day.pk}/change/",
                                   {"date": "2026-10-01", "kind": "holiday", "note": "国庆"})
    assert response.status_code == 302
    suggestion.refresh_from_db()
    assert suggestion.due_on == D(2026, 10, 8)
    assert not suggestion.events.filter(action="deadline_recomputed").exists()
    assert "（国庆假期）" in workflow.due_explanation(suggestion)


def test_the_sync_recomputes_what_it_changes(demo, user):
    suggestion = assigned(507, D(2026, 7, 1), user)
    CalendarDay.objects.filter(date=D(2026, 10, 1)).delete()  # as if the package lacked it
    suggestion.refresh_from_db()
    assert suggestion.due_on == D(2026, 10, 1)
    result = calendar.sync()
    assert (result.created, result.recomputed) == (1, 1)
    suggestion.refresh_from_db()
    assert suggestion.due_on == D(2026, 10, 8)
    assert suggestion.events.filter(action="deadline_recomputed").count() == 2
    assert calendar.sync().recomputed == 0


def test_due_dates_set_before_the_calendar_are_left_alone(demo, user):
    suggestion = assigned(508, D(2026, 7, 1), user)
    Suggestion.objects.filter(pk=suggestion.pk).update(due_rule="", due_basis=None,
                                                       due_on=D(2026, 10, 1))
    assert workflow.recompute_deadlines() == 0
    suggestion.refresh_from_db()
    assert suggestion.due_on == D(2026, 10, 1) and workflow.due_explanation(suggestion) == ""


# --- The office is told when the calendar lacks this year or the next ---

def test_the_system_check_warns_when_next_year_is_missing(db):
    today = datetime.date.today()
    for year in (today.year, today.year + 1):
        CalendarYear.objects.update_or_create(year=year, defaults={"complete": True})
    assert checks.check_calendar_years() == []
    CalendarYear.objects.filter(year=today.year + 1).update(complete=False)
    messages = checks.check_calendar_years()
    assert [m.id for m in messages] == ["core.W001"]
    assert str(today.year + 1) in messages[0].msg and "sync_holidays" in messages[0].hint


def test_missing_years_of_the_package_as_installed(db):
    assert calendar.missing_years(D(2026, 11, 25)) == [2027]
    assert calendar.missing_years(D(2025, 5, 1)) == []
    assert calendar.missing_years(D(2027, 1, 4)) == [2027, 2028]


def test_the_office_sees_the_warning_and_the_units_do_not(demo, login):
    today = datetime.date.today()
    CalendarYear.objects.filter(year__in=(today.year, today.year + 1)).delete()
    suggestion = Suggestion.objects.get(number=120)
    for url in ("/suggestions/", f"/suggestions/{suggestion.pk}/"):
        page = login("office").get(url).content.decode()
        assert "calendar-warning" in page and str(today.year + 1) in page
        assert "calendar-warning" not in login("staff").get(url).content.decode()
    assert "/admin/core/calendarday/" in login("admin").get("/suggestions/").content.decode()
    for year in (today.year, today.year + 1):
        CalendarYear.objects.create(year=year, complete=True)
    assert "calendar-warning" not in login("office").get("/suggestions/").content.decode()


def test_the_detail_page_says_how_the_due_date_was_computed(demo, login, user):
    suggestion = assigned(509, D(2026, 7, 1), user)
    page = login("staff").get(f"/suggestions/{suggestion.pk}/").content.decode()
    assert "交办 2026年7月1日 + 3个月 = 2026年10月1日（国庆节假期），顺延至2026年10月8日" in page
    page = login("deputy").get(f"/suggestions/{suggestion.pk}/").content.decode()
    assert "顺延至2026年10月8日" in page


def test_the_admin_lists_the_calendar(demo, login):
    admin = login("admin")
    assert admin.get("/admin/core/calendarday/?date__year=2026").status_code == 200
    page = admin.get("/admin/core/calendaryear/").content.decode()
    assert "2026" in page


def test_events_of_recomputation_are_labelled(db):
    assert Event(action="deadline_recomputed").action_label
    assert "deadline_recomputed" in workflow.known_actions()



def test_a_deadline_moved_from_the_english_admin_is_logged_in_chinese(demo, login, user):
    from django.conf import settings

    suggestion = assigned(508, D(2026, 11, 27), user)  # 2027-02-27 (Sat) → 2027-03-01
    admin = login("admin")
    admin.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    admin_add_day(admin, D(2027, 2, 27), kind="workday", note="春节")
    event = suggestion.events.get(action="deadline_recomputed")
    assert event.note.startswith("2027年3月1日 → 2027年2月27日\n交办 2026年11月27日 + 3个月")
