"""``manage.py send_reminders``: replies due soon (REMINDER_DAYS_BEFORE working days) and
overdue, co-handling opinions due soon and overdue; once per suggestion, stage, recipient and
due date, so a second run the same day sends nothing and a changed deadline reminds again.

The runs act on fixed dates (``--date``): Friday 2026-11-20, then Monday 2026-11-23.
"""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import rules
from notifications.models import Kind, Notification, Reminder
from suggestions.models import CoHandling, CongressSession, Deputy, HandlingUnit, Suggestion

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
FRIDAY = datetime.date(2026, 11, 20)
MONDAY = datetime.date(2026, 11, 23)
GXJ, NYNC = "晋城市工业和信息化局", "晋城市农业农村局"


@pytest.fixture
def world(demo, settings):
    """The demo with no deadline of its own running, and no notification from its history."""
    settings.TASKS = IMMEDIATE
    settings.REMINDER_DAYS_BEFORE = 2
    Suggestion.objects.update(due_on=None)
    CoHandling.objects.update(due_on=None)
    Notification.objects.all().delete()
    return demo


def u(username):
    return get_user_model().objects.get(username=username)


_numbers = iter(range(500, 10_000))


def suggestion(*, due, status="handling", co_units=(), co_due=None):
    """A suggestion of 工信局 in ``status`` due on ``due`` (co-units' opinions due ``co_due``)."""
    made = Suggestion.objects.create(
        session=CongressSession.objects.get(name="市八届人大一次会议"), number=next(_numbers),
        title="关于提醒测试的建议", content="<p>提醒测试。</p>",
        lead_deputy=Deputy.objects.get(name="苏红平"),
    )
    rules.run(made, "assign", user=u("office"), unit=HandlingUnit.objects.get(name=GXJ),
              co_units=[HandlingUnit.objects.get(name=name) for name in co_units])
    Suggestion.objects.filter(pk=made.pk).update(due_on=due, status=status)
    CoHandling.objects.filter(suggestion=made).update(due_on=co_due)
    Notification.objects.filter(suggestion=made).delete()  # the assignment's
    return made


def run(day=FRIDAY) -> str:
    out = StringIO()
    call_command("send_reminders", "--date", day.isoformat(), stdout=out)
    return out.getvalue().strip()


def told(kind=None):
    rows = Notification.objects.all() if kind is None else Notification.objects.filter(kind=kind)
    return sorted((n.suggestion_id, n.recipient.username) for n in rows.select_related("recipient"))


def test_reminders_are_sent_once_per_item_stage_and_recipient(world, django_capture_on_commit_callbacks,
                                                              mailoutbox):
    soon = suggestion(due=MONDAY)  # within 2 working days of Friday (the weekend skipped)
    later = suggestion(due=datetime.date(2026, 11, 25))  # 3 working days away
    late = suggestion(due=datetime.date(2026, 11, 19))
    replied = suggestion(due=datetime.date(2026, 11, 19), status="replied")
    co = suggestion(due=None, status="assigned", co_units=[NYNC], co_due=MONDAY)
    with django_capture_on_commit_callbacks(execute=True):
        assert run() == "sent: 5"
    assert told(Kind.DUE_SOON) == [(soon.pk, "head"), (soon.pk, "staff")]
    assert told(Kind.OVERDUE) == [(late.pk, "head"), (late.pk, "staff")]
    assert told(Kind.CO_OPINION_DUE) == [(co.pk, "agri_staff")]
    assert not Notification.objects.filter(suggestion__in=[later, replied]).exists()
    assert sorted(m.to[0] for m in mailoutbox) == [
        "agri_staff@example.org", "head@example.org", "head@example.org",
        "staff@example.org", "staff@example.org",
    ]
    reminder = Notification.objects.get(kind=Kind.CO_OPINION_DUE)
    assert reminder.url == f"/suggestions/{co.pk}/co-opinion/"
    assert reminder.params == {"ref": str(co), "due": MONDAY.isoformat()}
    assert Notification.objects.filter(kind=Kind.DUE_SOON).first().url == f"/suggestions/{soon.pk}/"

    with django_capture_on_commit_callbacks(execute=True):
        assert run() == "sent: 0"  # the same day again
    assert Notification.objects.count() == 5 and len(mailoutbox) == 5

    assert run(MONDAY) == "sent: 2"  # the next working day: `later` is now due soon
    assert told(Kind.DUE_SOON)[-2:] == [(later.pk, "head"), (later.pk, "staff")]
    assert run(MONDAY) == "sent: 0"


