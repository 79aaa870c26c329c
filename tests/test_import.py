"""Importing the office's assignment list (交办清单): the upload page (preview, then commit) and
``manage.py import_suggestions``, reading files built here with openpyxl and csv."""

import csv
import datetime
import io
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import translation
from openpyxl import Workbook, load_workbook

from core.rules import WorkflowError
from suggestions import importing
from suggestions.models import (
    CongressSession,
    Deputy,
    Event,
    HandlingUnit,
    StaffMember,
    Status,
    Suggestion,
)
from suggestions.workflow import record_event

URL = "/suggestions/import/"
HEADINGS = ["会议", "建议编号", "标题", "领衔代表", "附议代表", "主要内容", "类别", "主办单位",
            "协办单位", "交办日期"]
SESSION = "市八届人大一次会议"


@pytest.fixture(autouse=True)
def english(client, settings):
    # Messages are asserted in the source language, whatever the catalogue says.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def world(db, settings, tmp_path):
    """Just what an import needs: a session, three units, deputies (two namesakes), users."""
    settings.MEDIA_ROOT = tmp_path
    User = get_user_model()
    session = CongressSession.objects.create(name=SESSION, term=8, meeting=1, year=2022)
    gxj = HandlingUnit.objects.create(name="晋城市工业和信息化局", short_name="工信局")
    nync = HandlingUnit.objects.create(name="晋城市农业农村局", short_name="市农业农村局")
    jyj = HandlingUnit.objects.create(name="晋城市教育局", short_name="市教育局")
    su = Deputy.objects.create(name="苏红平", work_unit="山西红萍服饰有限公司",
                               user=User.objects.create_user("deputy"))
    zhang_school = Deputy.objects.create(name="张伟", work_unit="晋城市第一中学")
    zhang_hospital = Deputy.objects.create(name="张伟", work_unit="晋城市人民医院")
    li = Deputy.objects.create(name="李娜", work_unit="晋城市城区北街街道")
    office = User.objects.create_user("office")
    StaffMember.objects.create(user=office, role="office", display_name="王敏")
    handler = User.objects.create_user("staff")
    StaffMember.objects.create(user=handler, role="handler", display_name="延娜", unit=gxj)
    admin = User.objects.create_superuser("admin")
    return SimpleNamespace(session=session, gxj=gxj, nync=nync, jyj=jyj, su=su,
                           zhang_school=zhang_school, zhang_hospital=zhang_hospital, li=li,
                           office=office, handler=handler, admin=admin)


def line(number, **cells):
    """One data row, a valid one unless told otherwise."""
    values = {
        "会议": SESSION, "建议编号": number, "标题": f"关于第{number}号事项的建议",
        "领衔代表": "苏红平", "附议代表": "", "主要内容": f"建议研究落实第{number}号事项。",
        "类别": "工业经济", "主办单位": "", "协办单位": "", "交办日期": "",
    } | cells
    return [values[heading] for heading in HEADINGS]


def xlsx(rows, headings=HEADINGS) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(headings)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_file(rows, encoding="utf-8", headings=HEADINGS) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(headings)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return text.getvalue().encode(encoding)


def upload(client, data: bytes, name="交办清单.xlsx"):
    return client.post(URL, {"file": SimpleUploadedFile(name, data)})


def commit(client, preview):
    token = preview.context["commit_form"]["form_token"].value()
    return client.post(URL, {"form_token": str(token)})


def office_client(client, world):
    client.force_login(world.office)
    return client


def problems(response) -> dict[int, list[str]]:
    return {row.line: [str(p) for p in row.errors] for row in response.context["plan"].rows}


