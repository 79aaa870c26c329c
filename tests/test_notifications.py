"""Notifications: who is told of which move (in-app and by e-mail), and nobody else; never the
letter's content; e-mail sent in the background after the move commits, retried and logged
when it fails; SMS through the configured backend; the inbox and its badge.

The e-mail tasks run synchronously (django-tasks' ImmediateBackend) once the move's
transaction "commits" (``django_capture_on_commit_callbacks(execute=True)``); e-mail goes to
Django's locmem outbox (``mailoutbox``).
"""

from __future__ import annotations

import datetime
import logging
from smtplib import SMTPException

import pytest
from django.contrib.auth import get_user_model
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.utils import timezone

from consultations.services import consultation_create
from core import rules
from core.rules import Move, WorkflowError
from notifications import hooks
from notifications.models import Delivery, Kind, Notification
from replies.models import Reply
from replies.services import (
    reply_create_draft,
    reply_evaluate,
    reply_return,
    reply_send,
    reply_sign,
    reply_submit,
)
from suggestions import workflow
from suggestions.models import CongressSession, Deputy, HandlingUnit, Suggestion

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
# Words of the suggestion and of the letter that no notification may carry.
SECRET_TITLE = "关于保密标题测试的建议"
SECRET_CONTENT = "绝密内容甲乙丙"
SECRET_BODY = "一、具体答复丁戊己"
EVERYONE = ["office", "staff", "head", "other_staff", "other_head", "agri_staff", "edu_staff",
            "deputy", "other_deputy", "admin"]


class FailingEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise SMTPException("mail server down")


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    settings.TASKS = IMMEDIATE
    settings.SMS_BACKEND = "notifications.sms.NullBackend"


@pytest.fixture
def demo(demo):
    """The demo, without the notifications its history wrote (never sent: no commit)."""
    Notification.objects.all().delete()
    return demo


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """committed(fn, *args) runs a move and then what waits for its commit (the e-mail task);
    returns the notifications it wrote."""

    def run(fn, *args, **kwargs):
        before = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        with django_capture_on_commit_callbacks(execute=True):
            fn(*args, **kwargs)
        return list(Notification.objects.filter(pk__gt=before).select_related("recipient"))

    return run


def u(username):
    return get_user_model().objects.get(username=username)


def unit(name):
    return HandlingUnit.objects.get(name=name)


GXJ, NYNC, ZJJ = "晋城市工业和信息化局", "晋城市农业农村局", "晋城市住房和城乡建设局"
_numbers = iter(range(300, 10_000))


def registered(*, co_deputies=()):
    suggestion = Suggestion.objects.create(
        session=CongressSession.objects.get(name="市八届人大一次会议"), number=next(_numbers),
        title=SECRET_TITLE, content=f"<p>{SECRET_CONTENT}</p>",
        lead_deputy=Deputy.objects.get(name="苏红平"),
    )
    suggestion.co_deputies.set(co_deputies)
    return suggestion


def assigned(**kwargs):
    suggestion = registered(**kwargs)
    rules.run(suggestion, "assign", user=u("office"), unit=unit(GXJ))
    return suggestion


def handling(**kwargs):
    suggestion = assigned(**kwargs)
    rules.run(suggestion, "accept", user=u("staff"))
    return suggestion


def draft(**kwargs):
    reply = reply_create_draft(suggestion=handling(**kwargs), user=u("staff"))
    reply.body = f"{SECRET_BODY}\n感谢您的关心。"
    reply.save()
    return reply


def pending(**kwargs):
    return reply_submit(reply=draft(**kwargs), user=u("staff"))


def signed(**kwargs):
    return reply_sign(reply=pending(**kwargs), user=u("head"))


def sent(**kwargs):
    return reply_send(reply=signed(**kwargs), user=u("staff"))


def recipients(notifications, kind=None):
    return sorted(n.recipient.username for n in notifications if kind is None or n.kind == kind)


def mailed(mailoutbox):
    return sorted(address for message in mailoutbox for address in message.to)


def assert_only(notifications, kind, usernames, mailoutbox=None):
    assert recipients(notifications) == sorted(usernames)
    assert {n.kind for n in notifications} == {kind}
    if mailoutbox is not None:
        assert mailed(mailoutbox) == sorted(f"{name}@example.org" for name in usernames)


# --- Every trigger: who is told, in-app and by e-mail ---------------------------------------

