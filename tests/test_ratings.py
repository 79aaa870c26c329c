"""Several deputies on one suggestion: every deputy rates the reply they received; which rating
sends the suggestion back is one setting, and the figures count the same rating."""

import pytest

from replies.models import Evaluation, Reply, ReplyStatus
from replies.services import reply_create_draft, reply_send, reply_sign, reply_submit
from suggestions.models import CongressSession, Deputy, Event, HandlingUnit, Rating, Status, Suggestion
from suggestions.workflow import transition

GXJ = "晋城市工业和信息化局"


@pytest.fixture
def sent_to_two(demo, user):
    """No. 402: lead 苏红平 (login "deputy"), co-signed by 王建国 (login "other_deputy")."""
    suggestion = Suggestion.objects.create(
        session=CongressSession.objects.get(), number=402, title="关于发展夜间经济的建议",
        content="<p>内容</p>", lead_deputy=Deputy.objects.get(name="苏红平"),
    )
    suggestion.co_deputies.add(Deputy.objects.get(name="王建国"))
    transition(suggestion, name="assign", user=user("office"), unit=HandlingUnit.objects.get(name=GXJ))
    transition(suggestion, name="accept", user=user("staff"))
    reply = reply_create_draft(suggestion=suggestion, user=user("staff"))
    Reply.objects.filter(pk=reply.pk).update(body=reply.body.replace(
        "\n\n", "\n一、情况\n已纳入计划。\n\n", 1))
    reply_submit(reply=reply, user=user("staff"))
    reply_sign(reply=reply, user=user("head"))
    reply_send(reply=reply, user=user("staff"))
    return Reply.objects.get(pk=reply.pk)


def rate(login, username, reply, result, attitude="satisfied"):
    return login(username).post(f"/replies/{reply.pk}/evaluate/", {
        "attitude": attitude, "result": result, "comment": ""}, follow=True)


def status_of(reply) -> str:
    return Suggestion.objects.get(pk=reply.suggestion_id).status


def test_the_letter_addresses_several_deputies_as_you_plural_throughout(sent_to_two):
    assert sent_to_two.salutation == "苏红平等2名代表："
    assert "你们提出的《关于发展夜间经济的建议》" in sent_to_two.body
    assert "感谢你们对我们工作的关心和支持" in sent_to_two.body
    assert "您" not in sent_to_two.body


def test_a_co_signers_unsatisfied_rating_does_not_send_it_back_when_the_lead_is_satisfied(
    sent_to_two, login
):
    rate(login, "deputy", sent_to_two, "satisfied")
    assert status_of(sent_to_two) == Status.EVALUATED
    rate(login, "other_deputy", sent_to_two, "unsatisfied")
    assert status_of(sent_to_two) == Status.EVALUATED
    assert sent_to_two.evaluations.count() == 2
    assert Event.objects.filter(suggestion=sent_to_two.suggestion, action="evaluation").count() == 1
    assert Suggestion.objects.get(pk=sent_to_two.suggestion_id).rating == Rating.SATISFIED


def test_the_lead_deputy_can_still_rate_after_a_co_signer(sent_to_two, login):
    rate(login, "other_deputy", sent_to_two, "unsatisfied")
    assert status_of(sent_to_two) == Status.REPLIED
    page = login("deputy").get(f"/replies/{sent_to_two.pk}/")
    assert page.context["evaluation_form"] is not None
    rate(login, "deputy", sent_to_two, "unsatisfied")
    assert status_of(sent_to_two) == Status.REHANDLING
    assert set(sent_to_two.evaluations.values_list("deputy__name", flat=True)) == {"苏红平", "王建国"}


def test_a_co_signer_can_rate_the_reply_they_received_during_re_handling(sent_to_two, login):
    rate(login, "deputy", sent_to_two, "unsatisfied")
    assert status_of(sent_to_two) == Status.REHANDLING
    response = rate(login, "other_deputy", sent_to_two, "basically")
    assert response.status_code == 200
    assert sent_to_two.evaluations.filter(deputy__name="王建国", result="basically").exists()
    assert status_of(sent_to_two) == Status.REHANDLING


def test_a_deputy_rates_a_reply_once(sent_to_two, login):
    rate(login, "other_deputy", sent_to_two, "satisfied")
    response = rate(login, "other_deputy", sent_to_two, "unsatisfied")
    assert sent_to_two.evaluations.get(deputy__name="王建国").result == "satisfied"
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_with_the_any_setting_a_co_signers_unsatisfied_rating_sends_it_back(sent_to_two, login, settings):
    settings.REHANDLING_TRIGGER = "any"
    rate(login, "deputy", sent_to_two, "satisfied")
    assert status_of(sent_to_two) == Status.EVALUATED
    rate(login, "other_deputy", sent_to_two, "unsatisfied")
    assert status_of(sent_to_two) == Status.REHANDLING
    assert Suggestion.objects.get(pk=sent_to_two.suggestion_id).rating == Rating.UNSATISFIED


# No. 120 (lead deputy 满意) is the session's other rated suggestion.
@pytest.mark.parametrize("trigger, counted, expected", [
    ("lead", "satisfied", 2), ("any", "unsatisfied", 1),
])
def test_the_report_counts_the_rating_that_decides_re_handling(sent_to_two, login, settings,
                                                               trigger, counted, expected):
    settings.REHANDLING_TRIGGER = trigger
    rate(login, "deputy", sent_to_two, "satisfied")
    rate(login, "other_deputy", sent_to_two, "unsatisfied")
    rows = login("office").get("/suggestions/report/", {"session": sent_to_two.suggestion.session_id})
    total = rows.context["total"]
    assert total[counted] == expected
    assert total["rated"] == 2


def test_only_the_latest_sent_reply_is_rated(sent_to_two, login, user):
    rate(login, "deputy", sent_to_two, "unsatisfied")
    second = reply_create_draft(suggestion=sent_to_two.suggestion, user=user("staff"))
    reply_submit(reply=second, user=user("staff"))
    reply_sign(reply=second, user=user("head"))
    reply_send(reply=second, user=user("staff"))
    response = rate(login, "other_deputy", sent_to_two, "satisfied")
    assert not sent_to_two.evaluations.filter(deputy__name="王建国").exists()
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert Reply.objects.get(pk=second.pk).status == ReplyStatus.SENT
    rate(login, "other_deputy", Reply.objects.get(pk=second.pk), "satisfied")
    assert Evaluation.objects.filter(reply=second, deputy__name="王建国").exists()
