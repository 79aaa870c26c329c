"""Co-handling units send their opinion to the lead unit before its reply goes to sign-off."""

import pytest
from django.utils import translation

from replies.models import Reply, ReplyStatus
from replies.services import reply_create_draft, reply_send, reply_sign, reply_submit
from suggestions.models import CongressSession, Deputy, HandlingUnit, Status, Suggestion
from suggestions.workflow import WorkflowError, transition

EDU = "晋城市教育局"


@pytest.fixture
def handling_with_co_unit(demo, user):
    suggestion = Suggestion.objects.create(
        session=CongressSession.objects.get(), number=301, title="关于发展数字经济的建议",
        content="<p>内容</p>", lead_deputy=Deputy.objects.get(name="苏红平"),
    )
    transition(suggestion, name="assign", user=user("office"),
               unit=HandlingUnit.objects.get(name="晋城市工业和信息化局"),
               co_units=[HandlingUnit.objects.get(name=EDU)])
    transition(suggestion, name="accept", user=user("staff"))
    return suggestion


@pytest.fixture
def draft(handling_with_co_unit, user):
    reply = reply_create_draft(suggestion=handling_with_co_unit, user=user("staff"))
    Reply.objects.filter(pk=reply.pk).update(body=reply.body + "\n一、情况\n正在推进。")
    return Reply.objects.get(pk=reply.pk)


def message_of(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def test_lead_unit_cannot_submit_before_the_co_unit_opinion(draft, login):
    response = login("staff").post(f"/replies/{draft.pk}/submit/", follow=True)
    assert EDU in message_of(response)
    draft.refresh_from_db()
    assert draft.status == ReplyStatus.DRAFT and draft.submitted_at is None


def test_a_draft_names_only_the_co_units_whose_opinion_is_in(handling_with_co_unit, user, login):
    early = reply_create_draft(suggestion=handling_with_co_unit, user=user("staff"))
    assert "经认真研究" in early.body and EDU not in early.body
    Reply.objects.filter(pk=early.pk).delete()
    login("edu_staff").post(f"/suggestions/{handling_with_co_unit.pk}/co-opinion/",
                            {"opinion": "将推动 5G 进校园。"})
    late = reply_create_draft(suggestion=handling_with_co_unit, user=user("staff"))
    assert f"经与{EDU}会商研究" in late.body


def test_co_unit_opinion_unblocks_sign_off_and_sending(draft, login, user):
    suggestion = draft.suggestion
    response = login("edu_staff").post(f"/suggestions/{suggestion.pk}/co-opinion/",
                                       {"opinion": "将推动 5G 进校园。"})
    assert response.status_code == 302
    assert "将推动 5G 进校园。" in login("staff").get(f"/suggestions/{suggestion.pk}/").content.decode()
    assert login("staff").post(f"/replies/{draft.pk}/submit/").status_code == 302
    reply_sign(reply=draft, user=user("head"))
    login("staff").post(f"/replies/{draft.pk}/send/")
    suggestion.refresh_from_db()
    draft.refresh_from_db()
    assert draft.status == ReplyStatus.SENT and suggestion.status == Status.REPLIED


def test_office_can_waive_co_unit_opinions(draft, login, user):
    login("office").post(f"/suggestions/{draft.suggestion.pk}/waive-co-opinions/",
                         {"note": "协办单位已口头反馈"})
    reply_submit(reply=draft, user=user("staff"))
    draft.refresh_from_db()
    assert draft.status == ReplyStatus.PENDING


def test_staff_cannot_waive(draft, login, user):
    response = login("staff").post(f"/suggestions/{draft.suggestion.pk}/waive-co-opinions/",
                                   {"note": "自行豁免"})
    assert response.status_code == 403
    draft.suggestion.refresh_from_db()
    assert draft.suggestion.co_opinions_waived is False
    with pytest.raises(WorkflowError, match=EDU):
        reply_submit(reply=draft, user=user("staff"))


def test_waiver_is_not_offered_once_the_opinions_are_in(handling_with_co_unit, login):
    suggestion = handling_with_co_unit
    office = login("office")
    assert "waive_co_opinions" in office.get(f"/suggestions/{suggestion.pk}/").context["moves"]
    login("edu_staff").post(f"/suggestions/{suggestion.pk}/co-opinion/", {"opinion": "同意。"})
    office = login("office")
    assert "waive_co_opinions" not in office.get(f"/suggestions/{suggestion.pk}/").context["moves"]
    response = office.post(f"/suggestions/{suggestion.pk}/waive-co-opinions/",
                           {"note": "不需要"}, follow=True)
    with translation.override("zh-hans"):
        assert translation.gettext("No co-handling opinion is awaited.") in message_of(response)
    suggestion.refresh_from_db()
    assert suggestion.co_opinions_waived is False


def test_waiver_is_not_offered_after_closing(demo, login):
    # No. 120's opinions are in and it is evaluated; closed, nothing can be waived.
    response = login("office").get(f"/suggestions/{demo.pk}/")
    assert "waive_co_opinions" not in response.context["moves"]


def test_other_unit_cannot_submit_an_opinion(handling_with_co_unit, login):
    response = login("other_staff").post(
        f"/suggestions/{handling_with_co_unit.pk}/co-opinion/", {"opinion": "冒充"}
    )
    assert response.status_code == 404
    assert not handling_with_co_unit.co_handlings.exclude(opinion="").exists()


def test_sending_is_refused_for_a_reply_that_is_not_signed(draft, user):
    with pytest.raises(WorkflowError):
        reply_send(reply=draft, user=user("staff"))
    draft.refresh_from_db()
    assert draft.status == ReplyStatus.DRAFT