def test_assignment_tells_the_units_staff_and_asks_the_co_units_for_their_opinion(
        demo, committed, mailoutbox):
    suggestion = registered()
    made = committed(rules.run, suggestion, "assign", user=u("office"), unit=unit(GXJ),
                     co_units=[unit(NYNC)])
    assert recipients(made, Kind.ASSIGNED) == ["head", "staff"]
    assert recipients(made, Kind.CO_OPINION_REQUESTED) == ["agri_staff"]
    assert len(made) == 3  # nobody else: not the office, another unit, the deputies
    assert mailed(mailoutbox) == ["agri_staff@example.org", "head@example.org",
                                  "staff@example.org"]
    co = next(n for n in made if n.kind == Kind.CO_OPINION_REQUESTED)
    assert co.url == f"/suggestions/{suggestion.pk}/co-opinion/"
    due = suggestion.co_handlings.get().due_on
    assert co.params["due"] == due.isoformat()
    assigned_to = next(n for n in made if n.kind == Kind.ASSIGNED)
    assert assigned_to.url == f"/suggestions/{suggestion.pk}/"
    assert f"第{suggestion.number}号建议" in assigned_to.message


def test_e_mail_carries_the_message_and_a_link_to_the_page(demo, committed, mailoutbox, settings):
    settings.PUBLIC_BASE_URL = "https://jy.example.gov.cn/"
    settings.DEFAULT_FROM_EMAIL = "noreply@jy.example.gov.cn"
    suggestion = registered()
    committed(rules.run, suggestion, "assign", user=u("office"), unit=unit(GXJ))
    message = next(m for m in mailoutbox if m.to == ["staff@example.org"])
    assert f"第{suggestion.number}号建议" in message.subject
    assert f"https://jy.example.gov.cn/suggestions/{suggestion.pk}/" in message.body
    assert message.from_email == "noreply@jy.example.gov.cn"
    delivery = Delivery.objects.get(address="staff@example.org",
                                    notification__suggestion=suggestion)
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 1


def test_reassignment_tells_the_new_unit_and_does_not_ask_co_units_twice(demo, committed):
    suggestion = registered()
    rules.run(suggestion, "assign", user=u("office"), unit=unit(GXJ), co_units=[unit(NYNC)])
    made = committed(rules.run, suggestion, "reassign", user=u("office"), unit=unit(ZJJ),
                     co_units=[unit(NYNC)])
    assert_only(made, Kind.ASSIGNED, ["other_head", "other_staff"])


def test_return_request_tells_the_office(demo, committed, mailoutbox):
    suggestion = assigned()
    made = committed(rules.run, suggestion, "request_return", user=u("staff"),
                     note="不属于本单位职责")
    assert_only(made, Kind.RETURN_REQUESTED, ["office"], mailoutbox)
    assert made[0].url == f"/suggestions/{suggestion.pk}/"


def test_reply_awaiting_sign_off_tells_the_issuing_units_heads(demo, committed, mailoutbox):
    reply = draft()
    made = committed(reply_submit, reply=reply, user=u("staff"))
    assert_only(made, Kind.AWAITING_SIGNOFF, ["head"], mailoutbox)
    assert made[0].url == f"/replies/{reply.pk}/"


def test_reply_returned_for_revision_tells_the_drafter(demo, committed, mailoutbox):
    reply = pending()
    made = committed(reply_return, reply=reply, user=u("head"), note="请补充数据")
    assert_only(made, Kind.REPLY_RETURNED, ["staff"], mailoutbox)
    assert made[0].url == f"/replies/{reply.pk}/edit/"


def record_data(signature="pending", deputy="苏红平"):
    return {"deputy": Deputy.objects.get(name=deputy), "method": "face",
            "held_on": datetime.date(2026, 11, 20), "place": "市工信局会议室",
            "attendees": "延娜", "signature": signature}


def test_consultation_record_awaiting_confirmation_tells_the_deputy_on_it(
        demo, committed, mailoutbox):
    suggestion = handling()
    made = committed(consultation_create, suggestion=suggestion, user=u("staff"),
                     data=record_data())
    assert_only(made, Kind.CONSULTATION_TO_CONFIRM, ["deputy"], mailoutbox)
    record = suggestion.consultations.get()
    assert made[0].url == f"/consultations/{record.pk}/"


def test_a_record_signed_on_paper_or_of_a_deputy_without_login_tells_nobody(demo, committed):
    suggestion = handling(co_deputies=[Deputy.objects.get(name="李秀梅")])
    assert committed(consultation_create, suggestion=suggestion, user=u("staff"),
                     data=record_data(signature="paper")) == []
    assert committed(consultation_create, suggestion=suggestion, user=u("staff"),
                     data=record_data(deputy="李秀梅")) == []


