"""Builders shared by the rule tests (tests/test_rules_*.py, tests/test_access_matrix.py).

Every object is made through the same moves a person would make (``rules.run``), on top of
the demo data (``demo`` fixture), so its state is one the application itself can reach.

The demo, as these tests use it:

- 晋城市工业和信息化局 (gxj): ``staff`` (handler) and ``head``; 农业农村局 (nync): ``agri_staff``;
  教育局 (jyj): ``edu_staff``; 住建局 (zjj): ``other_staff`` and ``other_head``;
  ``office`` (congress office) and ``admin`` (superuser);
- deputies 苏红平 (``deputy``), 王建国 (``other_deputy``) and 李秀梅 (no login).

``refused`` and ``allowed`` are the two assertions every rule test makes: a refused move raises
WorkflowError with the rule's own reason and changes nothing; an allowed one is offered.
"""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.utils import translation

from core import rules
from core.rules import WorkflowError

# Who is who: user name -> the role the rules see.
ROLE_USERS = {
    "admin": "admin", "office": "office", "head": "head", "handler": "staff",
    "deputy": "deputy",
}


def user(username: str):
    """A fresh instance each time: role_of caches the role on the instance."""
    if username == "anonymous":
        return AnonymousUser()
    return get_user_model().objects.get(username=username)


def unit(short: str):
    from suggestions.models import HandlingUnit

    names = {"gxj": "晋城市工业和信息化局", "nync": "晋城市农业农村局", "jyj": "晋城市教育局",
             "zjj": "晋城市住房和城乡建设局"}
    return HandlingUnit.objects.get(name=names[short])


def deputy(name: str):
    from suggestions.models import Deputy

    return Deputy.objects.get(name=name)


def deputy_login(name: str):
    """Give a demo deputy without a login (李秀梅) one, and return the user."""
    person = deputy(name)
    if person.user_id is None:
        person.user = get_user_model().objects.create_user(f"login_{person.pk}")
        person.save()
    return user(person.user.username)


def no_role_user():
    return get_user_model().objects.get_or_create(username="nobody")[0]


_numbers = iter(range(300, 10_000))


def registered(*, lead="苏红平", co_deputies=()):
    from suggestions.models import CongressSession, Suggestion
    from suggestions.workflow import record_event

    suggestion = Suggestion.objects.create(
        session=CongressSession.objects.get(), number=next(_numbers), title="关于规则测试的建议",
        content="<p>规则测试。</p>", lead_deputy=deputy(lead),
    )
    suggestion.co_deputies.set([deputy(name) for name in co_deputies])
    record_event(suggestion, actor=user("office"), action="register")
    return suggestion


def assigned(*, lead_unit="gxj", co_units=("nync",), on=None, **kwargs):
    suggestion = registered(**kwargs)
    rules.run(suggestion, "assign", user=user("office"), unit=unit(lead_unit),
              co_units=[unit(u) for u in co_units], on=on)
    return suggestion


STAFF_OF = {"gxj": "staff", "zjj": "other_staff", "jyj": "edu_staff", "nync": "agri_staff"}
HEAD_OF = {"gxj": "head", "zjj": "other_head"}


def short_name_of(unit_id) -> str:
    return next(short for short in STAFF_OF if unit(short).pk == unit_id)


def handling(*, opinions_in=True, **kwargs):
    """In handling by its lead unit; the co-units' opinions are in unless ``opinions_in`` is
    False (then the letter cannot go to sign-off)."""
    from suggestions.models import CoHandling

    suggestion = assigned(**kwargs)
    rules.run(suggestion, "accept", user=user(STAFF_OF[short_name_of(suggestion.lead_unit_id)]))
    if opinions_in:
        for co in CoHandling.objects.filter(suggestion=suggestion):
            rules.run(suggestion, "co_opinion", user=user(STAFF_OF[short_name_of(co.unit_id)]),
                      opinion="同意。")
    suggestion.refresh_from_db()
    return suggestion


def staff_of(obj) -> str:
    """The handler of the lead unit of a suggestion (or of a reply's or record's suggestion)."""
    suggestion = getattr(obj, "suggestion", obj)
    return STAFF_OF[short_name_of(suggestion.lead_unit_id)]


