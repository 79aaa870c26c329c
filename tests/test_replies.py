"""Reply letters: frozen once signed, versions, sign-off rules, optimistic locking, rating."""

import pytest

from replies.models import Reply, ReplyFrozen, ReplyStatus
from replies.services import reply_create_draft, reply_submit
from suggestions.models import Status, Suggestion


@pytest.fixture
def seed_reply(demo):
    return Reply.objects.get(suggestion__number=120)


@pytest.fixture
def draft(demo, user):
    """A draft reply for No. 123 (handled by 工信局, in handling)."""
    suggestion = Suggestion.objects.get(number=123)
    reply = reply_create_draft(suggestion=suggestion, user=user("staff"))
    return reply


def edit_data(client, reply):
    form = client.get(f"/replies/{reply.pk}/edit/").context["form"]
    return {name: form[name].value() for name in form.fields if form[name].value() is not None}


def test_signed_reply_cannot_be_edited_through_the_editor(seed_reply, login):
    client = login("staff")
    response = client.get(f"/replies/{seed_reply.pk}/edit/")
    assert response.status_code == 302
    body_before = seed_reply.body
    response = client.post(f"/replies/{seed_reply.pk}/edit/", {"body": "改写的内容", "title": "x"})
    assert response.status_code == 302
    seed_reply.refresh_from_db()
    assert seed_reply.body == body_before


def test_letter_on_screen_shows_headings_and_bold_as_the_pdf_does(seed_reply, login):
    html = login("deputy").get(f"/replies/{seed_reply.pk}/").content.decode()
    assert "<b>工业方面</b>" in html
    assert "**" not in html
    assert '<p class="letter-p letter-heading">一、晋城市 5G 基站建设情况</p>' in html
    assert '<span class="letter-subheading">（一）政策保障</span>' in html


def test_signed_reply_cannot_be_changed_by_code_either(seed_reply):
    seed_reply.body = "改写的内容"
    with pytest.raises(ReplyFrozen):
        seed_reply.save()


def test_signed_reply_is_read_only_in_admin(seed_reply, login):
    response = login("admin").get(f"/admin/replies/reply/{seed_reply.pk}/change/")
    assert response.status_code == 200
    assert 'name="body"' not in response.content.decode()


def test_draft_prefilled_for_several_deputies(draft):
    # No. 123 is led by 苏红平 and co-signed by 李秀梅.
    assert draft.salutation == "苏红平等2名代表："
    assert draft.body.startswith("你们提出的《关于支持专精特新中小企业融资的建议》已收悉。经认真研究")


def test_no_sign_off_without_a_body(draft, user):
    from suggestions.workflow import WorkflowError

    with pytest.raises(WorkflowError):
        reply_submit(reply=draft, user=user("staff"))
    assert Reply.objects.get(pk=draft.pk).status == ReplyStatus.DRAFT


def test_handler_cannot_sign_and_head_of_other_unit_cannot_see(draft, login, user):
    draft.body += "\n一、办理情况\n已协调金融机构开展对接。"
    draft.save()
    reply_submit(reply=draft, user=user("staff"))
    login("staff").post(f"/replies/{draft.pk}/sign/")
    assert Reply.objects.get(pk=draft.pk).status == ReplyStatus.PENDING
    assert login("other_head").post(f"/replies/{draft.pk}/sign/").status_code == 404
    login("head").post(f"/replies/{draft.pk}/sign/")
    assert Reply.objects.get(pk=draft.pk).status == ReplyStatus.SIGNED


def test_second_save_of_same_draft_is_refused_and_text_kept(draft, login):
    alice = login("staff")
    first = edit_data(alice, draft)
    second = dict(first)  # both opened the editor at the same version
    first["body"] = draft.body + "\n第一位编辑的内容。"
    assert alice.post(f"/replies/{draft.pk}/edit/", first).status_code == 302
    second["body"] = draft.body + "\n第二位编辑的内容。"
    response = login("head").post(f"/replies/{draft.pk}/edit/", second)
    assert response.status_code == 200
    page = response.content.decode()
    assert "第二位编辑的内容" in page  # their text is kept in the form
    assert "errors" in page
    draft.refresh_from_db()
    assert "第一位编辑的内容" in draft.body and "第二位编辑的内容" not in draft.body