def test_reply_sent_tells_every_deputy_with_a_login(demo, committed, mailoutbox):
    cosigner = Deputy.objects.get(name="李秀梅")
    cosigner.user = get_user_model().objects.create_user("li", email="li@example.org")
    cosigner.save()
    reply = signed(co_deputies=[cosigner])
    made = committed(reply_send, reply=reply, user=u("staff"))
    assert_only(made, Kind.REPLY_SENT, ["deputy", "li"])
    assert mailed(mailoutbox) == ["deputy@example.org", "li@example.org"]
    assert {n.url for n in made} == {f"/replies/{reply.pk}/"}


def test_unsatisfied_rating_tells_the_office_and_the_lead_unit(demo, committed, mailoutbox):
    reply = sent()
    made = committed(reply_evaluate, reply=reply, user=u("deputy"),
                     deputy=Deputy.objects.get(name="苏红平"), attitude="unsatisfied",
                     result="unsatisfied", comment=SECRET_CONTENT)
    assert_only(made, Kind.REHANDLING, ["head", "office", "staff"], mailoutbox)
    suggestion = Suggestion.objects.get(pk=reply.suggestion_id)
    assert suggestion.status == "rehandling"
    assert made[0].params["due"] == suggestion.due_on.isoformat()


def test_a_satisfied_rating_tells_nobody(demo, committed):
    reply = sent()
    assert committed(reply_evaluate, reply=reply, user=u("deputy"),
                     deputy=Deputy.objects.get(name="苏红平"), attitude="satisfied",
                     result="satisfied") == []


def test_the_offices_own_extension_tells_the_unit_and_the_deputies(demo, committed, mailoutbox):
    suggestion = handling()
    new_due = suggestion.due_on + datetime.timedelta(days=30)
    made = committed(rules.run, suggestion, "extend", user=u("office"), note="情况复杂",
                     new_due=new_due)
    assert_only(made, Kind.DEADLINE_EXTENDED, ["deputy", "head", "staff"], mailoutbox)
    suggestion.refresh_from_db()  # (a limit ending on a day off moves to the next working day)
    assert made[0].params["due"] == suggestion.due_on.isoformat()


HAS_EXTENSION_REQUESTS = "approve_extension" in workflow.MACHINE.moves


@pytest.mark.skipif(not HAS_EXTENSION_REQUESTS, reason="no extension request moves declared")
def test_extension_requests_and_decisions(demo, committed, mailoutbox):
    """request_extension tells the office; approve_extension the unit and the deputies;
    refuse_extension the unit only (the request and its refusal are internal)."""
    suggestion = handling()
    proposed = suggestion.due_on + datetime.timedelta(days=30)
    made = committed(rules.run, suggestion, "request_extension", user=u("staff"),
                     new_due=proposed, reason="需跨部门协调")
    assert_only(made, Kind.EXTENSION_REQUESTED, ["office"])
    made = committed(rules.run, suggestion, "approve_extension", user=u("office"), note="同意")
    assert_only(made, Kind.DEADLINE_EXTENDED, ["deputy", "head", "staff"])
    suggestion.refresh_from_db()
    assert made[0].params["due"] == suggestion.due_on.isoformat()

    other = handling()
    committed(rules.run, other, "request_extension", user=u("staff"),
              new_due=other.due_on + datetime.timedelta(days=30), reason="需跨部门协调")
    made = committed(rules.run, other, "refuse_extension", user=u("office"), note="理由不足")
    assert_only(made, Kind.EXTENSION_REFUSED, ["head", "staff"])
    assert "需跨部门协调" not in made[0].message and "理由不足" not in made[0].message


def test_extension_decisions_are_hooked_on_any_machine_that_declares_them(
        demo, committed, monkeypatch):
    """approve_extension / refuse_extension on a machine that has them, whatever
    suggestions.workflow declares today."""

    def approve(suggestion, user, params):
        suggestion.due_on = params["new_due"]

    fake = rules.Machine(Suggestion, log=lambda *args, **kwargs: None)
    fake.add(
        Move("approve_extension", "approve", frozenset({"handling"}), None,
             workflow.COORDINATORS, effects=(approve,), save_fields=("due_on",)),
        Move("refuse_extension", "refuse", frozenset({"handling"}), None,
             workflow.COORDINATORS, save_fields=()),
    )
    hooked = hooks.install(fake, rules.machine(Reply))
    assert {"approve_extension", "refuse_extension"} <= set(hooked)
    suggestion = handling()
    monkeypatch.setitem(rules._MACHINES, Suggestion, fake)
    new_due = suggestion.due_on + datetime.timedelta(days=30)
    made = committed(rules.run, suggestion, "approve_extension", user=u("office"),
                     new_due=new_due)
    assert_only(made, Kind.DEADLINE_EXTENDED, ["deputy", "head", "staff"])
    assert made[0].params["due"] == new_due.isoformat()
    made = committed(rules.run, suggestion, "refuse_extension", user=u("office"))
    assert_only(made, Kind.EXTENSION_REFUSED, ["head", "staff"])


