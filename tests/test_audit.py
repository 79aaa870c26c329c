"""The audit trail: every change says what changed (old → new), the admin cannot move the
workflow around it, and downloads are audited without cluttering the people's timeline."""

import pytest
from django.utils import translation

from consultations.models import Consultation
from replies.models import Reply
from replies.services import reply_create_draft
from suggestions.models import CongressSession, Deputy, Event, Suggestion


@pytest.fixture
def registered(demo):
    return Suggestion.objects.create(
        session=CongressSession.objects.get(), number=801, title="关于旧标题的建议",
        content="<p>旧内容。</p>", lead_deputy=Deputy.objects.get(name="苏红平"),
    )


def edit_data(suggestion, **overrides):
    data = {
        "session": suggestion.session_id, "number": suggestion.number, "title": suggestion.title,
        "content": suggestion.content, "lead_deputy": suggestion.lead_deputy_id, "topic": "",
        "submitted_on": "", "disclosure": "agreed",
    }
    data.update(overrides)
    return data


def test_editing_a_suggestion_logs_old_and_new(registered, login):
    response = login("office").post(f"/suggestions/{registered.pk}/edit/",
                                    edit_data(registered, title="关于新标题的建议"))
    assert response.status_code == 302
    event = Event.objects.get(suggestion=registered, action="edit")
    assert "关于旧标题的建议 → 关于新标题的建议" in event.note
    assert event.actor.username == "office"


def test_saving_an_unchanged_suggestion_logs_nothing(registered, login):
    login("office").post(f"/suggestions/{registered.pk}/edit/", edit_data(registered))
    assert not Event.objects.filter(suggestion=registered, action="edit").exists()


def test_a_suggestion_past_acceptance_cannot_be_edited(demo, login):
    before = demo.title
    response = login("office").post(f"/suggestions/{demo.pk}/edit/",
                                    edit_data(demo, title="改过的标题"), follow=True)
    demo.refresh_from_db()
    assert demo.title == before
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_editing_a_reply_draft_logs_what_changed(demo, login, user):
    draft = reply_create_draft(suggestion=Suggestion.objects.get(number=123), user=user("staff"))
    data = {
        "title": draft.title, "doc_number": "工信建字〔2026〕9号", "salutation": draft.salutation,
        "body": draft.body, "category": "", "disclosure": "agreed", "handler_name": "延娜",
        "contact_phone": draft.contact_phone, "letter_date": "", "copy_to": "",
        "lock_version": draft.lock_version,
    }
    assert login("staff").post(f"/replies/{draft.pk}/edit/", data).status_code == 302
    event = Event.objects.get(action="reply_edited", suggestion__number=123)
    assert "— → 工信建字〔2026〕9号" in event.note


def test_editing_a_consultation_record_logs_what_changed(demo, login):
    record = Consultation.objects.get(suggestion__number=120)
    record.signature = "pending"
    record.save()
    data = {
        "deputy": record.deputy_id, "method": record.method, "held_on": "2022-06-24",
        "place": "市政府会议室", "attendees": record.attendees,
        "attendee_phone": record.attendee_phone, "content_summary": record.content_summary,
        "reply_points": record.reply_points, "proposed_category": "A",
        "deputy_opinion": record.deputy_opinion, "satisfaction": record.satisfaction,
        "signature": "pending", "signed_name": "", "lock_version": record.lock_version,
    }
    assert login("staff").post(f"/consultations/{record.pk}/edit/", data).status_code == 302
    event = Event.objects.get(action="consultation_edited")
    assert "德源大酒店 → 市政府会议室" in event.note


def test_the_admin_shows_workflow_fields_read_only_and_logs_its_changes(registered, login):
    client = login("admin")
    page = client.get(f"/admin/suggestions/suggestion/{registered.pk}/change/")
    fields = page.context["adminform"].form.fields
    for name in ("status", "lead_unit", "due_on", "assigned_on", "co_opinions_waived"):
        assert name not in fields
    data = {name: "" for name in fields}
    data.update({
        "session": registered.session_id, "number": 801, "title": "关于管理员改过的建议",
        "content": registered.content, "lead_deputy": registered.lead_deputy_id,
        "disclosure": "agreed",
        "co_handlings-TOTAL_FORMS": 0, "co_handlings-INITIAL_FORMS": 0,
        "events-TOTAL_FORMS": 0, "events-INITIAL_FORMS": 0,
    })
    data.pop("co_deputies", None)
    response = client.post(f"/admin/suggestions/suggestion/{registered.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    event = Event.objects.get(suggestion=registered, action="admin_change")
    assert "关于旧标题的建议 → 关于管理员改过的建议" in event.note
    assert event.actor.username == "admin"


def test_downloads_are_in_the_audit_log_not_in_the_timeline(demo, login):
    reply = Reply.objects.get(suggestion=demo)
    assert login("staff").get(f"/replies/{reply.pk}/pdf/").status_code == 200
    assert Event.objects.filter(suggestion=demo, action="pdf_export").count() == 1
    for username in ("staff", "office", "deputy"):
        timeline = login(username).get(f"/suggestions/{demo.pk}/").context["timeline"]
        assert all("PDF" not in entry.title for entry in timeline)
    audit = login("office").get("/suggestions/audit/", {"action": "pdf_export"})
    assert audit.status_code == 200
    assert [e.action for e in audit.context["page"]] == ["pdf_export"]
    with translation.override("zh-hans"):
        assert translation.gettext("PDF downloaded") in audit.content.decode()


def test_only_the_office_reads_the_audit_log(demo, login):
    for username in ("staff", "head", "deputy"):
        assert login(username).get("/suggestions/audit/").status_code == 403


def test_every_logged_action_has_a_chinese_label(demo, login):
    from suggestions.workflow import action_label, known_actions

    with translation.override("zh-hans"):
        for action in known_actions() | set(Event.objects.values_list("action", flat=True)):
            label = action_label(action)
            assert label != action and not label.isascii(), action
