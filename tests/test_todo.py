"""To-do lists (待办): what awaits each role, built on the rule engine's moves."""

import pytest
from django.core.cache import cache

from replies.models import Reply
from replies.services import reply_create_draft, reply_sign, reply_submit
from suggestions.models import Suggestion

# The demo: No. 120 工信局 evaluated (苏红平); 121 住建局 in handling (王建国); 122 教育局
# assigned (李秀梅 + 苏红平); 123 工信局 in handling (苏红平 + 李秀梅); 124 registered.


def todo_of(login, username) -> dict[str, list[int]]:
    cache.clear()
    response = login(username).get("/todo/")
    assert response.status_code == 200
    return {s["group"].name: sorted(r.number for r in s["rows"]) for s in response.context["sections"]}


def test_office_sees_what_to_assign_and_close(demo, login):
    groups = todo_of(login, "office")
    assert groups["to_assign"] == [124]
    assert groups["to_close"] == [120]
    assert "to_accept" not in groups and "to_sign" not in groups


def test_unit_staff_see_their_own_units_work_only(demo, login):
    assert todo_of(login, "staff") == {"to_meet": [123], "to_draft": [123]}
    assert todo_of(login, "other_staff") == {"to_meet": [121], "to_draft": [121]}
    # 教育局 must accept No. 122.
    assert todo_of(login, "edu_staff")["to_accept"] == [122]


def test_a_head_sees_replies_awaiting_sign_off_with_a_link_to_the_letter(demo, login, user):
    reply = reply_create_draft(suggestion=Suggestion.objects.get(number=123), user=user("staff"))
    Reply.objects.filter(pk=reply.pk).update(body=reply.body + "\n一、情况\n正在办理。")
    reply_submit(reply=reply, user=user("staff"))
    cache.clear()
    response = login("head").get("/todo/")
    section = next(s for s in response.context["sections"] if s["group"].name == "to_sign")
    assert [r.number for r in section["rows"]] == [123]
    assert f'href="/replies/{reply.pk}/"' in response.content.decode()
    assert "to_sign" not in todo_of(login, "staff")
    assert "to_sign" not in todo_of(login, "other_head")


def test_a_deputy_sees_replies_to_rate_and_records_to_confirm(demo, login, user):
    reply = reply_create_draft(suggestion=Suggestion.objects.get(number=123), user=user("staff"))
    Reply.objects.filter(pk=reply.pk).update(body=reply.body + "\n一、情况\n正在办理。")
    reply_submit(reply=reply, user=user("staff"))
    reply_sign(reply=reply, user=user("head"))
    login("staff").post(f"/replies/{reply.pk}/send/")
    assert todo_of(login, "deputy") == {"to_rate": [123]}
    assert todo_of(login, "other_deputy") == {}
    login("deputy").post(f"/replies/{reply.pk}/evaluate/", {"attitude": "satisfied", "result": "satisfied"})
    assert todo_of(login, "deputy") == {}


def test_the_badge_counts_every_item_on_every_page(demo, login):
    cache.clear()
    page = login("staff").get("/suggestions/")
    assert page.context["todo_total"] == 2
    assert '<span class="badge"' in page.content.decode()


def test_the_list_filters_by_a_to_do_group(demo, login):
    listed = login("office").get("/suggestions/", {"todo": "to_assign"}).context["page"]
    assert [s.number for s in listed] == [124]
    listed = login("staff").get("/suggestions/", {"todo": "to_meet"}).context["page"]
    assert [s.number for s in listed] == [123]


def test_a_group_of_another_role_filters_nothing_in(demo, login):
    response = login("staff").get("/suggestions/", {"todo": "to_assign"}, follow=True)
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert 124 not in [s.number for s in response.context["page"]]


@pytest.mark.parametrize("username", ["office", "staff", "head", "deputy"])
def test_after_login_everyone_lands_on_their_to_do(demo, client, username):
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(username=username).update(password="")
    user = get_user_model().objects.get(username=username)
    user.set_password("a-long-test-password")
    user.save()
    response = client.post("/accounts/login/", {"username": username, "password": "a-long-test-password"})
    assert response["Location"] == "/todo/"
    assert client.get("/")["Location"] == "/todo/"


def test_the_todo_page_costs_the_same_however_many_items(demo, login):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login("office")

    def queries() -> int:
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/todo/").status_code == 200
        return len(captured)

    few = queries()
    registered = Suggestion.objects.get(number=124)
    for number in range(200, 230):
        Suggestion.objects.create(session=registered.session, number=number, title="待交办",
                                  content="<p>内容</p>", lead_deputy=registered.lead_deputy)
    assert queries() == few
    # The five most urgent (earliest due, then first registered) are shown, the rest a click away.
    assert todo_of(login, "office")["to_assign"] == [124, 200, 201, 202, 203]
    html = client.get("/todo/").content.decode()
    assert 'href="/suggestions/?todo=to_assign">全部31项…</a>' in html


def test_the_todo_is_kept_until_something_changes_and_follows_a_change_at_once(demo, login, user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core import rules

    cache.clear()
    client = login("office")

    def shown() -> tuple[dict, int]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/todo/")
        groups = {s["group"].name: sorted(r.number for r in s["rows"]) for s in response.context["sections"]}
        return groups, len(captured)

    first, computed = shown()
    again, kept = shown()
    assert again == first and kept < computed  # nothing changed: the counts are not redone
    assert first["to_assign"] == [124]
    suggestion = Suggestion.objects.get(number=124)
    rules.run(suggestion, "assign", user=user("office"), note="",
              unit=Suggestion.objects.get(number=123).lead_unit)
    after, _queries = shown()
    assert "to_assign" not in after