def test_the_moves_carry_the_notification_effects_once():
    moves = workflow.MACHINE.moves
    names = ["assign", "reassign", "request_return", "rehandle", "log_consultation", "extend"]
    if HAS_EXTENSION_REQUESTS:
        names += ["request_extension", "approve_extension", "refuse_extension"]
    for name in names:
        assert sum(e.__module__ == "notifications.hooks" for e in moves[name].effects) == 1, name
    for name in ["submit", "return", "send"]:
        effects = rules.machine(Reply).moves[name].effects
        assert sum(e.__module__ == "notifications.hooks" for e in effects) == 1, name
    hooks.install()  # a second install (ready() run twice) adds nothing
    assert sum(e.__module__ == "notifications.hooks" for e in moves["assign"].effects) == 1


# --- Nothing for a refused or rolled-back move; nobody foreign; no content -------------------

def test_a_refused_move_tells_nobody(demo, committed, mailoutbox):
    suggestion = assigned()
    with pytest.raises(WorkflowError):
        committed(rules.run, suggestion, "request_return", user=u("other_staff"), note="x")
    with pytest.raises(WorkflowError):
        committed(rules.run, suggestion, "request_return", user=u("staff"), note="")
    reply = draft()
    with pytest.raises(WorkflowError):
        committed(reply_submit, reply=reply, user=u("other_staff"))
    assert not Notification.objects.filter(kind__in=[Kind.RETURN_REQUESTED,
                                                     Kind.AWAITING_SIGNOFF]).exists()
    assert mailoutbox == []


def test_a_rolled_back_move_leaves_no_notification_and_sends_nothing(
        demo, django_capture_on_commit_callbacks, mailoutbox):
    suggestion = registered()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            rules.run(suggestion, "assign", user=u("office"), unit=unit(GXJ))
            assert Notification.objects.filter(suggestion=suggestion).count() == 2
            raise RuntimeError("a later step fails")
    assert callbacks == []
    assert not Notification.objects.filter(suggestion=suggestion).exists()
    assert mailoutbox == []


def test_nobody_foreign_is_told_along_the_whole_path(demo, committed, mailoutbox):
    made = []
    suggestion = registered()
    made += committed(rules.run, suggestion, "assign", user=u("office"), unit=unit(GXJ))
    made += committed(rules.run, suggestion, "accept", user=u("staff"))
    made += committed(consultation_create, suggestion=suggestion, user=u("staff"),
                      data=record_data())
    reply = reply_create_draft(suggestion=suggestion, user=u("staff"))
    reply.body = f"{SECRET_BODY}\n感谢您的关心。"
    reply.save()
    made += committed(reply_submit, reply=reply, user=u("staff"))
    made += committed(reply_return, reply=reply, user=u("head"), note="补充")
    made += committed(reply_submit, reply=reply, user=u("staff"))
    made += committed(reply_sign, reply=reply, user=u("head"))
    made += committed(reply_send, reply=reply, user=u("staff"))
    made += committed(reply_evaluate, reply=reply, user=u("deputy"),
                      deputy=Deputy.objects.get(name="苏红平"), attitude="unsatisfied",
                      result="unsatisfied")
    told = set(recipients(made))
    assert told == {"staff", "head", "deputy", "office"}
    foreign = {"other_staff", "other_head", "other_deputy", "agri_staff", "edu_staff"}
    assert not {m.to[0].split("@")[0] for m in mailoutbox} & foreign
    # ... and no notification says what the suggestion or the letter says.
    texts = [n.message for n in made] + [f"{m.subject}\n{m.body}" for m in mailoutbox]
    assert texts
    for text in texts:
        for secret in (SECRET_TITLE, SECRET_CONTENT, SECRET_BODY, "丁戊己", "保密标题"):
            assert secret not in text


def test_nothing_is_stored_of_the_content_either(demo, committed):
    made = committed(reply_send, reply=signed(), user=u("staff"))
    for notification in made:
        stored = f"{notification.params} {notification.url}"
        assert SECRET_TITLE not in stored and SECRET_BODY not in stored


def test_the_actor_is_not_told_of_their_own_move(demo, committed):
    reply = draft()
    # A head who submits a draft is not asked to sign it off by themself.
    made = committed(reply_submit, reply=reply, user=u("head"))
    assert made == []


# --- Background e-mail: after commit, retried and logged on failure --------------------------

