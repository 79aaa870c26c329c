"""The list's free-text search, sorting and numbered pages.

Each kind of term people type, on whichever database the suite runs on: PostgreSQL (CI) reads
the GIN index over ``to_tsvector('simple', search_document)``, SQLite looks for the same
tokens with LIKE; the answers must be the same.
"""

import datetime
import os
import shutil

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import rules
from replies.services import reply_create_draft, reply_sign, reply_submit, reply_update_draft
from suggestions import search
from suggestions.models import (
    CoHandling,
    CongressSession,
    Deputy,
    HandlingUnit,
    Status,
    Suggestion,
)

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")


def found(client, query: str = "", **params) -> list[int]:
    response = client.get("/suggestions/", {"q": query, **params} if query else params)
    assert response.status_code == 200
    return [s.number for s in response.context["page"]]


@pytest.fixture
def world(demo, user):
    """Three more suggestions next to the demo's 120–124.

    130 基站 (王建国, co-signed by 李秀梅; 住建局 leads, 工信局 co-handles), 131 单车 (李秀梅,
    registered), 132 乡村道路 (王建国, registered).
    """
    session = demo.session
    wang, li = Deputy.objects.get(name="王建国"), Deputy.objects.get(name="李秀梅")
    zjj = HandlingUnit.objects.get(name="晋城市住房和城乡建设局")
    gxj = HandlingUnit.objects.get(name="晋城市工业和信息化局")
    s130 = Suggestion.objects.create(
        session=session, number=130, title="关于在老城区增设5G基站的建议", lead_deputy=wang,
        content="<p>城区路口信号差，<strong>停车场</strong>附近尤其明显。</p>",
    )
    s130.co_deputies.set([li])
    rules.run(s130, "assign", user=user("office"), unit=zjj, co_units=[gxj])
    Suggestion.objects.create(
        session=session, number=131, title="关于规范共享单车停放的建议", lead_deputy=li,
        content="<p>人行道被单车占用，行人通行不便。</p>",
    )
    Suggestion.objects.create(
        session=session, number=132, title="关于修缮乡村道路的建议", lead_deputy=wang,
        content="<p>村道坑洼，雨天泥泞。</p>",
    )
    return Suggestion.objects.get(number=130)


# --- Every kind of term ------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["130", "第130号", "130号", "１３０", "市八届人大一次会议第130号建议"])
def test_the_number_as_shown(world, login, query):
    assert found(login("office"), query)[0] == 130


def test_a_typed_number_comes_first_even_when_texts_mention_it(world, login):
    Suggestion.objects.filter(number=131).update(content="<p>已有130辆单车。</p>")
    search.refresh_search(Suggestion.objects.values_list("pk", flat=True))
    assert found(login("office"), "130") == [130, 131]


def test_two_character_words_of_title_and_content(world, login):
    client = login("office")
    assert found(client, "基站") == [130]           # title
    assert found(client, "停车") == [130]           # content, inside formatting (停车场)
    assert found(client, "单车") == [131]
    assert found(client, "电梯") == [121]


def test_one_character_words(world, login):
    on_road = found(login("office"), "路")
    assert {130, 132} <= set(on_road)  # 路口, 道路
    assert 131 not in on_road            # 人行道: no 路


def test_longer_words_and_latin_words(world, login):
    client = login("office")
    assert found(client, "老城区增设") == [130]
    assert found(client, "5G基站") == [130]
    assert set(found(client, "5g")) == {120, 130}
    assert found(client, "5G新型基建") == [120]


def test_any_deputy_lead_or_cosigning(world, login):
    client = login("office")
    assert set(found(client, "王建国")) == {121, 130, 132}
    assert set(found(client, "李秀梅")) == {122, 123, 124, 130, 131}  # 130 and 123: co-signed
    assert 122 in found(client, "苏红平")                              # co-signed 122


