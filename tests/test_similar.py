"""Similar suggestions (suggestions.search.similar_to) and the office's links between them."""

from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import rules
from core.rules import WorkflowError
from suggestions.models import CongressSession, Deputy, Event, Suggestion, SuggestionLink
from suggestions.search import similar_to

BASE_TITLE = "关于加快城区智慧停车设施建设的建议"
BASE_CONTENT = (
    "<p>城区医院、学校和商圈周边停车位严重不足，车辆乱停乱放现象突出。建议统筹规划智慧停车"
    "设施，推广立体停车库，建设全市统一的停车信息平台，实现车位共享和错时停车。</p>"
)


@pytest.fixture
def texts(demo):
    """A near duplicate of BASE (121 → 140), a partly similar one (141), an unrelated one
    (142), and one of a later session (150)."""
    session = demo.session
    wang, li = Deputy.objects.get(name="王建国"), Deputy.objects.get(name="李秀梅")

    def make(number, title, content, lead=wang, at=session):
        return Suggestion.objects.create(session=at, number=number, title=title, content=content,
                                         lead_deputy=lead)

    near = make(140, "关于加快城区智慧停车设施建设的建议", BASE_CONTENT.replace("全市", "我市"), li)
    partly = make(141, "关于规范医院周边停车秩序的建议",
                  "<p>医院周边停车位不足，车辆乱停乱放，建议增设停车位并加强执法。</p>")
    unrelated = make(142, "关于加强中小学校园食品安全管理的建议",
                     "<p>部分学校食堂食材采购不规范，建议建立食品安全追溯制度。</p>")
    later_session = CongressSession.objects.create(name="市八届人大二次会议", term=8, meeting=2,
                                                   year=2023)
    later = make(150, "关于加快城区智慧停车设施建设的建议", BASE_CONTENT, li, later_session)
    return {"near": near, "partly": partly, "unrelated": unrelated, "later": later,
            "session": session}


def test_a_near_duplicate_ranks_above_a_partly_similar_one_and_unrelated_ones_are_left_out(texts):
    result = similar_to(BASE_TITLE, BASE_CONTENT, session=texts["session"])
    numbers = [s.number for s in result]
    assert numbers[:2] == [140, 141]
    assert 142 not in numbers
    assert result[0].similarity > result[1].similarity > 0
    assert result[0].similarity > 0.5


def test_same_and_earlier_sessions_only(texts):
    earlier = [s.number for s in similar_to(BASE_TITLE, BASE_CONTENT, session=texts["session"])]
    assert 150 not in earlier
    later = [s.number for s in similar_to(BASE_TITLE, BASE_CONTENT, session=texts["later"].session)]
    assert {140, 150} <= set(later)
    everywhere = [s.number for s in similar_to(BASE_TITLE, BASE_CONTENT)]
    assert {140, 150} <= set(everywhere)


def test_a_suggestion_is_not_similar_to_itself(texts):
    near = texts["near"]
    numbers = [s.number for s in similar_to(near.title, near.content, session=near.session,
                                            exclude_pk=near.pk)]
    assert 140 not in numbers and numbers[0] == 141


def test_a_title_alone_is_enough(texts):
    numbers = [s.number for s in similar_to("关于建设智慧停车设施的建议", "", session=texts["session"])]
    assert numbers[0] == 140


def test_limit_and_plain_text_content(texts):
    result = similar_to(BASE_TITLE, "医院周边停车位不足", session=texts["session"], limit=1)
    assert len(result) == 1


def test_nothing_informative_finds_nothing(texts):
    assert similar_to("关于进一步加强工作的建议", "", session=texts["session"]) == []
    assert similar_to("", "") == []


def test_the_positional_call_the_import_preview_makes(texts):
    # similar_to(title, content, session, exclude_pk, limit)
    assert similar_to(BASE_TITLE, BASE_CONTENT, texts["session"], None, 2)[0].number == 140


# --- On the pages ------------------------------------------------------------------------------

def test_the_office_sees_similar_suggestions_with_link_buttons(texts, login):
    near = texts["near"]
    html = login("office").get(f"/suggestions/{near.pk}/").content.decode()
    assert 'id="links"' in html
    assert f'name="other" value="{texts["partly"].pk}"' in html
    assert 'value="merged"' in html


@pytest.mark.parametrize("username", ["staff", "head", "deputy", "other_staff"])
def test_others_do_not_see_the_section(demo, login, username):
    html = login(username).get(f"/suggestions/{demo.pk}/").content.decode()
    assert 'id="links"' not in html


def test_intake_checks_for_similar_before_saving(texts, login):
    client = login("office")
    form = client.get("/suggestions/new/").context["form"]
    before = Suggestion.objects.count()
    response = client.post("/suggestions/new/", {
        "session": texts["session"].pk, "title": "关于建设智慧停车设施的建议", "content": BASE_CONTENT,
        "check_similar": "1", "form_token": form["form_token"].value(),
    })
    assert response.status_code == 200
    assert Suggestion.objects.count() == before
    assert [s.number for s in response.context["similar"]][0] == 140
    html = response.content.decode()
    assert 'value="关于建设智慧停车设施的建议"' in html      # the form keeps what was typed
    assert "errorlist" not in html and 'class="error"' not in html  # no "required" errors yet
    # The same form then registers once.
    response = client.post("/suggestions/new/", {
        "session": texts["session"].pk, "number": 160, "title": "关于建设智慧停车设施的建议",
        "content": BASE_CONTENT, "lead_deputy": Deputy.objects.get(name="王建国").pk,
        "disclosure": "agreed", "form_token": form["form_token"].value(),
    })
    assert response.status_code == 302
    assert Suggestion.objects.filter(number=160).exists()