def test_a_failed_e_mail_is_retried_and_logged_and_the_in_app_copy_stays(
        demo, committed, mailoutbox, settings, caplog):
    settings.EMAIL_BACKEND = "test_notifications.FailingEmailBackend"
    suggestion = assigned()
    with caplog.at_level(logging.WARNING, logger="notifications.tasks"):
        made = committed(rules.run, suggestion, "request_return", user=u("staff"), note="x")
    assert_only(made, Kind.RETURN_REQUESTED, ["office"])
    delivery = Delivery.objects.get(notification=made[0])
    assert delivery.status == Delivery.Status.PENDING
    assert delivery.attempts == 1 and "mail server down" in delivery.last_error
    assert delivery.next_attempt_at > timezone.now()
    assert "office@example.org" in caplog.text and "retrying" in caplog.text
    assert Notification.objects.filter(pk=made[0].pk, read_at__isnull=True).exists()

    # The mail server is back; the retry (send_reminders / retry_notifications) sends it.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from notifications.tasks import retry_due

    assert retry_due(now=timezone.now()) == 0  # not due yet
    # (with the assignment's e-mails, which the test never committed, so never queued)
    assert retry_due(now=timezone.now() + datetime.timedelta(hours=1)) == 3
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 2
    assert mailed(mailoutbox) == ["head@example.org", "office@example.org", "staff@example.org"]


def test_a_failed_send_requeues_itself_with_a_delay_when_the_backend_can_defer(
        demo, committed, settings):
    from django_tasks import task_backends

    from notifications.tasks import send_deliveries

    settings.TASKS = DUMMY
    settings.EMAIL_BACKEND = "test_notifications.FailingEmailBackend"
    settings.NOTIFICATION_RETRY_DELAYS = [60, 600]
    suggestion = assigned()
    committed(rules.run, suggestion, "request_return", user=u("staff"), note="x")
    backend = task_backends["default"]
    queued = [r for r in backend.results if r.task.func is send_deliveries.func]
    assert len(queued) == 1  # queued on commit, not run yet
    delivery = Delivery.objects.get(address="office@example.org")
    assert queued[0].args == [[delivery.pk]]

    before = timezone.now()
    send_deliveries.call([delivery.pk])
    again = [r for r in backend.results if r.task.func is send_deliveries.func][-1]
    assert again.args == [[delivery.pk]]
    assert again.task.run_after >= before + datetime.timedelta(seconds=60)
    send_deliveries.call([delivery.pk])  # the 2nd retry
    send_deliveries.call([delivery.pk])  # the last attempt fails too: given up
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED and delivery.attempts == 3
    send_deliveries.call([delivery.pk])  # a failed delivery is not sent again
    delivery.refresh_from_db()
    assert delivery.attempts == 3


def test_giving_up_is_logged_as_an_error(demo, committed, settings, caplog):
    settings.EMAIL_BACKEND = "test_notifications.FailingEmailBackend"
    settings.NOTIFICATION_RETRY_DELAYS = []
    with caplog.at_level(logging.WARNING, logger="notifications.tasks"):
        committed(rules.run, assigned(), "request_return", user=u("staff"), note="x")
    delivery = Delivery.objects.get(address="office@example.org")
    assert delivery.status == Delivery.Status.FAILED
    assert any(r.levelno == logging.ERROR and "giving up" in r.getMessage() for r in caplog.records)


def test_a_delivery_is_sent_once_however_often_it_is_queued(demo, committed, mailoutbox):
    from notifications.tasks import send_deliveries

    committed(rules.run, assigned(), "request_return", user=u("staff"), note="x")
    delivery = Delivery.objects.get(address="office@example.org")
    assert send_deliveries.call([delivery.pk, delivery.pk]) == 0
    assert mailed(mailoutbox) == ["office@example.org"]


def test_users_without_an_address_get_the_in_app_copy_only(demo, committed, mailoutbox):
    get_user_model().objects.filter(username="office").update(email="")
    made = committed(rules.run, assigned(), "request_return", user=u("staff"), note="x")
    assert_only(made, Kind.RETURN_REQUESTED, ["office"])
    assert mailoutbox == [] and not Delivery.objects.filter(notification__in=made).exists()


# --- Queuing: one task per transaction; a few queries per move, whoever is told -----------------

def queued_tasks():
    from django_tasks import task_backends

    from notifications.tasks import send_deliveries

    return [r for r in task_backends["default"].results if r.task.func is send_deliveries.func]