def test_new_version_after_unsatisfied_rating_keeps_the_earlier_reply(seed_reply, login, user):
    # Put No. 120 back to "replied" is not possible; use a fresh full cycle on No. 123.
    suggestion = Suggestion.objects.get(number=123)
    from replies.services import reply_send, reply_sign

    reply = reply_create_draft(suggestion=suggestion, user=user("staff"))
    reply.body += "\n一、办理情况\n已协调金融机构开展对接。"
    reply.save()
    reply_submit(reply=reply, user=user("staff"))
    reply_sign(reply=reply, user=user("head"))
    reply_send(reply=reply, user=user("staff"))

    deputy = login("deputy")
    response = deputy.post(f"/replies/{reply.pk}/evaluate/", {
        "attitude": "satisfied", "result": "unsatisfied", "comment": "问题未解决",
    })
    assert response.status_code == 302
    suggestion.refresh_from_db()
    assert suggestion.status == Status.REHANDLING

    staff = login("staff")
    assert staff.post(f"/replies/new/{suggestion.pk}/").status_code == 302
    versions = list(suggestion.replies.order_by("version"))
    assert [r.version for r in versions] == [1, 2]
    assert versions[0].status == ReplyStatus.SENT and versions[1].status == ReplyStatus.DRAFT
    assert versions[1].body == versions[0].body


def test_deputy_rates_once(demo, login, user):
    reply = Reply.objects.get(suggestion__number=120)
    # 苏红平's rating was recorded at the consultation; a second rating is refused.
    response = login("deputy").post(f"/replies/{reply.pk}/evaluate/", {
        "attitude": "satisfied", "result": "satisfied",
    }, follow=True)
    assert reply.evaluations.count() == 1
    assert response.status_code == 200


def test_office_records_a_paper_rating_for_a_deputy_without_login(demo, login, user):
    from replies.services import reply_send, reply_sign
    from suggestions.models import Deputy

    suggestion = Suggestion.objects.get(number=123)  # 苏红平 (login) and 李秀梅 (no login)
    reply = reply_create_draft(suggestion=suggestion, user=user("staff"))
    reply.body += "\n一、办理情况\n已协调金融机构开展对接。"
    reply.save()
    reply_submit(reply=reply, user=user("staff"))
    reply_sign(reply=reply, user=user("head"))
    reply_send(reply=reply, user=user("staff"))
    li = Deputy.objects.get(name="李秀梅")

    page = login("office").get(f"/replies/{reply.pk}/")
    assert page.context["paper_form"] is not None
    # Staff of the unit cannot record ratings of their own reply.
    login("staff").post(f"/replies/{reply.pk}/evaluate-paper/", {
        "deputy": li.pk, "attitude": "satisfied", "result": "satisfied"})
    assert not reply.evaluations.exists()
    response = login("office").post(f"/replies/{reply.pk}/evaluate-paper/", {
        "deputy": li.pk, "attitude": "satisfied", "result": "basically", "comment": "纸质测评表"})
    assert response.status_code == 302
    evaluation = reply.evaluations.get()
    assert evaluation.deputy == li and evaluation.source == "paper"
    assert evaluation.recorded_by == user("office")
    # 李秀梅 co-signed: her rating is on record, but the lead deputy's decides the status.
    suggestion.refresh_from_db()
    assert suggestion.status == Status.REPLIED and suggestion.rating == ""
    # A deputy outside the suggestion cannot be chosen.
    outsider = Deputy.objects.get(name="王建国")
    login("office").post(f"/replies/{reply.pk}/evaluate-paper/", {
        "deputy": outsider.pk, "attitude": "unsatisfied", "result": "unsatisfied"})
    assert reply.evaluations.count() == 1