def run_command(path, *args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_suggestions", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# --- The page: preview, then commit ---------------------------------------------------------

def test_preview_names_every_problem_by_row_and_writes_nothing(client, world):
    Suggestion.objects.create(session=world.session, number=300, title="原标题", content="<p>原内容</p>",
                              lead_deputy=world.su)
    rows = [
        line(101, 会议="市九届人大一次会议"),  # row 2: unknown session
        line(102, 主办单位="工信j局", 交办日期="2022-03-25"),  # row 3: a typo of a unit
        line(103, 领衔代表="张伟"),  # row 4: two deputies of that name
        line(104, 附议代表="赵六"),  # row 5: nobody of that name
        line(105),  # rows 6 and 7: the same number twice
        line(105),
        line(300, 标题="新标题"),  # row 8: exists with another title
        line(106, 标题=""),  # row 9: no title
        line(107, 主办单位="工信局", 交办日期="2022-02-30"),  # row 10: no such day
        line(108, 类别="天文"),  # row 11: no such category
        line(109),  # row 12: fine
    ]
    before = (Suggestion.objects.count(), Event.objects.count())
    response = upload(office_client(client, world), xlsx(rows))
    assert response.status_code == 200
    found = problems(response)
    assert "会议：Unknown session “市九届人大一次会议”." in found[2]
    assert found[3] == ["主办单位：Unknown handling unit “工信j局”."]
    assert "晋城市第一中学" in found[4][0] and "晋城市人民医院" in found[4][0]
    assert found[5] == ["附议代表：Unknown deputy “赵六”."]
    assert "rows 6、7" in found[6][0] and found[6] == found[7]
    assert "already exists with a different 标题" in found[8][0]
    assert found[9] == ["标题：The title is missing."]
    assert found[10] == ["交办日期：“2022-02-30” is not a date (write it as 2022-03-25)."]
    assert "Unknown category “天文”" in found[11][0]
    assert found[12] == []
    assert response.context["commit_form"] is None
    assert "工信j局" in response.content.decode()
    assert (Suggestion.objects.count(), Event.objects.count()) == before
    assert not HandlingUnit.objects.filter(name__contains="工信j").exists()
    assert not Deputy.objects.filter(name="赵六").exists()


def test_commit_imports_what_the_preview_showed(client, world):
    rows = [
        line(101, 附议代表="李娜、张伟（市一中）", 主办单位="晋城市工业和信息化局",
             协办单位="市农业农村局，市教育局", 交办日期=datetime.date(2022, 3, 22)),
        line(102),
    ]
    client = office_client(client, world)
    preview = upload(client, xlsx(rows))
    assert [row.action for row in preview.context["plan"].rows] == ["create", "create"]
    assert Suggestion.objects.count() == 0  # the preview wrote nothing

    response = commit(client, preview)
    assert response.status_code == 302
    assigned = Suggestion.objects.get(number=101)
    assert assigned.status == Status.ASSIGNED
    assert assigned.lead_unit == world.gxj
    assert assigned.assigned_on == datetime.date(2022, 3, 22)
    # REPLY_DUE_MONTHS = 3 and CO_OPINION_DUE_MONTHS = 1 (both land on working days).
    assert assigned.due_on == datetime.date(2022, 6, 22)
    assert set(assigned.co_deputies.all()) == {world.li, world.zhang_school}
    co = {c.unit: c.due_on for c in assigned.co_handlings.all()}
    assert co == {world.nync: datetime.date(2022, 4, 22), world.jyj: datetime.date(2022, 4, 22)}
    assert [(e.action, e.to_status) for e in assigned.events.all()] == [
        ("register", ""), ("assign", Status.ASSIGNED)]
    assert all(e.actor == world.office for e in assigned.events.all())
    registered = Suggestion.objects.get(number=102)
    assert registered.status == Status.REGISTERED and registered.lead_unit is None
    assert [e.action for e in registered.events.all()] == ["register"]
    audit = Event.objects.get(action="import")
    assert audit.suggestion is None and audit.internal and audit.actor == world.office
    assert audit.object_label == "交办清单.xlsx"
    assert "2 created, 1 assigned" in audit.note


def test_double_click_on_commit_imports_once(client, world):
    client = office_client(client, world)
    preview = upload(client, xlsx([line(101, 主办单位="工信局", 交办日期="2022-03-25")]))
    first = commit(client, preview)
    events = Event.objects.count()
    second = commit(client, preview)
    assert second.status_code == 302 and second.url == first.url
    assert Suggestion.objects.count() == 1
    assert Event.objects.count() == events


def test_commit_reads_the_stored_file_not_the_browser(client, world):
    client = office_client(client, world)
    preview = upload(client, xlsx([line(101)]))
    token = str(preview.context["commit_form"]["form_token"].value())
    client.post(URL, {"form_token": token, "标题": "篡改", "title": "篡改", "number": "999"})
    assert list(Suggestion.objects.values_list("number", "title")) == [(101, "关于第101号事项的建议")]


def test_another_users_preview_cannot_be_committed(client, world):
    client = office_client(client, world)
    token = str(upload(client, xlsx([line(101)])).context["commit_form"]["form_token"].value())
    client.force_login(world.admin)  # another session: the upload is not theirs
    response = client.post(URL, {"form_token": token}, follow=True)
    assert "expired or was already imported" in response.content.decode()
    assert not Suggestion.objects.exists()


def test_a_row_that_fails_while_writing_rolls_back_the_whole_import(client, world, monkeypatch):
    """All or nothing: the second assignment is refused after the first rows were written."""
    from core import rules

    calls = []

    def refuse_second(obj, name, **kwargs):
        calls.append(obj.number)
        if len(calls) == 2:
            raise WorkflowError("refused for the test.")
        return real_run(obj, name, **kwargs)

    real_run = rules.run
    monkeypatch.setattr(importing.rules, "run", refuse_second)
    client = office_client(client, world)
    rows = [line(n, 主办单位="工信局", 交办日期="2022-03-25") for n in (101, 102, 103)]
    response = commit(client, upload(client, xlsx(rows)))
    assert response.status_code == 302
    assert calls == [101, 102]
    assert not Suggestion.objects.exists()
    assert not Event.objects.exists()


def test_preview_shows_registered_earlier_rows_as_to_be_assigned(client, world):
    """The office registers the list at the session and assigns it weeks later: the second file
    (same rows, now with units and dates) assigns what the first registered."""
    client = office_client(client, world)
    commit(client, upload(client, xlsx([line(101), line(102)])))
    later = xlsx([line(101, 主办单位="工信局", 交办日期="2022-04-01"), line(102)])
    preview = upload(client, later)
    assert [row.action for row in preview.context["plan"].rows] == ["assign", "unchanged"]
    commit(client, preview)
    suggestion = Suggestion.objects.get(number=101)
    assert (suggestion.status, suggestion.lead_unit, suggestion.assigned_on) == (
        Status.ASSIGNED, world.gxj, datetime.date(2022, 4, 1))
    assert Suggestion.objects.get(number=102).status == Status.REGISTERED


def test_preview_shows_similar_suggestions_of_new_rows(client, world):
    pytest.importorskip("suggestions.search")  # similar_to comes with the search module
    earlier = Suggestion.objects.create(
        session=world.session, number=90, title="关于加快老旧小区加装电梯工作的建议",
        content="<p>老旧小区加装电梯，方便老年人出行。</p>", lead_deputy=world.li)
    preview = upload(office_client(client, world), xlsx([
        line(101, 标题="关于加快推进老旧小区加装电梯的建议", 主要内容="建议老旧小区加装电梯。"),
        line(102, 标题="关于完善农村生活污水治理的建议"),
    ]))
    similar, unrelated = preview.context["plan"].rows
    assert earlier in similar.similar and unrelated.similar == []
    assert "市八届人大一次会议第90号建议" in preview.content.decode()


# --- Namesakes, short names, categories, content -------------------------------------------

@pytest.mark.parametrize("cell", ["张伟（市一中）", "张伟(市第一中学)", "张伟（晋城市第一中学）",
                                  "张伟 (一中)"])
def test_namesakes_are_told_apart_by_work_unit(client, world, cell):
    client = office_client(client, world)
    commit(client, upload(client, xlsx([line(101, 领衔代表=cell)])))
    assert Suggestion.objects.get(number=101).lead_deputy == world.zhang_school


def test_an_ambiguous_or_unmatched_namesake_is_refused_with_the_candidates(world):
    plan = importing.plan(xlsx([line(101, 领衔代表="张伟"), line(102, 领衔代表="张伟（市二中）")]),
                          "list.xlsx")
    ambiguous, unmatched = ([str(p) for p in row.errors] for row in plan.rows)
    assert "“张伟” is ambiguous: 张伟（晋城市第一中学）、张伟（晋城市人民医院）" in ambiguous[0]
    assert "No deputy “张伟” works at “市二中”" in unmatched[0]
    assert not plan.ok


def test_units_match_by_full_or_short_name(world):
    plan = importing.plan(xlsx([
        line(101, 主办单位="工信局", 协办单位="市农业农村局；晋城市教育局", 交办日期="2022/3/25"),
        line(102, 主办单位="晋城市工信局", 交办日期="2022年3月25日"),  # the short name with its city
        line(103, 主办单位="信局", 交办日期="20220325"),  # not a name, only an ending
    ]), "list.xlsx")
    first, second, third = plan.rows
    assert (first.lead_unit, first.co_units) == (world.gxj, [world.nync, world.jyj])
    assert first.assigned_on == second.assigned_on == third.assigned_on == datetime.date(2022, 3, 25)
    assert second.lead_unit == world.gxj
    assert [str(p) for p in third.errors] == ["主办单位：Unknown handling unit “信局”."]


def test_category_matches_chinese_label_or_value(world):
    plan = importing.plan(xlsx([line(101, 类别="城建环保"), line(102, 类别="health"),
                                line(103, 类别="")]), "list.xlsx")
    assert [row.topic for row in plan.rows] == ["urban", "health", ""]


def test_content_is_sanitized_like_the_intake_form(client, world):
    client = office_client(client, world)
    preview = upload(client, xlsx([
        line(101, 主要内容='<p onclick="x()">第一段</p><script>alert(1)</script>'),
        line(102, 主要内容="第一行\n第二行 <很好>"),
        line(103, 主要内容="<script>alert(1)</script><p> </p>"),
    ]))
    assert problems(preview)[4] == ["主要内容：The main content is empty once formatting is removed."]
    good = xlsx([line(101, 主要内容='<p onclick="x()">第一段</p><script>alert(1)</script>'),
                 line(102, 主要内容="第一行\n第二行 <很好>")])
    commit(client, upload(client, good))
    assert Suggestion.objects.get(number=101).content == "<p>第一段</p>"
    assert Suggestion.objects.get(number=102).content == "<p>第一行</p><p>第二行 &lt;很好&gt;</p>"


# --- Encodings and formats ------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_utf8_with_or_without_bom_and_gb18030(client, world, encoding):
    data = csv_file([line(101, 领衔代表="张伟（市一中）", 主办单位="工信局", 交办日期="2022-03-25")],
                    encoding=encoding)
    client = office_client(client, world)
    preview = upload(client, data, name="交办清单.csv")
    assert problems(preview) == {2: []}
    commit(client, preview)
    suggestion = Suggestion.objects.get(number=101)
    assert suggestion.title == "关于第101号事项的建议"
    assert suggestion.lead_deputy == world.zhang_school and suggestion.status == Status.ASSIGNED


def test_xlsx_with_a_title_line_above_the_headings(world):
    book = Workbook()
    sheet = book.active
    sheet.append(["市八届人大一次会议代表建议交办清单"])
    sheet.append(HEADINGS)
    sheet.append(line(101, 交办日期=datetime.datetime(2022, 3, 25), 主办单位="工信局"))
    buffer = io.BytesIO()
    book.save(buffer)
    plan = importing.plan(buffer.getvalue(), "list.xlsx")
    assert [(row.line, row.number, row.assigned_on) for row in plan.rows] == [
        (3, 101, datetime.date(2022, 3, 25))]


# --- Refused files: a message, never a 500 --------------------------------------------------

@pytest.mark.parametrize("name, data, message", [
    ("seal.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "Only Excel workbooks (.xlsx) and CSV files"),
    ("list.xlsx", b"%PDF-1.7\n" + bytes(range(256)) * 4, "Only Excel workbooks (.xlsx) and CSV files"),
    ("list.xlsx", bytes(range(256)) * 20, "Only Excel workbooks (.xlsx) and CSV files"),
    ("list.csv", b"", "The submitted file is empty."),
    ("list.csv", b"   \n", "The file is empty."),
    ("list.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old Excel file (.xls)"),
    ("list.xlsx", b"PK\x03\x04" + b"\x00" * 100, "Only Excel workbooks (.xlsx) and CSV files"),
    ("list.csv", "名字,年龄\n张三,3\n".encode(), "missing: 会议、建议编号、标题、领衔代表、主要内容"),
    ("list.csv", ",".join(HEADINGS).encode(), "column headings but no rows"),
    ("list.xlsx", "会议,建议编号\n".encode(), "does not match its content"),
])
def test_a_file_that_is_not_an_assignment_list_is_refused_with_a_message(client, world, name, data,
                                                                           message):
    response = upload(office_client(client, world), data, name=name)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "commit_form" not in response.context
    assert not Suggestion.objects.exists()


def test_a_damaged_workbook_is_refused_with_a_message(client, world):
    data = xlsx([line(101)])
    damaged = data[: len(data) // 2]  # a zip cut short: the central directory is lost
    response = upload(office_client(client, world), damaged)
    assert response.status_code == 200
    assert "Only Excel workbooks (.xlsx) and CSV files" in response.content.decode()


def test_a_file_over_the_size_limit_is_refused(client, world, settings):
    settings.UPLOAD_MAX_BYTES = 1000
    response = upload(office_client(client, world), xlsx([line(n) for n in range(1, 50)]))
    assert "The file is too large" in response.content.decode()
    assert not Suggestion.objects.exists()


# --- Who may ----------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [URL, "/suggestions/import/template.xlsx"])
def test_only_the_office_may_import(client, world, url):
    assert client.get(url).status_code == 302  # to the login page
    for user in (world.handler, world.su.user):
        client.force_login(user)
        assert client.get(url).status_code == 403
    client.force_login(world.handler)
    assert upload(client, xlsx([line(101)])).status_code == 403
    assert not Suggestion.objects.exists()
    client.force_login(world.admin)
    assert client.get(url).status_code == 200


def test_the_list_offers_the_import_to_the_office_only(client, world):
    client.force_login(world.office)
    assert URL in client.get("/suggestions/").content.decode()
    client.force_login(world.handler)
    assert URL not in client.get("/suggestions/").content.decode()


def test_template_opens_with_openpyxl_and_has_the_headings(client, world):
    response = office_client(client, world).get("/suggestions/import/template.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADINGS
    assert len(rows) == 2 and rows[1][0] == SESSION  # one example row
    # The template itself reads back: its example names people and units of its own.
    plan = importing.plan(response.content, "template.xlsx")
    assert [row.number for row in plan.rows] == [1]


# --- Dated rows: the same as an assignment by hand, at a fixed cost per row ------------------

def _as_made(suggestion):
    """What an assignment leaves on a suggestion, without its number and id."""
    from notifications.models import Delivery, Notification

    fields = ("status", "lead_unit_id", "assigned_on", "accepted_on", "due_on", "due_rule",
              "due_basis", "due_months", "due_extended", "title", "content", "topic")
    number = str(suggestion.number)
    notifications = Notification.objects.filter(suggestion=suggestion)
    return {
        "fields": {name: getattr(suggestion, name) for name in fields},
        "co_deputies": sorted(d.pk for d in suggestion.co_deputies.all()),
        "co_handlings": sorted(suggestion.co_handlings.values_list(
            "unit_id", "required", "due_on", "due_basis", "due_months")),
        "assign_events": list(suggestion.events.filter(action="assign").values_list(
            "actor_id", "from_status", "to_status", "note", "internal", "object_label")),
        "register_events": list(suggestion.events.filter(action="register").values_list(
            "actor_id", "from_status", "to_status", "internal", "object_label")),
        "search": set(suggestion.search_document.split()) - {number},
        "notifications": sorted(
            (n.recipient_id, n.kind, n.url.replace(str(suggestion.pk), "#"),
             {k: v for k, v in n.params.items() if k != "ref"}) for n in notifications),
        "deliveries": sorted(Delivery.objects.filter(notification__in=notifications)
                             .values_list("notification__recipient_id", "channel", "address")),
    }


def test_an_imported_row_is_assigned_as_the_assign_move_does(world, settings):
    """The import's batched writes (search documents, notifications) leave what one
    assignment through the rule engine leaves: the same fields, events, co-handling,
    search document, notifications and deliveries."""
    from core import rules

    settings.SMS_BACKEND = "notifications.sms.ConsoleBackend"
    world.handler.email = "staff@example.org"
    world.handler.save()
    co_staff = get_user_model().objects.create_user("agri", email="agri@example.org")
    StaffMember.objects.create(user=co_staff, role="handler", display_name="农业", unit=world.nync,
                               phone="13800000000")
    title, content = "关于农机补贴的建议", "建议加大农机购置补贴力度。"
    importing.commit(csv_file([line(101, 标题=title, 主要内容=content, 附议代表="李娜",
                                    主办单位="工信局", 协办单位="市农业农村局",
                                    交办日期="2022-03-25")]), "list.csv", user=world.office)

    by_hand = Suggestion.objects.create(
        session=world.session, number=102, title=title, content=f"<p>{content}</p>",
        lead_deputy=world.su, topic="economy")
    by_hand.co_deputies.set([world.li])
    record_event(by_hand, actor=world.office, action="register")
    rules.run(by_hand, "assign", user=world.office, unit=world.gxj, co_units=[world.nync],
              on=datetime.date(2022, 3, 25))

    imported = _as_made(Suggestion.objects.get(number=101))
    assert imported == _as_made(Suggestion.objects.get(number=102))
    assert len(imported["notifications"]) == 2 and imported["co_handlings"]
    assert {"农机", "农村", "李", "娜"} <= imported["search"]  # title, co-unit, co-signer


def _import_queries(world, first: int, count: int) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rows = [line(number, 附议代表="李娜", 主办单位="工信局", 协办单位="市农业农村局",
                 交办日期="2022-03-25") for number in range(first, first + count)]
    with CaptureQueriesContext(connection) as captured:
        importing.commit(csv_file(rows), "list.csv", user=world.office)
    assert Suggestion.objects.filter(number__gte=first, status=Status.ASSIGNED).count() == count
    return len(captured)


def test_a_dated_row_costs_a_fixed_number_of_queries(world):
    """Per assigned row: the move's savepoint and lock, its co-handling insert, its update
    and its event; registering, search documents and notifications are written for all
    rows at once."""
    StaffMember.objects.create(user=get_user_model().objects.create_user("agri"), role="handler",
                               display_name="农业", unit=world.nync)
    _import_queries(world, 1, 1)  # what is looked up once per process
    few, many = _import_queries(world, 101, 5), _import_queries(world, 201, 20)
    assert (many - few) / 15 <= 6, (few, many)


# --- The command ------------------------------------------------------------------------------

def test_command_imports_and_a_second_run_changes_nothing(world, tmp_path):
    path = tmp_path / "list.xlsx"
    path.write_bytes(xlsx([line(101, 主办单位="工信局", 协办单位="市教育局", 交办日期="2022-03-25"),
                           line(102, 附议代表="李娜")]))
    out, _err = run_command(path)
    assert "2 created, 1 assigned, 0 unchanged." in out
    snapshot = list(Suggestion.objects.order_by("pk").values())
    events = Event.objects.count()
    assert Event.objects.get(action="import").actor == world.admin  # the first superuser

    out, _err = run_command(path)
    assert "0 created, 0 assigned, 2 unchanged." in out
    assert list(Suggestion.objects.order_by("pk").values()) == snapshot
    assert Event.objects.count() == events


def test_command_names_each_bad_row_and_writes_nothing(world, tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes(csv_file([line(101), line(102, 主办单位="工信j局", 交办日期="2022-03-25"),
                               line(103, 交办日期="明天", 主办单位="工信局")]))
    with pytest.raises(CommandError, match="2 of 3 rows have problems; nothing was imported"):
        run_command(path)
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_suggestions", str(path), stdout=io.StringIO(), stderr=err)
    assert "Row 3: 主办单位：Unknown handling unit “工信j局”." in err.getvalue()
    assert "Row 4: 交办日期：“明天” is not a date" in err.getvalue()
    assert not Suggestion.objects.exists() and not Event.objects.exists()


def test_command_dry_run_writes_nothing(world, tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes(csv_file([line(101, 主办单位="工信局", 交办日期="2022-03-25")]))
    out, _err = run_command(path, "--dry-run")
    assert "would create 1, assign 1" in out
    assert not Suggestion.objects.exists() and not Event.objects.exists()


def test_command_records_the_named_user_and_refuses_others(world, tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes(csv_file([line(101)]))
    with pytest.raises(CommandError, match="neither congress office nor a superuser"):
        run_command(path, "--as", "staff")
    with pytest.raises(CommandError, match="No user “nobody”"):
        run_command(path, "--as", "nobody")
    run_command(path, "--as", "office")
    assert Event.objects.get(action="register").actor == world.office


def test_command_needs_a_superuser_when_no_user_is_named(world, tmp_path):
    world.admin.delete()
    path = tmp_path / "list.csv"
    path.write_bytes(csv_file([line(101)]))
    with pytest.raises(CommandError, match="no superuser"):
        run_command(path)


def test_command_refuses_a_file_that_is_not_a_spreadsheet(world, tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    with pytest.raises(CommandError, match="Only Excel workbooks"):
        run_command(path)


def test_command_refuses_a_file_over_the_size_limit_or_missing(world, tmp_path, settings):
    settings.UPLOAD_MAX_BYTES = 100
    path = tmp_path / "list.csv"
    path.write_bytes(csv_file([line(n) for n in range(1, 20)]))
    with pytest.raises(CommandError, match="The file is too large"):
        run_command(path)
    with pytest.raises(CommandError, match="Cannot read"):
        run_command(tmp_path / "nowhere.csv")
    assert not Suggestion.objects.exists()