def test_a_transactions_deliveries_are_queued_in_one_task_at_commit(
        demo, django_capture_on_commit_callbacks, settings):
    settings.TASKS = DUMMY
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            for _ in range(3):
                rules.run(registered(), "assign", user=u("office"), unit=unit(GXJ),
                          co_units=[unit(NYNC)])
            assert queued_tasks() == []  # nothing before the commit
    assert len(callbacks) == 1
    [queued] = queued_tasks()
    assert sorted(queued.args[0]) == sorted(Delivery.objects.values_list("pk", flat=True))
    assert len(queued.args[0]) == 9  # staff, head, agri_staff × 3


def test_a_large_transaction_is_queued_in_chunks(
        demo, django_capture_on_commit_callbacks, settings, monkeypatch):
    from notifications import services

    settings.TASKS = DUMMY
    monkeypatch.setattr(services, "TASK_CHUNK", 4)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for _ in range(3):
            rules.run(registered(), "assign", user=u("office"), unit=unit(GXJ),
                      co_units=[unit(NYNC)])
    assert [len(task.args[0]) for task in queued_tasks()] == [4, 4, 1]


def test_a_rolled_back_part_of_a_transaction_queues_nothing_of_its_own(
        demo, django_capture_on_commit_callbacks, mailoutbox):
    """The batch is registered by the first move; when that move's savepoint is rolled back,
    the next move starts a new one. Deliveries of a rolled-back move are never sent."""
    first, second, third = registered(), registered(), registered()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            rules.run(first, "assign", user=u("office"), unit=unit(NYNC))
            raise RuntimeError
        rules.run(second, "assign", user=u("office"), unit=unit(GXJ))
        with pytest.raises(RuntimeError), transaction.atomic():
            rules.run(third, "assign", user=u("office"), unit=unit(ZJJ))
            raise RuntimeError
    assert mailed(mailoutbox) == ["head@example.org", "staff@example.org"]
    assert not Notification.objects.filter(suggestion__in=[first, third]).exists()
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


def test_an_import_queues_its_e_mails_in_one_task(demo, django_capture_on_commit_callbacks,
                                                  settings):
    import csv
    import io

    from suggestions import importing

    settings.TASKS = DUMMY
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["会议", "建议编号", "标题", "领衔代表", "附议代表", "主要内容", "主办单位",
                     "协办单位", "交办日期"])
    for number in range(700, 710):
        writer.writerow(["市八届人大一次会议", number, f"关于第{number}号事项的建议", "苏红平",
                         "李秀梅、王建国", "建议研究落实。", GXJ, "市农业农村局、市教育局",
                         "2026-03-02"])
    with django_capture_on_commit_callbacks(execute=True):
        importing.commit(text.getvalue().encode(), "交办清单.csv", user=u("office"))
    [queued] = queued_tasks()
    assert len(queued.args[0]) == 40  # staff, head, agri_staff, edu_staff × 10
    assert Notification.objects.filter(kind=Kind.CO_OPINION_REQUESTED).count() == 20