def test_a_unit_by_full_or_short_name_lead_or_co_handling(world, login):
    client = login("office")
    assert set(found(client, "晋城市住房和城乡建设局")) == {121, 130}
    assert set(found(client, "市住建局")) == {121, 130}
    assert set(found(client, "工信局")) == {120, 123, 130}   # 130: co-handling
    assert found(client, "农业农村局") == [120]                 # co-handling of 120


def test_a_signed_reply_document_number_or_part_of_it(world, login, user):
    suggestion = world
    rules.run(suggestion, "accept", user=user("other_staff"))
    rules.run(suggestion, "co_opinion", user=user("staff"), opinion="同意在城区增设基站。")
    reply = reply_create_draft(suggestion=suggestion, user=user("other_staff"))
    reply_update_draft(reply=reply, user=user("other_staff"), expected_version=reply.lock_version,
                       data={"doc_number": "晋市住建建字〔2026〕17号",
                             "body": f"{reply.body.splitlines()[0]}\n一、已完成选址。"})
    client = login("office")
    assert found(client, "住建建字") == []        # a draft's number is not searchable yet
    reply.refresh_from_db()
    reply_submit(reply=reply, user=user("other_staff"))
    reply_sign(reply=reply, user=user("other_head"))
    assert found(client, "晋市住建建字") == [130]
    assert found(client, "住建建字〔2026〕17号") == [130]
    assert found(client, "住建建字 2026") == [130]


def test_all_terms_must_match(world, login):
    client = login("office")
    assert found(client, "基站 李秀梅") == [130]
    assert found(client, "基站  王建国 住建局") == [130]
    assert found(client, "基站 苏红平") == []
    assert found(client, "单车　李秀梅") == [131]   # an ideographic space separates terms too


def test_punctuation_alone_finds_everything(world, login):
    client = login("office")
    assert len(found(client, "，。")) == Suggestion.objects.count()


# --- Scope -------------------------------------------------------------------------------------

def test_a_unit_finds_only_its_own(world, login):
    assert found(login("other_staff"), "5G") == [130]        # 住建局 leads 130, not 120
    assert found(login("edu_staff"), "5G") == [120]          # 教育局 co-handles 120 only
    assert found(login("staff"), "基站") == [130]            # 工信局 co-handles 130
    assert found(login("other_staff"), "专精特新") == []      # 123 is 工信局's


def test_a_deputy_finds_only_their_own(world, login):
    assert found(login("other_deputy"), "李秀梅") == [130]   # 王建国's own, co-signed by 李秀梅
    assert found(login("deputy"), "王建国") == []


# --- Kept current ----------------------------------------------------------------------------

def test_an_edit_is_found_at_once_and_the_old_words_are_gone(world, login, user):
    from suggestions.forms import SuggestionForm

    suggestion = Suggestion.objects.get(number=131)
    data = {
        "session": suggestion.session_id, "number": 131, "title": "关于治理电动自行车充电的建议",
        "content": suggestion.content, "lead_deputy": suggestion.lead_deputy_id,
        "co_deputies": [Deputy.objects.get(name="苏红平").pk], "topic": "", "disclosure": "agreed",
    }
    form = SuggestionForm(data, instance=suggestion)
    assert form.is_valid(), form.errors
    rules.run(suggestion, "edit", user=user("office"), form=form)
    client = login("office")
    assert found(client, "充电") == [131]
    assert found(client, "停放") == []
    assert 131 in found(client, "苏红平")


def test_assignment_and_reassignment_move_the_unit_names(world, login, user):
    suggestion = Suggestion.objects.get(number=132)
    jyj = HandlingUnit.objects.get(name="晋城市教育局")
    nync = HandlingUnit.objects.get(name="晋城市农业农村局")
    rules.run(suggestion, "assign", user=user("office"), unit=jyj, co_units=[nync])
    client = login("office")
    assert 132 in found(client, "市教育局")
    assert 132 in found(client, "农业农村局")
    rules.run(suggestion, "reassign", user=user("office"), unit=HandlingUnit.objects.get(
        name="晋城市住房和城乡建设局"), note="职责调整")
    assert 132 not in found(client, "市教育局")
    assert 132 in found(client, "住建局")


