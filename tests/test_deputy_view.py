"""What a deputy sees: their own suggestions, plain-language timeline, sent replies only."""

from replies.services import reply_create_draft
from suggestions.models import Suggestion


def test_my_suggestions_lists_led_and_cosigned_only(demo, login):
    page = login("deputy").get("/suggestions/").content.decode()
    # 苏红平 leads 120 and 123 and co-signs 122; 121 is 王建国's, 124 李秀梅's.
    for title in ["关于应加强加速 5G 新型基建发展", "关于支持专精特新中小企业融资的建议",
                  "关于中小学课后服务提质增效的建议"]:
        assert title in page
    assert "关于加快老旧小区加装电梯工作的建议" not in page
    assert "关于完善农村生活污水治理的建议" not in page


def test_deputy_timeline_is_plain_and_has_no_internal_notes(demo, login):
    response = login("deputy").get(f"/suggestions/{demo.pk}/")
    timeline = response.context["timeline"]
    titles = [entry.title for entry in timeline]
    assert all(not entry.note and not entry.actor for entry in timeline)
    # Internal steps (drafting, sign-off submission, co-unit opinions, sign-off) are not shown:
    # of No. 120's events the deputy sees registration, assignment, acceptance, the reply, the
    # consultation and the evaluation.
    assert demo.events.filter(action__in=["reply_created", "reply_submitted", "co_opinion",
                                          "reply_signed"]).count() == 5
    assert len(titles) == 6
    page = response.content.decode()
    assert "将指导各县" not in page  # co-unit opinions stay between the units
    assert "王敏" not in page  # no staff names on the deputy's timeline


def test_staff_timeline_shows_who_and_notes(demo, login):
    timeline = login("staff").get(f"/suggestions/{demo.pk}/").context["timeline"]
    assert any(entry.actor == "苗学武" for entry in timeline)


def test_deputy_does_not_see_drafts(demo, login, user):
    suggestion = Suggestion.objects.get(number=123)
    draft = reply_create_draft(suggestion=suggestion, user=user("staff"))
    client = login("deputy")
    assert client.get(f"/replies/{draft.pk}/").status_code == 404
    assert client.get(f"/replies/{draft.pk}/pdf/").status_code == 404
    assert draft.title not in client.get(f"/suggestions/{suggestion.pk}/").content.decode()


def test_co_unit_sees_suggestion_but_not_lead_units_draft(demo, login, user):
    suggestion = Suggestion.objects.get(number=120)
    client = login("agri_staff")
    assert client.get(f"/suggestions/{suggestion.pk}/").status_code == 200
    handling = Suggestion.objects.get(number=123)
    draft = reply_create_draft(suggestion=handling, user=user("staff"))
    assert login("agri_staff").get(f"/replies/{draft.pk}/").status_code == 404