def test_an_assignment_costs_the_notifications_three_queries(demo, settings):
    """One query finds everyone to tell (the lead unit's staff, the co-units' with their due
    dates, and who was asked before), one inserts the notifications, one their deliveries;
    the suggestion's session comes with the locked row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.SMS_BACKEND = "notifications.sms.ConsoleBackend"
    suggestion = registered(co_deputies=Deputy.objects.exclude(name="苏红平"))
    office, lead, co_units = u("office"), unit(GXJ), [unit(NYNC), unit("晋城市教育局")]
    with CaptureQueriesContext(connection) as captured:
        rules.run(suggestion, "assign", user=office, unit=lead, co_units=co_units)
    ours = [q["sql"] for q in captured.captured_queries
            if "notifications_" in q["sql"] or '"auth_user"' in q["sql"]]
    assert len(ours) == 3, ours
    assert not any(q["sql"].startswith('SELECT "suggestions_congresssession"')
                   for q in captured.captured_queries)
    made = Notification.objects.filter(suggestion=suggestion).select_related("recipient")
    assert recipients(made, Kind.ASSIGNED) == ["head", "staff"]
    assert recipients(made, Kind.CO_OPINION_REQUESTED) == ["agri_staff", "edu_staff"]
    assert Delivery.objects.filter(notification__in=made, channel="sms").count() == 2


def test_moves_made_together_notify_as_one_by_one(demo):
    """Inside rules.together() (an import) recipients are found and written at the end; a
    suggestion assigned and then reassigned in the block is told as if one by one: nobody
    is asked twice, the co-unit added later is asked."""
    suggestion = registered()
    with rules.together():
        rules.run(suggestion, "assign", user=u("office"), unit=unit(GXJ), co_units=[unit(NYNC)])
        assert not Notification.objects.filter(suggestion=suggestion).exists()  # not yet
        rules.run(suggestion, "reassign", user=u("office"), unit=unit(ZJJ),
                  co_units=[unit(NYNC), unit("晋城市教育局")])
    made = Notification.objects.filter(suggestion=suggestion).select_related("recipient")
    assert recipients(made, Kind.ASSIGNED) == ["head", "other_head", "other_staff", "staff"]
    assert recipients(made, Kind.CO_OPINION_REQUESTED) == ["agri_staff", "edu_staff"]


def test_reassignment_asks_a_co_unit_added_later_and_nobody_twice(demo, committed):
    suggestion = registered()
    rules.run(suggestion, "assign", user=u("office"), unit=unit(GXJ), co_units=[unit(NYNC)])
    made = committed(rules.run, suggestion, "reassign", user=u("office"), unit=unit(ZJJ),
                     co_units=[unit(NYNC), unit("晋城市教育局")])
    assert recipients(made, Kind.ASSIGNED) == ["other_head", "other_staff"]
    assert recipients(made, Kind.CO_OPINION_REQUESTED) == ["edu_staff"]
    co = next(n for n in made if n.kind == Kind.CO_OPINION_REQUESTED)
    assert co.params["due"] == suggestion.co_handlings.get(unit__name="晋城市教育局").due_on.isoformat()


def test_failed_deliveries_of_one_task_are_retried_together(demo, committed, settings,
                                                            monkeypatch):
    from notifications import tasks

    settings.TASKS = DUMMY
    settings.EMAIL_BACKEND = "test_notifications.FailingEmailBackend"
    opened = []
    real = tasks.get_connection
    monkeypatch.setattr(tasks, "get_connection",
                        lambda *a, **k: opened.append(1) or real(*a, **k))
    committed(rules.run, registered(), "assign", user=u("office"), unit=unit(GXJ),
              co_units=[unit(NYNC)])
    [queued] = queued_tasks()
    before = timezone.now()
    assert tasks.send_deliveries.call(queued.args[0]) == 0
    assert len(opened) == 3  # the failed connection is not reused
    [again] = queued_tasks()[1:]
    assert sorted(again.args[0]) == sorted(queued.args[0])
    assert again.task.run_after >= before + datetime.timedelta(seconds=60)
    assert set(Delivery.objects.values_list("status", "attempts")) == {("pending", 1)}

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    opened.clear()
    assert tasks.send_deliveries.call(again.args[0]) == 3
    assert len(opened) == 1  # one connection to the mail server for the task's e-mails
    assert set(Delivery.objects.values_list("status", "attempts")) == {("sent", 2)}


# --- SMS ---------------------------------------------------------------------------------------

def test_sms_goes_to_the_phone_through_the_file_backend(demo, committed, settings, tmp_path):
    settings.SMS_BACKEND = "notifications.sms.FileBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.log")
    suggestion = handling()
    committed(reply_send, reply=reply_create_and_sign(suggestion), user=u("staff"))
    lines = (tmp_path / "sms.log").read_text(encoding="utf-8").splitlines()
    deputy_lines = [line for line in lines if "\t13935685333\t" in line]  # 苏红平's phone
    assert len(deputy_lines) == 1
    assert f"第{suggestion.number}号建议" in deputy_lines[0]
    assert SECRET_BODY not in "\n".join(lines)
    sms = Delivery.objects.get(channel="sms", notification__kind=Kind.REPLY_SENT)
    assert (sms.address, sms.status) == ("13935685333", "sent")


def reply_create_and_sign(suggestion):
    reply = reply_create_draft(suggestion=suggestion, user=u("staff"))
    reply.body = f"{SECRET_BODY}\n感谢您的关心。"
    reply.save()
    reply_submit(reply=reply, user=u("staff"))
    return reply_sign(reply=reply, user=u("head"))


def test_sms_backend_is_called_with_the_staff_members_phone(demo, committed, settings, caplog):
    settings.SMS_BACKEND = "notifications.sms.ConsoleBackend"
    with caplog.at_level(logging.INFO, logger="notifications.sms"):
        made = committed(rules.run, registered(), "assign", user=u("office"), unit=unit(GXJ))
    assert "SMS to 2218762" in caplog.text  # staff's and head's phone (the demo's)
    sms = Delivery.objects.filter(channel="sms", notification__in=made)
    assert sorted(sms.values_list("address", "status")) == [("2218762", "sent")] * 2


def test_a_failed_sms_is_retried_too(demo, committed, settings, caplog, monkeypatch):
    from notifications import sms

    calls = []

    def broken(self, phone, text):
        calls.append(phone)
        raise OSError("gateway down")

    monkeypatch.setattr(sms.ConsoleBackend, "send", broken)
    settings.SMS_BACKEND = "notifications.sms.ConsoleBackend"
    made = committed(rules.run, assigned(), "request_return", user=u("staff"), note="x")
    assert made and calls == []  # office has no phone in the demo
    made = committed(rules.run, registered(), "assign", user=u("office"), unit=unit(GXJ))
    assert calls == ["2218762", "2218762"]
    sms = Delivery.objects.filter(channel="sms", notification__in=made)
    assert list(sms.values_list("status", "attempts")) == [("pending", 1)] * 2


def test_no_sms_backend_no_sms(demo, committed):
    committed(rules.run, registered(), "assign", user=u("office"), unit=unit(GXJ))
    assert not Delivery.objects.filter(channel="sms").exists()


# --- The inbox and the badge -----------------------------------------------------------------

def test_the_badge_counts_unread_notifications_on_every_page(demo, committed, login):
    Notification.objects.all().delete()
    committed(rules.run, registered(), "assign", user=u("office"), unit=unit(GXJ))
    committed(rules.run, registered(), "assign", user=u("office"), unit=unit(GXJ))
    client = login("staff")
    page = client.get("/suggestions/").content.decode()
    assert 'href="/notifications/"' in page
    assert ">2</span>" in page.split('href="/notifications/"')[1].split("</a>")[0]
    client.get("/notifications/")  # opening the inbox reads them
    page = client.get("/suggestions/").content.decode()
    assert "badge" not in page.split('href="/notifications/"')[1].split("</a>")[0]


def test_the_badge_is_one_count_query(demo, django_assert_num_queries):
    from django.template import Context, Template
    from django.test import RequestFactory

    from notifications.context_processors import unread

    request = RequestFactory().get("/")
    request.user = u("staff")
    template = Template("{% if unread_notifications %}{{ unread_notifications }}"
                        "{{ unread_notifications }}{% endif %}")
    with django_assert_num_queries(1) as captured:
        template.render(Context(unread(request)))
    assert "COUNT" in captured.captured_queries[0]["sql"].upper()


def test_the_inbox_shows_only_the_users_own(demo, committed, login):
    suggestion = registered()
    committed(rules.run, suggestion, "assign", user=u("office"), unit=unit(GXJ))
    other = assigned()
    committed(rules.run, other, "request_return", user=u("staff"), note="x")
    page = login("staff").get("/notifications/").content.decode()
    assert f"第{suggestion.number}号建议" in page
    assert f'href="/suggestions/{suggestion.pk}/"' in page
    page = login("office").get("/notifications/").content.decode()
    assert f"第{other.number}号建议" in page
    assert f"第{suggestion.number}号建议" not in page
    page = login("other_staff").get("/notifications/").content.decode()
    assert f"第{suggestion.number}号建议" not in page and f"第{other.number}号建议" not in page


def test_opening_the_inbox_marks_what_it_shows_as_read(demo, committed, login):
    committed(rules.run, registered(), "assign", user=u("office"), unit=unit(GXJ))
    staff = u("staff")
    assert Notification.objects.filter(recipient=staff, read_at__isnull=True).exists()
    head_unread = Notification.objects.filter(recipient=u("head"), read_at__isnull=True).count()
    response = login("staff").get("/notifications/")
    assert response.status_code == 200
    assert 'class="unread"' in response.content.decode()  # shown as new this once
    assert not Notification.objects.filter(recipient=staff, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=u("head"), read_at__isnull=True).count() == head_unread
    assert 'class="unread"' not in login("staff").get("/notifications/").content.decode()


def test_mark_all_read(demo, login):
    staff, head = u("staff"), u("head")
    now = timezone.now()
    Notification.objects.bulk_create(
        [Notification(recipient=staff, kind=Kind.DUE_SOON, params={"ref": f"第{i}号建议"},
                      created_at=now) for i in range(60)]
        + [Notification(recipient=head, kind=Kind.DUE_SOON, params={"ref": "x"}, created_at=now)]
    )
    client = login("staff")
    page = client.get("/notifications/").content.decode()  # the first page of 50 is read
    assert "/notifications/read-all/" in page  # 10 more unread on page 2
    assert Notification.objects.filter(recipient=staff, read_at__isnull=True).count() > 0
    response = client.post("/notifications/read-all/")
    assert response.status_code == 302 and response.url == "/notifications/"
    assert not Notification.objects.filter(recipient=staff, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=head, read_at__isnull=True).count() == 1
    assert client.get("/notifications/read-all/").status_code == 405


def test_the_inbox_needs_a_login(client, db):
    assert client.get("/notifications/").status_code == 302
    assert client.post("/notifications/read-all/").status_code == 302