def test_renaming_a_unit_or_a_deputy_is_found(world, login):
    unit = HandlingUnit.objects.get(name="晋城市住房和城乡建设局")
    unit.short_name = "市住房城建局"
    unit.save()
    deputy = Deputy.objects.get(name="李秀梅")
    deputy.name = "李秀美"
    deputy.save()
    client = login("office")
    assert set(found(client, "住房城建")) == {121, 130}
    assert set(found(client, "李秀美")) == {122, 123, 124, 130, 131}


def test_cosigners_changed_from_the_deputy_side(world, login):
    su = Deputy.objects.get(name="苏红平")
    su.cosigned_suggestions.add(Suggestion.objects.get(number=132))
    assert 132 in found(login("office"), "苏红平")
    su.cosigned_suggestions.clear()
    assert 132 not in found(login("office"), "苏红平")


def test_refresh_search_after_a_bulk_write(world, login):
    Suggestion.objects.filter(number=132).update(title="关于整治河道垃圾的建议")
    assert found(login("office"), "河道") == []  # QuerySet.update bypasses save()
    assert search.refresh_search(Suggestion.objects.filter(number=132).values_list("pk", flat=True)) == 1
    assert found(login("office"), "河道") == [132]


def test_a_plain_save_of_a_stale_instance_keeps_the_fresh_document(world, login):
    stale = Suggestion.objects.get(number=131)
    Suggestion.co_deputies.through.objects.create(
        suggestion=stale, deputy=Deputy.objects.get(name="苏红平")
    )
    search.refresh_search([stale.pk])
    stale.key_supervision = True
    stale.save()  # loaded before the refresh: must not write its old document back
    assert 131 in found(login("office"), "苏红平")


def test_the_document(world):
    document = Suggestion.objects.get(number=130).search_document
    for token in ["基站", "基", "5g", "王建", "130", "工信", "住建"]:
        assert f" {token} " in document, token
    assert document.startswith(" ") and document.endswith(" ")
    assert search.tokens("Ｇ２０８国道") == {"g208", "国", "道", "国道"}


@postgres_only
def test_postgres_answers_from_the_gin_index(world):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a few rows: make a scan cost more
        cursor.execute("SET LOCAL enable_indexscan = off")
        queryset, _numbers = search.search(Suggestion.objects.order_by(), "基站")
        sql, params = queryset.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert search.INDEX_NAME in plan, plan