# --- Links ---------------------------------------------------------------------------------------

def test_a_link_is_recorded_in_both_histories_and_shown_on_both_pages(texts, login):
    near, partly = texts["near"], texts["partly"]
    client = login("office")
    response = client.post(f"/suggestions/{near.pk}/link/",
                           {"other": partly.pk, "kind": "merged", "note": "同一问题"})
    assert response.status_code == 302 and response.url.endswith("#links")
    link = SuggestionLink.objects.get()
    assert (link.first_id, link.second_id, link.kind) == (near.pk, partly.pk, "merged")
    mine = Event.objects.get(suggestion=near, action="link")
    theirs = Event.objects.get(suggestion=partly, action="link")
    assert mine.object_label == partly.reference and theirs.object_label == near.reference
    assert partly.reference in mine.note and near.reference in theirs.note
    assert "同一问题" in mine.note and "同一问题" in theirs.note
    for page, other in ((near, partly), (partly, near)):
        html = client.get(f"/suggestions/{page.pk}/").content.decode()
        assert f'href="/suggestions/{other.pk}/">{other.reference}</a>' in html
    # A linked one is no longer offered as similar.
    similar = client.get(f"/suggestions/{near.pk}/").context["similar"]
    assert partly.pk not in [s.pk for s in similar]


def test_unlink_from_either_side_is_recorded_in_both_histories(texts, login, user):
    near, partly = texts["near"], texts["partly"]
    rules.run(partly, "link", user=user("office"), other=near, kind="similar")
    link = SuggestionLink.objects.get()
    response = login("office").post(f"/suggestions/{near.pk}/unlink/{link.pk}/")
    assert response.status_code == 302
    assert not SuggestionLink.objects.exists()
    assert Event.objects.filter(action="unlink", suggestion__in=[near, partly]).count() == 2


def test_link_by_session_and_number(texts, login):
    near = texts["near"]
    login("office").post(f"/suggestions/{near.pk}/link/", {
        "session": texts["later"].session_id, "number": 150, "kind": "similar",
    })
    assert SuggestionLink.objects.filter(second=texts["later"]).exists()


@pytest.mark.parametrize("username", ["staff", "head", "deputy", "agri_staff"])
def test_only_the_office_may_link(demo, login, username):
    other = Suggestion.objects.get(number=123)
    response = login(username).post(f"/suggestions/{demo.pk}/link/", {"other": other.pk,
                                                                      "kind": "similar"})
    assert response.status_code == 302
    assert not SuggestionLink.objects.exists()
    assert not Event.objects.filter(action="link").exists()
    messages = [str(m) for m in login(username).get(response.url).context["messages"]]
    assert messages, "a refusal says why"


def test_a_foreign_unit_gets_404(demo, login):
    response = login("other_staff").post(f"/suggestions/{demo.pk}/link/",
                                         {"other": demo.pk + 1, "kind": "similar"})
    assert response.status_code == 404


def test_the_rule_engine_decides(demo, user):
    other = Suggestion.objects.get(number=123)
    for name in ("staff", "deputy", "other_staff"):
        with pytest.raises(WorkflowError):
            rules.run(demo, "link", user=user(name), other=other, kind="similar")
    rules.run(demo, "link", user=user("admin"), other=other, kind="similar")  # any status (evaluated)
    assert "link" in rules.available_moves(demo, user("office"))
    assert "link" not in rules.available_moves(demo, user("head"))


def test_twice_or_to_itself_is_refused(demo, user):
    other = Suggestion.objects.get(number=123)
    rules.run(demo, "link", user=user("office"), other=other, kind="similar")
    with pytest.raises(WorkflowError):
        rules.run(other, "link", user=user("office"), other=demo, kind="merged")
    with pytest.raises(WorkflowError):
        rules.run(demo, "link", user=user("office"), other=demo, kind="similar")
    with pytest.raises(WorkflowError):
        rules.run(demo, "link", user=user("office"), other=Suggestion.objects.get(number=124),
                  kind="sideways")
    assert SuggestionLink.objects.count() == 1


def test_the_detail_page_costs_the_same_with_more_links(texts, login, user):
    client = login("office")
    near = texts["near"]
    url = f"/suggestions/{near.pk}/"
    rules.run(near, "link", user=user("office"), other=texts["unrelated"], kind="similar")

    def count():
        client.get(url)  # the similar suggestions' ranking is then cached: compare like with like
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    few = count()
    for number in (121, 122, 123, 124):
        rules.run(near, "link", user=user("office"), other=Suggestion.objects.get(number=number),
                  kind="merged")
    assert count() == few


def test_the_similar_ranking_is_kept_until_a_suggestion_is_registered_or_changed(texts, login, user):
    from suggestions.search import similar_to

    client = login("office")
    near = texts["near"]
    url = f"/suggestions/{near.pk}/"
    first = [s.pk for s in client.get(url).context["similar"]]
    assert first  # the fixture's texts rank some

    def ranked() -> int:
        """How many rankings a page view computed."""
        calls = []
        with mock.patch("suggestions.search.similar_to",
                        side_effect=lambda *a, **k: calls.append(1) or similar_to(*a, **k)):
            assert [s.pk for s in client.get(url).context["similar"]] == first
        return len(calls)

    assert ranked() == 0
    near.title += "（修改）"
    near.save()
    assert ranked() == 1
    Suggestion.objects.create(session=near.session, number=999, title="无关的新建议",
                              content="<p>内容</p>", lead_deputy=near.lead_deputy)
    assert ranked() == 1
    assert ranked() == 0