def test_a_changed_deadline_reminds_again(world):
    item = suggestion(due=MONDAY)
    assert run() == "sent: 2"
    Suggestion.objects.filter(pk=item.pk).update(due_on=datetime.date(2026, 11, 24))
    assert run() == "sent: 2"
    assert run() == "sent: 0"
    assert Reminder.objects.filter(suggestion=item).count() == 4


def test_nobody_foreign_is_reminded(world):
    suggestion(due=MONDAY, co_units=[NYNC], co_due=MONDAY)
    suggestion(due=datetime.date(2026, 11, 2))
    run()
    assert {name for _pk, name in told()} == {"staff", "head", "agri_staff"}


def test_opinions_in_or_waived_are_not_reminded(world):
    given = suggestion(due=None, co_units=[NYNC], co_due=MONDAY)
    rules.run(given, "co_opinion", user=u("agri_staff"), opinion="同意。")
    waived = suggestion(due=None, co_units=[NYNC], co_due=MONDAY)
    rules.run(waived, "waive_co_opinions", user=u("office"), note="时间紧")
    overdue = suggestion(due=None, co_units=[NYNC], co_due=datetime.date(2026, 11, 1))
    assert run() == "sent: 1"
    assert told() == [(overdue.pk, "agri_staff")]
    assert Notification.objects.get().kind == Kind.CO_OPINION_OVERDUE


def test_inactive_users_are_not_reminded(world):
    get_user_model().objects.filter(username="head").update(is_active=False)
    suggestion(due=MONDAY)
    assert run() == "sent: 1"


def test_the_message_names_the_suggestion_and_the_date_not_its_content(world):
    item = suggestion(due=MONDAY)
    run()
    for notification in Notification.objects.filter(suggestion=item):
        assert f"第{item.number}号建议" in notification.message
        assert "提醒测试" not in notification.message
        assert "2026" in notification.message


def test_the_reminders_cost_the_same_queries_for_more_suggestions(world):
    """Set-based: per stage one query finds what is due, bulk inserts write it."""
    gxj = HandlingUnit.objects.get(name=GXJ)
    session = CongressSession.objects.get(name="市八届人大一次会议")
    deputy = Deputy.objects.get(name="苏红平")

    def add(count, start, due):
        Suggestion.objects.bulk_create([
            Suggestion(session=session, number=n, title="批量", content="", lead_deputy=deputy,
                       lead_unit=gxj, status="handling", due_on=due)
            for n in range(start, start + count)
        ])

    add(3, 2000, MONDAY)
    with CaptureQueriesContext(connection) as few:
        assert run() == "sent: 6"
    add(40, 3000, datetime.date(2026, 11, 24))
    with CaptureQueriesContext(connection) as many:
        assert run() == "sent: 80"
    assert len(many) == len(few)


def test_a_run_queues_each_stages_e_mails_in_one_task(world, django_capture_on_commit_callbacks,
                                                      settings):
    """Each stage is one transaction: its deliveries go to one background task at commit."""
    from django_tasks import task_backends

    from notifications.models import Delivery
    from notifications.tasks import send_deliveries

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    for _ in range(3):
        suggestion(due=MONDAY)
    suggestion(due=datetime.date(2026, 11, 2))
    with django_capture_on_commit_callbacks(execute=True):
        assert run() == "sent: 8"
    queued = [r.args[0] for r in task_backends["default"].results
              if r.task.func is send_deliveries.func]
    assert sorted(len(ids) for ids in queued) == [2, 6]  # overdue, due soon
    assert sorted(pk for ids in queued for pk in ids) == sorted(
        Delivery.objects.values_list("pk", flat=True))
