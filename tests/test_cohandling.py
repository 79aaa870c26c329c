"""Co-handling units send their opinion to the lead unit before it replies."""

import pytest

from replies.models import Reply
from replies.services import reply_create_draft, reply_send, reply_sign, reply_submit
from suggestions.models import CongressSession, Deputy, HandlingUnit, Status, Suggestion
from suggestions.workflow import WorkflowError, transition


@pytest.fixture
def signed_with_co_units(demo, user):
    suggestion = Suggestion.objects.create(
        session=CongressSession.objects.get(), number=301, title="关于发展数字经济的建议",
        content="<p>内容</p>", lead_deputy=Deputy.objects.get(name="苏红平"),
    )
    transition(suggestion, name="assign", user=user("office"),
               unit=HandlingUnit.objects.get(name="晋城市工业和信息化局"),
               co_units=[HandlingUnit.objects.get(name="晋城市教育局")])
    transition(suggestion, name="accept", user=user("staff"))
    reply = reply_create_draft(suggestion=suggestion, user=user("staff"))
    Reply.objects.filter(pk=reply.pk).update(body=reply.body + "\n一、情况\n正在推进。")
    reply_submit(reply=Reply.objects.get(pk=reply.pk), user=user("staff"))
    return reply_sign(reply=Reply.objects.get(pk=reply.pk), user=user("head"))


def test_lead_unit_cannot_send_before_co_unit_opinion(signed_with_co_units, user, login):
    reply = signed_with_co_units
    response = login("staff").post(f"/replies/{reply.pk}/send/", follow=True)
    assert "晋城市教育局" in str(list(response.context["messages"])[0])
    reply.refresh_from_db()
    assert reply.status == "signed" and reply.suggestion.status == Status.HANDLING


def test_co_unit_opinion_unblocks_sending_and_lead_unit_sees_it(signed_with_co_units, login):
    reply = signed_with_co_units
    suggestion = reply.suggestion
    response = login("edu_staff").post(f"/suggestions/{suggestion.pk}/co-opinion/",
                                       {"opinion": "将推动 5G 进校园。"})
    assert response.status_code == 302
    assert "将推动 5G 进校园。" in login("staff").get(f"/suggestions/{suggestion.pk}/").content.decode()
    assert login("staff").post(f"/replies/{reply.pk}/send/").status_code == 302
    suggestion.refresh_from_db()
    assert suggestion.status == Status.REPLIED


def test_office_can_waive_co_unit_opinions(signed_with_co_units, login, user):
    reply = signed_with_co_units
    login("office").post(f"/suggestions/{reply.suggestion.pk}/waive-co-opinions/",
                         {"note": "协办单位已口头反馈"})
    reply_send(reply=reply, user=user("staff"))
    reply.refresh_from_db()
    assert reply.status == "sent"


def test_staff_cannot_waive(signed_with_co_units, login, user):
    response = login("staff").post(f"/suggestions/{signed_with_co_units.suggestion.pk}/waive-co-opinions/",
                                   {"note": "自行豁免"})
    assert response.status_code == 403
    with pytest.raises(WorkflowError):
        reply_send(reply=signed_with_co_units, user=user("staff"))


def test_other_unit_cannot_submit_an_opinion(signed_with_co_units, login):
    response = login("other_staff").post(
        f"/suggestions/{signed_with_co_units.suggestion.pk}/co-opinion/", {"opinion": "冒充"}
    )
    assert response.status_code == 404