@postgres_only
def test_postgres_takes_the_tokens_as_they_are(world):
    """The column is a tsvector of exactly our tokens: no text-search parser, so CJK (rare
    characters too) and words are lexemes whatever the database's locale."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::tsvector::text", [" 基 站 基站 𠀀 𠀀𠀁 5g 工信 "])
        vector = cursor.fetchone()[0]
    for token in ["基", "站", "基站", "𠀀", "𠀀𠀁", "5g", "工信"]:
        assert f"'{token}'" in vector, vector
    stored = Suggestion.objects.get(number=130).search_document  # read back as our tokens
    assert stored.startswith(" ") and " 基站 " in stored and " 王建国 " not in stored


# --- Sorting ----------------------------------------------------------------------------------

def test_sorting_by_each_column(world, login):
    client = login("office")
    everything = sorted(found(client))
    assert found(client, sort="number") == everything
    assert found(client, sort="-number") == everything[::-1]
    dated = Suggestion.objects.exclude(due_on=None).order_by("due_on", "pk")
    by_due = found(client, sort="due_on")
    assert by_due[:dated.count()] == [s.number for s in dated]          # undated ones last
    assert found(client, sort="-due_on")[:dated.count()] == [
        s.number for s in Suggestion.objects.exclude(due_on=None).order_by("-due_on", "-pk")]
    order = list(Status.values)
    statuses = [Suggestion.objects.get(number=n).status for n in found(client, sort="status")]
    assert statuses == sorted(statuses, key=order.index)
    units = [Suggestion.objects.get(number=n).lead_unit for n in found(client, sort="unit")]
    names = [u.name for u in units if u]
    assert names == sorted(names) and units[-1] is None                 # unassigned last


def test_default_order_is_session_then_number(world, login):
    later = CongressSession.objects.create(name="市八届人大二次会议", term=8, meeting=2, year=2023)
    Suggestion.objects.create(session=later, number=1, title="关于下一年的建议",
                              lead_deputy=Deputy.objects.get(name="王建国"), content="<p>内容</p>")
    numbers = found(login("office"))
    assert numbers[0] == 1 and numbers[1:] == sorted(numbers[1:])


def test_sort_headers_link_with_the_filters_kept(world, login):
    response = login("office").get("/suggestions/", {"q": "基站", "status": "assigned", "sort": "number"})
    html = response.content.decode()
    kept = "?q=%E5%9F%BA%E7%AB%99&amp;status=assigned"
    assert f'aria-sort="ascending"><a class="sort" href="{kept}&amp;sort=-number"' in html
    assert f'aria-sort="none"><a class="sort" href="{kept}&amp;sort=due_on"' in html
    # The search keeps its sort: 130 is the one match, whatever the order.
    assert [s.number for s in response.context["page"]] == [130]


def test_a_sort_that_does_not_exist_is_ignored_with_a_message(world, login):
    response = login("office").get("/suggestions/", {"sort": "title; DROP TABLE"}, follow=True)
    assert response.status_code == 200
    assert any("not valid" in str(m) or "无效" in str(m) for m in response.context["messages"])


def test_a_sort_applies_to_the_search_too(world, login):
    client = login("office")
    assert found(client, "李秀梅", sort="-number") == [131, 130, 124, 123, 122]


# --- Numbered pages ---------------------------------------------------------------------------

@pytest.fixture
def many(demo):
    session, wang = demo.session, Deputy.objects.get(name="王建国")
    rows = Suggestion.objects.bulk_create(
        Suggestion(session=session, number=1000 + i, title=f"关于第{i}条道路维修的建议",
                   lead_deputy=wang, content="<p>道路破损。</p>") for i in range(460)
    )
    search.refresh_search(Suggestion.objects.filter(number__gte=1000).values_list("pk", flat=True))
    return rows


def test_numbered_page_links_keep_the_filters(many, login):
    client = login("office")
    response = client.get("/suggestions/", {"q": "道路", "sort": "number", "page": 4})
    html = response.content.decode()
    assert response.context["page"].number == 4
    assert response.context["page"].paginator.num_pages == 10
    for n in (1, 2, 3, 5, 6, 10):
        assert f'href="?q=%E9%81%93%E8%B7%AF&amp;sort=number&amp;page={n}"' in html, n
    assert 'aria-current="page">4<' in html
    first = client.get("/suggestions/", {"q": "道路", "sort": "number"}).content.decode()
    assert "…" in first and "page=10" in first and "page=5" not in first
    assert [s.number for s in response.context["page"]][0] == 1150


# --- On a phone -------------------------------------------------------------------------------

def test_filters_fold_behind_one_button(world, login):
    html = login("office").get("/suggestions/", {"q": "基站", "status": "assigned"}).content.decode()
    assert '<details class="filter-fold" open data-fold-narrow>' in html
    assert "(2)" in html  # the summary says how many filters are on
    script = open(os.path.join(os.path.dirname(__file__), "..", "static", "js", "app.js")).read()
    assert "details[data-fold-narrow]" in script and "max-width: 600px" in script


# --- Query count ------------------------------------------------------------------------------

@pytest.mark.parametrize("username", ["office", "staff", "deputy"])
@pytest.mark.parametrize("params", [{"q": "建议 苏红平"}, {"q": "123"}, {"sort": "unit"},
                                    {"sort": "-due_on", "q": "第"}])
def test_the_list_costs_the_same_for_more_rows(demo, login, user, username, params):
    from test_query_counts import add_suggestions

    client = login(username)
    add_suggestions(3, start=200, user=user)

    def count():
        client.get("/suggestions/", params)  # the page's own caches (badge, figures) warm
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/suggestions/", params).status_code == 200
        return len(captured)

    few = count()
    add_suggestions(20, start=300, user=user)
    assert count() == few


# --- In a real browser ------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module", autouse=True)
def release_live_server_connections(django_db_blocker):
    """As in test_browser: end the live server threads' database sessions once this module is
    done, or the test database cannot be dropped at the end of the run."""
    yield
    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")
def test_filters_fold_away_on_a_phone(transactional_db, live_server, monkeypatch, settings):
    from playwright.sync_api import sync_playwright

    from demo.seed import load_demo

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    load_demo()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(f"{live_server.url}/accounts/login/")
            page.fill("input[name=username]", "office")
            page.fill("input[name=password]", "demo-pass-2022")
            page.click("button[type=submit]")
            page.wait_for_load_state()
            page.goto(f"{live_server.url}/suggestions/?q=5G")
            assert not page.locator("form.filters").is_visible()
            page.click("details.filter-fold > summary")
            assert page.locator("form.filters").is_visible()
            assert page.locator("input[name=q]").input_value() == "5G"
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.set_viewport_size({"width": 1200, "height": 900})
            page.goto(f"{live_server.url}/suggestions/?q=5G")
            assert page.locator("form.filters").is_visible()
            assert not page.locator("details.filter-fold > summary").is_visible()
        finally:
            browser.close()


def test_co_handling_rows_made_outside_the_moves_need_a_refresh(world, login):
    """Documented limit: CoHandling rows written directly (not through assign) are found once
    refresh_search runs, as for any bulk write."""
    suggestion = Suggestion.objects.get(number=131)
    CoHandling.objects.create(suggestion=suggestion, unit=HandlingUnit.objects.get(name="晋城市教育局"),
                              due_on=datetime.date(2026, 12, 1))
    search.refresh_search([suggestion.pk])
    assert 131 in found(login("office"), "市教育局")


def test_the_command_rewrites_every_document(world):
    from django.core.management import call_command

    Suggestion.objects.update(search_document="")
    call_command("refresh_search", "--batch", "3", stdout=open(os.devnull, "w"))
    assert " 基站 " in Suggestion.objects.get(number=130).search_document
    assert not Suggestion.objects.filter(search_document="").exists()


@postgres_only
def test_a_token_in_every_suggestion_is_left_out_of_the_query(world):
    """建议 is in every suggestion's reference: asking the index for it would select all rows
    the slow way; with the statistics (ANALYZE) it is left out, and the answer is the same."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE suggestions_suggestion")
    assert search.common_tokens().get("建议") == 1
    queryset, _numbers = search.search(Suggestion.objects.all(), "建议")
    assert "@@" not in str(queryset.query)
    assert queryset.count() == Suggestion.objects.count()
    queryset, _numbers = search.search(Suggestion.objects.all(), "建议 基站")
    assert [s.number for s in queryset] == [130]


def test_a_very_long_content_is_saved_and_its_start_found(world, login):
    import random

    rng = random.Random(7)
    characters = [chr(c) for c in range(0x4E00, 0x9FA5)]
    text = "".join(rng.choice(characters) for _ in range(200_000))
    suggestion = Suggestion.objects.get(number=132)
    suggestion.content = f"<p>独特开头{text}</p>"
    suggestion.save()
    assert found(login("office"), "独特开头") == [132]
