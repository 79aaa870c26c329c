"""Concurrent edits show what was saved meanwhile and can then be saved; double submissions and
uniqueness races answer a form or a redirect, never a 500 or a second object."""

import threading

import pytest
from conftest import record_data
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import translation

from consultations.models import Consultation
from replies.models import Reply
from replies.services import reply_create_draft
from suggestions.models import CongressSession, Deputy, Suggestion


@pytest.fixture
def draft(demo, user):
    return reply_create_draft(suggestion=Suggestion.objects.get(number=123), user=user("staff"))


def reply_data(reply, **overrides):
    data = {
        "title": reply.title, "doc_number": "", "salutation": reply.salutation, "body": reply.body,
        "category": "B", "disclosure": "agreed", "handler_name": "延娜",
        "contact_phone": "2218762", "letter_date": "", "copy_to": "",
        "lock_version": reply.lock_version,
    }
    data.update(overrides)
    return data


def test_a_stale_reply_edit_shows_the_saved_text_beside_mine_then_saves(draft, login):
    mine = reply_data(draft, body=draft.body + "\n我的段落。")
    theirs = reply_data(draft, body=draft.body + "\n同事的段落。")
    assert login("head").post(f"/replies/{draft.pk}/edit/", theirs).status_code == 302

    response = login("staff").post(f"/replies/{draft.pk}/edit/", mine)
    assert response.status_code == 200
    conflicts = {label: (saved, ours) for label, saved, ours in response.context["conflicts"]}
    saved, ours = next(v for k, v in conflicts.items() if "同事的段落。" in v[0])
    assert "我的段落。" in ours and "我的段落。" not in saved
    assert Reply.objects.get(pk=draft.pk).body.endswith("同事的段落。")
    # The re-shown form keeps my text and now carries the current version: saving again works.
    form = response.context["form"]
    assert form["body"].value().endswith("我的段落。")
    again = dict(mine, lock_version=form["lock_version"].value())
    assert login("staff").post(f"/replies/{draft.pk}/edit/", again).status_code == 302
    assert Reply.objects.get(pk=draft.pk).body.endswith("我的段落。")


def test_a_stale_consultation_edit_can_be_saved_after_seeing_the_other_version(demo, login):
    handling = Suggestion.objects.get(number=123)
    deputy = Deputy.objects.get(name="苏红平")
    login("staff").post(f"/consultations/new/{handling.pk}/", record_data(deputy))
    record = Consultation.objects.get(suggestion=handling)
    first = record_data(deputy, place="第一次修改", lock_version=record.lock_version)
    second = record_data(deputy, place="第二次修改的地点", lock_version=record.lock_version)
    assert login("staff").post(f"/consultations/{record.pk}/edit/", first).status_code == 302
    response = login("head").post(f"/consultations/{record.pk}/edit/", second)
    assert response.status_code == 200
    assert any(saved == "第一次修改" and ours == "第二次修改的地点"
               for _label, saved, ours in response.context["conflicts"])
    again = dict(second, lock_version=response.context["form"]["lock_version"].value())
    assert login("head").post(f"/consultations/{record.pk}/edit/", again).status_code == 302
    record.refresh_from_db()
    assert record.place == "第二次修改的地点" and record.lock_version == 2


def intake(number: int, token: str = "") -> dict:
    session = CongressSession.objects.get()
    data = {
        "session": session.pk, "number": number, "title": "关于增设公交站点的建议",
        "content": "建议在新区增设公交站点。", "lead_deputy": Deputy.objects.get(name="苏红平").pk,
        "topic": "urban", "submitted_on": "2026-11-20", "disclosure": "agreed",
    }
    if token:
        data["form_token"] = token
    return data


def test_the_intake_form_submitted_twice_registers_once(demo, login):
    client = login("office")
    token = client.get("/suggestions/new/").context["form"]["form_token"].value()
    first = client.post("/suggestions/new/", intake(501, str(token)))
    second = client.post("/suggestions/new/", intake(501, str(token)))
    created = Suggestion.objects.get(number=501)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"/suggestions/{created.pk}/"
    assert created.events.filter(action="register").count() == 1


def test_a_duplicate_number_is_a_form_error(demo, login):
    response = login("office").post("/suggestions/new/", intake(120))
    assert response.status_code == 200
    with translation.override("zh-hans"):
        message = translation.gettext("This session already has a suggestion with this number.")
    assert message in response.context["form"].non_field_errors()
    assert Suggestion.objects.filter(number=120).count() == 1


def test_the_consultation_form_submitted_twice_logs_once(demo, login):
    handling = Suggestion.objects.get(number=123)
    client = login("staff")
    token = client.get(f"/consultations/new/{handling.pk}/").context["form"]["form_token"].value()
    data = record_data(Deputy.objects.get(name="苏红平"), form_token=str(token))
    first = client.post(f"/consultations/new/{handling.pk}/", data)
    second = client.post(f"/consultations/new/{handling.pk}/", data)
    record = Consultation.objects.get(suggestion=handling)
    assert first["Location"] == second["Location"] == f"/consultations/{record.pk}/"


def test_the_page_disables_buttons_after_the_first_click():
    from pathlib import Path

    script = (Path(__file__).parent.parent / "static" / "js" / "app.js").read_text()
    assert "data-submitted" in script and "disabled = true" in script


def post_together(requests: list[tuple[str, dict]]) -> list[int]:
    """POST concurrently, each from its own client and database connection."""
    office = get_user_model().objects.get(username="office")
    barrier = threading.Barrier(len(requests))
    codes: list[int] = [0] * len(requests)

    def send(index: int, url: str, data: dict) -> None:
        client = Client()
        client.force_login(office)
        barrier.wait()
        try:
            codes[index] = client.post(url, data).status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i, url, data)) for i, (url, data) in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return codes


@pytest.mark.django_db(transaction=True)
def test_two_offices_registering_the_same_number_at_once_get_no_500(demo):
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent transactions (PostgreSQL, as in CI)")
    for attempt in range(5):
        number = 600 + attempt
        codes = post_together([("/suggestions/new/", intake(number)), ("/suggestions/new/", intake(number))])
        assert sorted(codes) == [200, 302], codes
        assert Suggestion.objects.filter(number=number).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_the_intake_form_registers_once(demo):
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent transactions (PostgreSQL, as in CI)")
    import uuid

    for attempt in range(5):
        number, token = 700 + attempt, str(uuid.uuid4())
        codes = post_together([("/suggestions/new/", intake(number, token))] * 2)
        assert codes == [302, 302]
        assert Suggestion.objects.filter(number=number).count() == 1
