"""Consultation records: logging, online confirmation, concurrent edits."""

import pytest
from conftest import record_data

from consultations.models import Consultation, Signature
from suggestions.models import Deputy, Suggestion


@pytest.fixture
def handling(demo):
    return Suggestion.objects.get(number=123)  # 工信局, in handling, 苏红平 + 李秀梅


def test_staff_logs_a_consultation(handling, login):
    deputy = Deputy.objects.get(name="苏红平")
    response = login("staff").post(f"/consultations/new/{handling.pk}/", record_data(deputy))
    assert response.status_code == 302
    record = Consultation.objects.get(suggestion=handling)
    assert record.content_summary  # defaults to the suggestion's content as plain text
    assert record.created_by.username == "staff"
    assert handling.events.filter(action="consultation").exists()


def test_other_unit_cannot_log(handling, login):
    deputy = Deputy.objects.get(name="苏红平")
    response = login("other_staff").post(f"/consultations/new/{handling.pk}/", record_data(deputy))
    assert response.status_code == 404
    assert not Consultation.objects.filter(suggestion=handling).exists()


def test_no_consultation_before_assignment(demo, login):
    registered = Suggestion.objects.get(number=124)
    response = login("office").get(f"/consultations/new/{registered.pk}/")
    assert response.status_code == 302
    assert not Consultation.objects.filter(suggestion=registered).exists()


def test_deputy_must_be_on_the_suggestion(handling, login):
    outsider = Deputy.objects.get(name="王建国")
    response = login("staff").post(f"/consultations/new/{handling.pk}/", record_data(outsider))
    assert response.status_code == 200
    assert not Consultation.objects.filter(suggestion=handling).exists()


def test_paper_signature_needs_the_signed_name(handling, login):
    deputy = Deputy.objects.get(name="苏红平")
    response = login("staff").post(f"/consultations/new/{handling.pk}/",
                                   record_data(deputy, signature="paper"))
    assert response.status_code == 200
    assert not Consultation.objects.filter(suggestion=handling).exists()


def test_deputy_confirms_online_and_record_is_then_locked(handling, login):
    deputy = Deputy.objects.get(name="苏红平")
    login("staff").post(f"/consultations/new/{handling.pk}/", record_data(deputy))
    record = Consultation.objects.get(suggestion=handling)
    # 李秀梅 (co-signer, no login) is not this record's deputy; other_deputy cannot even see it.
    assert login("other_deputy").post(f"/consultations/{record.pk}/confirm/",
                                      {"agree": "on"}).status_code == 404
    response = login("deputy").post(f"/consultations/{record.pk}/confirm/",
                                    {"agree": "on", "opinion": "同意，请尽快落实。"})
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.signature == Signature.ONLINE and record.signed_name == "苏红平"
    assert record.deputy_opinion == "同意，请尽快落实。" and record.confirmed_at
    response = login("staff").get(f"/consultations/{record.pk}/edit/")
    assert response.status_code == 302  # confirmed records are no longer editable


def test_concurrent_edit_is_refused_and_text_kept(handling, login):
    deputy = Deputy.objects.get(name="苏红平")
    login("staff").post(f"/consultations/new/{handling.pk}/", record_data(deputy))
    record = Consultation.objects.get(suggestion=handling)
    first = record_data(deputy, place="第一次修改", lock_version=record.lock_version)
    second = record_data(deputy, place="第二次修改的地点", lock_version=record.lock_version)
    assert login("staff").post(f"/consultations/{record.pk}/edit/", first).status_code == 302
    response = login("head").post(f"/consultations/{record.pk}/edit/", second)
    assert response.status_code == 200
    assert "第二次修改的地点" in response.content.decode()
    record.refresh_from_db()
    assert record.place == "第一次修改" and record.lock_version == 1


def test_deputy_sees_only_records_of_their_own_meetings(demo, login):
    record = Consultation.objects.get(suggestion__number=120)
    assert login("deputy").get(f"/consultations/{record.pk}/").status_code == 200
    assert login("other_deputy").get(f"/consultations/{record.pk}/").status_code == 404