def head_of(obj) -> str:
    suggestion = getattr(obj, "suggestion", obj)
    return HEAD_OF[short_name_of(suggestion.lead_unit_id)]


def draft(suggestion=None):
    from replies.services import reply_create_draft

    suggestion = suggestion or handling()
    reply = reply_create_draft(suggestion=suggestion, user=user(staff_of(suggestion)))
    reply.body += "\n一、关于规则测试\n已按规定办理。"
    reply.category = "A"
    reply.save()
    return reply


def pending(suggestion=None):
    reply = draft(suggestion)
    rules.run(reply, "submit", user=user(staff_of(reply)))
    return reply


def signed(suggestion=None):
    reply = pending(suggestion)
    rules.run(reply, "sign", user=user(head_of(reply)))
    return reply


def sent(suggestion=None):
    reply = signed(suggestion)
    rules.run(reply, "send", user=user(staff_of(reply)))
    reply.refresh_from_db()
    return reply


def record(suggestion=None, *, for_deputy="苏红平", signature="pending"):
    from consultations.services import consultation_create

    suggestion = suggestion or handling()
    return consultation_create(suggestion=suggestion, user=user(staff_of(suggestion)), data={
        "deputy": deputy(for_deputy), "method": "face", "held_on": datetime.date(2026, 11, 20),
        "place": "会议室", "attendees": "延娜", "signature": signature,
        "signed_name": "苏红平" if signature == "paper" else "",
    })


# --- What a move changed, and the two assertions ---

def state(obj) -> dict:
    """Everything a move could change: the row, and counts of what moves create."""
    from consultations.models import Attachment, Consultation
    from replies.models import Evaluation, Reply
    from suggestions.models import CoHandling, Event

    return {
        "row": type(obj)._default_manager.filter(pk=obj.pk).values().get(),
        "events": Event.objects.count(),
        "replies": list(Reply.objects.order_by("pk").values_list("pk", "status")),
        "consultations": Consultation.objects.count(),
        "attachments": Attachment.objects.count(),
        "evaluations": Evaluation.objects.count(),
        "co_handlings": list(CoHandling.objects.order_by("pk").values_list(
            "pk", "unit_id", "submitted_at", "opinion")),
    }


def not_allowed(obj, name: str) -> str:
    move = rules.machine_of(obj).moves[name]
    return str(translation.gettext("You are not allowed to do this: %(action)s.")
               % {"action": move.label})


def not_now(obj, name: str) -> str:
    """The refusal for a move out of its source statuses."""
    mach = rules.machine_of(obj)
    return (translation.gettext("“%(action)s” is not possible while this is “%(status)s”.")
            % {"action": mach.moves[name].label, "status": mach.status_label(obj)})


def reason_given() -> str:
    return translation.gettext("Please give a reason.")


def refused(obj, name: str, username_or_user, reason, **params) -> None:
    """``name`` is refused for the user with ``reason`` (a rule's refusal, or a text), and
    nothing changed; the move is not offered either (when no parameter check is involved)."""
    actor = user(username_or_user) if isinstance(username_or_user, str) else username_or_user
    before = state(obj)
    with pytest.raises(WorkflowError) as info:
        rules.run(obj, name, user=actor, **params)
    assert info.value.message == str(reason)
    assert state(obj) == before, f"refused {name!r} changed something"
    # The object answer and the queryset answer agree.
    if not params or set(params) <= {"note"}:
        fresh = type(obj)._default_manager.get(pk=obj.pk)
        if str(reason) != reason_given():
            assert name not in rules.available_moves(fresh, actor)
            assert not rules.actionable(type(obj)._default_manager.filter(pk=obj.pk), actor, [name])


def allowed(obj, name: str, username_or_user) -> None:
    """``name`` is offered to the user on ``obj`` (rules.check passes, parameters aside)."""
    actor = user(username_or_user) if isinstance(username_or_user, str) else username_or_user
    fresh = type(obj)._default_manager.get(pk=obj.pk)
    assert name in rules.available_moves(fresh, actor), f"{name!r} not offered"
    assert rules.actionable(type(obj)._default_manager.filter(pk=obj.pk), actor, [name]).exists()
