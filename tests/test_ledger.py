"""The ledger (台账) downloads: one row per suggestion the list selects, in Excel and CSV."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from replies.models import Evaluation, Reply
from replies.services import reply_create_draft, reply_evaluate, reply_send, reply_sign, reply_submit
from suggestions.models import Deputy, Event, Rating, Suggestion
from suggestions.workflow import DOWNLOAD_ACTIONS, OTHER_ACTIONS

XLSX = "/suggestions/ledger.xlsx"
CSV = "/suggestions/ledger.csv"
SEED_TITLE_START = "关于应加强加速 5G"


def xlsx_rows(response) -> list[tuple]:
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return [tuple(cell for cell in row) for row in book.active.iter_rows()]


def xlsx_values(response) -> list[tuple]:
    return [tuple(cell.value for cell in row) for row in xlsx_rows(response)]


def csv_text(response) -> str:
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode("utf-8")


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(csv_text(response).removeprefix("\ufeff"))))


def numbers(rows) -> list:
    return sorted(row[1] for row in rows[1:])


def by_number(rows) -> dict:
    heading = rows[0]
    return {int(row[1]): dict(zip(heading, row, strict=True)) for row in rows[1:]}


def test_excel_ledger_has_typed_cells_a_frozen_heading_and_sized_columns(demo, login):
    response = login("office").get(XLSX)
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert "attachment" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.active
    assert sheet.freeze_panes == "C2"
    assert sheet.column_dimensions["C"].width == 48  # the title
    rows = [tuple(cell.value for cell in row) for row in sheet.iter_rows()]
    assert rows[0][:4] == ("届次", "建议编号", "标题", "领衔代表")
    assert numbers(rows) == [120, 121, 122, 123, 124]
    seed = by_number(rows)[120]
    assert seed["标题"].startswith(SEED_TITLE_START)
    assert isinstance(seed["建议编号"], int)
    assert seed["提交日期"] == datetime.datetime(2022, 3, 10)
    assert seed["交办日期"] == datetime.datetime(2022, 3, 25)
    assert seed["答复日期"] == datetime.datetime(2022, 6, 21)
    assert isinstance(seed["答复期限"], datetime.datetime)
    assert seed["协办单位"] == "晋城市农业农村局、晋城市教育局"
    assert seed["状态"] == "已测评" and seed["办理结果"] == "A" and seed["重点督办"] == "否"
    # Days taken: assignment (2022-03-25) to the reply (2022-06-21).
    days = rows[0][13]
    assert seed[days] == 88 and isinstance(seed[days], int)
    assert seed[rows[0][17]] == seed[rows[0][18]] == "满意"
    assert seed[rows[0][19]] == "苏红平：满意 / 满意"
    date_cell = next(row[9] for row in sheet.iter_rows(min_row=2) if row[1].value == 120)
    assert date_cell.is_date and date_cell.number_format == "yyyy-mm-dd"
    # Not assigned yet: no dates, no days.
    registered = by_number(rows)[124]
    assert registered["交办日期"] is None and registered[days] is None


def test_csv_ledger_is_utf8_with_a_bom_and_iso_dates(demo, login):
    response = login("office").get(CSV)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    text = csv_text(response)
    assert text.startswith("\ufeff届次,")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert sorted(int(row[1]) for row in rows[1:]) == [120, 121, 122, 123, 124]
    seed = by_number(rows)[120]
    assert datetime.date.fromisoformat(seed["交办日期"]) == datetime.date(2022, 3, 25)
    assert seed["答复日期"] == "2022-06-21" and seed[rows[0][13]] == "88"
    assert seed["协办单位"] == "晋城市农业农村局、晋城市教育局"
    assert by_number(rows)[124]["交办日期"] == ""


def test_days_taken_run_to_today_and_overdue_items_are_marked(demo, login):
    today = timezone.localdate()
    Suggestion.objects.filter(number=123).update(
        assigned_on=today - datetime.timedelta(days=100), due_on=today - datetime.timedelta(days=1),
    )
    rows = xlsx_values(login("office").get(XLSX))
    late = by_number(rows)[123]
    assert late[rows[0][13]] == 100
    assert late["已超期"] == "是" and by_number(rows)[121]["已超期"] == "否"


@pytest.mark.parametrize("title", ['=HYPERLINK("http://x.example","点击")', "+1+2", "-3", "@SUM(A1)",
                                   "\t=1", "\r=1"])
def test_a_cell_that_looks_like_a_formula_stays_text(demo, login, title):
    Suggestion.objects.filter(number=121).update(title=title)
    client = login("office")
    cells = xlsx_rows(client.get(XLSX))
    cell = next(row[2] for row in cells[1:] if row[1].value == 121)
    assert cell.value == title and cell.data_type == "s"
    assert by_number(csv_rows(client.get(CSV)))[121]["标题"] == "'" + title


def test_a_name_with_a_formula_is_text_too(demo, login):
    Deputy.objects.filter(name="王建国").update(name="=1+1")
    client = login("office")
    cell = next(row[3] for row in xlsx_rows(client.get(XLSX))[1:] if row[1].value == 121)
    assert cell.value == "=1+1" and cell.data_type == "s"
    assert by_number(csv_rows(client.get(CSV)))[121]["领衔代表"] == "'=1+1"


def test_control_characters_excel_refuses_are_dropped(demo, login):
    Suggestion.objects.filter(number=121).update(title="加装\x0b电梯\x1f")
    rows = xlsx_values(login("office").get(XLSX))
    assert by_number(rows)[121]["标题"] == "加装电梯"


@pytest.mark.parametrize("username, expected", [
    ("office", [120, 121, 122, 123, 124]),
    ("admin", [120, 121, 122, 123, 124]),
    ("staff", [120, 123]),            # 工信局 leads both
    ("agri_staff", [120]),            # co-handles No. 120 only
    ("other_staff", [121]),
    ("deputy", [120, 122, 123]),      # leads 120 and 123, co-signed 122
    ("other_deputy", [121]),
])
def test_each_ledger_holds_only_what_its_reader_may_see(demo, login, username, expected):
    client = login(username)
    assert numbers(xlsx_values(client.get(XLSX))) == expected
    assert sorted(int(n) for n in numbers(csv_rows(client.get(CSV)))) == expected


def test_the_ledger_follows_the_list_filters(demo, login):
    client = login("office")
    assert numbers(xlsx_values(client.get(XLSX, {"status": "handling"}))) == [121, 123]
    assert [int(n) for n in numbers(csv_rows(client.get(CSV, {"result": "A"})))] == [120]
    # A unit's own filter cannot widen its scope.
    other = login("other_staff")
    assert numbers(xlsx_values(other.get(XLSX, {"status": "handling"}))) == [121]


def test_each_download_is_in_the_audit_log(demo, login, user):
    client = login("staff")
    client.get(XLSX, {"status": "handling"})
    b"".join(client.get(CSV).streaming_content)
    events = Event.objects.filter(action="ledger_export").order_by("pk")
    assert [(e.actor, e.internal, e.object_label, e.note) for e in events] == [
        (user("staff"), True, "status=handling", "xlsx"), (user("staff"), True, "", "csv"),
    ]
    assert events[0].action_label == str(OTHER_ACTIONS["ledger_export"])  # labelled, not "Other"

    assert "ledger_export" in OTHER_ACTIONS and "ledger_export" in DOWNLOAD_ACTIONS


def test_ratings_are_those_of_the_latest_rated_reply_per_deputy(demo, login, user):
    seed = Suggestion.objects.get(number=120)
    li = Deputy.objects.get(name="李秀梅")
    seed.co_deputies.add(li)
    first = Reply.objects.get(suggestion=seed)
    Evaluation.objects.filter(reply=first).delete()
    Suggestion.objects.filter(pk=seed.pk).update(status="replied")
    reply_evaluate(reply=first, user=user("office"), deputy=seed.lead_deputy,
                   attitude=Rating.SATISFIED, result=Rating.UNSATISFIED,
                   source=Evaluation.Source.PAPER)
    second = reply_create_draft(suggestion=seed, user=user("staff"))
    Reply.objects.filter(pk=second.pk).update(category="B", doc_number="")
    reply_submit(reply=second, user=user("staff"))
    reply_sign(reply=second, user=user("head"))
    reply_send(reply=second, user=user("staff"))
    rows = xlsx_values(login("office").get(XLSX))
    heading = rows[0]
    # The second letter is not rated yet: the ratings are still those of the first.
    assert by_number(rows)[120][heading[18]] == "不满意"
    Evaluation.objects.create(reply=second, deputy=li, attitude=Rating.BASICALLY,
                              result=Rating.SATISFIED)
    Evaluation.objects.create(reply=second, deputy=seed.lead_deputy, attitude=Rating.SATISFIED,
                              result=Rating.BASICALLY)
    rows = xlsx_values(login("office").get(XLSX))
    seed_row = by_number(rows)[120]
    assert (seed_row[heading[17]], seed_row[heading[18]]) == ("满意", "基本满意")
    assert seed_row[heading[19]] == "苏红平：满意 / 基本满意；李秀梅：基本满意 / 满意"
    assert seed_row["附议代表"] == "李秀梅" and seed_row["办理结果"] == "B"


def test_queries_do_not_grow_with_the_rows(demo, login, user):
    from tests.test_query_counts import add_suggestions

    client = login("office")

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
            b"".join(response.streaming_content)
        return len(captured)

    few = queries(XLSX), queries(CSV)
    add_suggestions(20, start=300, user=user)
    assert (queries(XLSX), queries(CSV)) == few


def test_rows_are_read_in_chunks(demo, login, user, monkeypatch):
    """More rows than a chunk: every row is there, in the list's order, each with its parts."""
    from suggestions import ledger
    from tests.test_query_counts import add_suggestions

    add_suggestions(5, start=300, user=user)
    monkeypatch.setattr(ledger, "CHUNK", 3)
    rows = csv_rows(login("office").get(CSV))
    assert [int(row[1]) for row in rows[1:]] == [120, 121, 122, 123, 124, 300, 301, 302, 303, 304]
    assert all(row[4] == "李秀梅" and row[7] == "晋城市教育局" for row in rows[6:])


def test_every_reader_of_the_list_finds_the_links(demo, login):
    for username in ("office", "staff", "deputy"):
        html = login(username).get("/suggestions/", {"status": "handling"}).content.decode()
        assert "/suggestions/ledger.xlsx?status=handling" in html
        assert "/suggestions/ledger.csv?status=handling" in html


def test_a_user_without_a_role_gets_no_ledger(demo, client, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody", password="x"))
    assert client.get(XLSX).status_code == 403
    assert client.get(CSV).status_code == 403
    assert not Event.objects.filter(action="ledger_export").exists()


def test_anonymous_users_are_sent_to_log_in(demo, client):
    response = client.get(XLSX)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_bench_ledger_reports_its_figures(demo, kind):
    from django.core.management import call_command

    out = io.StringIO()
    call_command("bench_ledger", "--format", kind, stdout=out)
    figures = dict(line.split(": ", 1) for line in out.getvalue().splitlines())
    assert figures[f"ledger_{kind}_rows"] == "5"
    assert int(figures[f"ledger_{kind}_bytes"]) > 0 and float(figures[f"ledger_{kind}_peak_rss_mib"]) > 0
