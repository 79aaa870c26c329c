"""Reassignment withdraws the old unit's drafts; a new reply version is a new document."""

import pytest
from django.core.management import call_command

from replies.models import Reply, ReplyStatus
from replies.services import reply_create_draft, reply_send, reply_sign, reply_submit
from suggestions.models import CongressSession, Deputy, Event, HandlingUnit, Status, Suggestion
from suggestions.workflow import WorkflowError, transition

GXJ, ZJJ = "晋城市工业和信息化局", "晋城市住房和城乡建设局"


@pytest.fixture
def in_handling(demo, user):
    suggestion = Suggestion.objects.create(
        session=CongressSession.objects.get(), number=401, title="关于老旧小区改造的建议",
        content="<p>内容</p>", lead_deputy=Deputy.objects.get(name="苏红平"),
    )
    transition(suggestion, name="assign", user=user("office"), unit=HandlingUnit.objects.get(name=GXJ))
    transition(suggestion, name="accept", user=user("staff"))
    return suggestion


def with_body(reply: Reply, text: str = "一、情况\n正在推进。") -> Reply:
    Reply.objects.filter(pk=reply.pk).update(body=reply.body + "\n" + text)
    return Reply.objects.get(pk=reply.pk)


def test_reassignment_withdraws_the_old_units_draft_and_the_new_unit_can_draft(in_handling, login, user):
    old_draft = with_body(reply_create_draft(suggestion=in_handling, user=user("staff")))
    response = login("office").post(f"/suggestions/{in_handling.pk}/assign/", {
        "unit": HandlingUnit.objects.get(name=ZJJ).pk, "note": "职能调整",
    })
    assert response.status_code == 302
    old_draft.refresh_from_db()
    assert old_draft.status == ReplyStatus.WITHDRAWN
    assert Event.objects.filter(suggestion=in_handling, action="reply_withdrawn").count() == 1

    transition(in_handling, name="accept", user=user("other_staff"))
    response = login("other_staff").post(f"/replies/new/{in_handling.pk}/")
    new = Reply.objects.exclude(pk=old_draft.pk).get(suggestion=in_handling)
    assert response.status_code == 302 and response["Location"] == f"/replies/{new.pk}/edit/"
    # A fresh letter of the new unit, not a copy of the old unit's draft.
    assert new.issuing_unit.name == ZJJ and new.version == 2 and "正在推进" not in new.body
    # The withdrawn draft stays on record, out of the new unit's way.
    assert Reply.objects.filter(pk=old_draft.pk).exists()


def test_a_withdrawn_draft_can_no_longer_be_submitted(in_handling, login, user):
    draft = with_body(reply_create_draft(suggestion=in_handling, user=user("staff")))
    transition(in_handling, name="reassign", user=user("office"), unit=HandlingUnit.objects.get(name=ZJJ))
    with pytest.raises(WorkflowError):
        reply_submit(reply=Reply.objects.get(pk=draft.pk), user=user("staff"))
    draft.refresh_from_db()
    assert draft.status == ReplyStatus.WITHDRAWN


def sent_letter(suggestion, user, doc_number="工信建字〔2026〕1号") -> Reply:
    reply = with_body(reply_create_draft(suggestion=suggestion, user=user("staff")))
    Reply.objects.filter(pk=reply.pk).update(doc_number=doc_number)
    reply_submit(reply=reply, user=user("staff"))
    reply_sign(reply=reply, user=user("head"))
    reply_send(reply=reply, user=user("staff"))
    reply.refresh_from_db()
    return reply


def rehandle(suggestion, user):
    from replies.services import reply_evaluate

    reply = Reply.objects.filter(suggestion=suggestion, status=ReplyStatus.SENT).latest("version")
    reply_evaluate(reply=reply, user=user("deputy"), deputy=suggestion.lead_deputy,
                   attitude="satisfied", result="unsatisfied")
    suggestion.refresh_from_db()
    assert suggestion.status == Status.REHANDLING


def test_a_new_version_gets_no_number_and_cannot_reuse_the_old_one(in_handling, user):
    first = sent_letter(in_handling, user)
    rehandle(in_handling, user)
    second = reply_create_draft(suggestion=in_handling, user=user("staff"))
    assert second.version == 2 and second.doc_number == "" and second.letter_date is None
    Reply.objects.filter(pk=second.pk).update(doc_number=first.doc_number)
    reply_submit(reply=second, user=user("staff"))
    with pytest.raises(WorkflowError, match="工信建字〔2026〕1号"):
        reply_sign(reply=Reply.objects.get(pk=second.pk), user=user("head"))
    second.refresh_from_db()
    assert second.status == ReplyStatus.PENDING and second.verification_code is None
    Reply.objects.filter(pk=second.pk).update(doc_number="工信建字〔2026〕2号")
    reply_sign(reply=Reply.objects.get(pk=second.pk), user=user("head"))
    assert Reply.objects.get(pk=second.pk).status == ReplyStatus.SIGNED


def test_export_takes_the_latest_signed_version_unless_asked_for_all(in_handling, user, tmp_path):
    first = sent_letter(in_handling, user)
    rehandle(in_handling, user)
    second = sent_letter(in_handling, user, doc_number="工信建字〔2026〕2号")
    latest = set(Reply.objects.latest_signed().filter(suggestion=in_handling))
    assert latest == {second}
    call_command("export_replies", out=str(tmp_path / "latest"), workers=1)
    names = sorted(p.name for p in (tmp_path / "latest").iterdir())
    assert first.pdf_filename() not in names and second.pdf_filename() in names
    call_command("export_replies", out=str(tmp_path / "all"), workers=1, all_versions=True)
    names = sorted(p.name for p in (tmp_path / "all").iterdir())
    assert first.pdf_filename() in names and second.pdf_filename() in names


def test_verifying_a_superseded_version_says_which_version_replaced_it(in_handling, user, client):
    first = sent_letter(in_handling, user)
    rehandle(in_handling, user)
    page = client.get(f"/verify/{first.verification_code}/")
    assert page.context["superseded_by"] is None
    second = sent_letter(in_handling, user, doc_number="工信建字〔2026〕2号")
    page = client.get(f"/verify/{first.verification_code}/")
    assert page.status_code == 200 and page.context["genuine"]
    assert page.context["superseded_by"] == second
    assert "verify-superseded" in page.content.decode()
    latest = client.get(f"/verify/{second.verification_code}/")
    assert latest.context["superseded_by"] is None
    assert "verify-superseded" not in latest.content.decode()


def test_the_fingerprint_covers_the_verification_code(in_handling, user, client):
    letter = sent_letter(in_handling, user)
    assert client.get(f"/verify/{letter.verification_code}/").context["genuine"]
    Reply.objects.filter(pk=letter.pk).update(verification_code="ABCDEFGHJKLM")
    assert not client.get("/verify/ABCDEFGHJKLM/").context["genuine"]
