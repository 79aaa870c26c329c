"""The office's figures by unit: the definitions, the page, the Excel file, and who may see them."""

import datetime
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from replies.models import Evaluation, Reply
from replies.services import (
    reply_create_draft,
    reply_evaluate,
    reply_send,
    reply_sign,
    reply_submit,
)
from suggestions.models import Event, HandlingUnit, Rating, Suggestion

GXJ = "晋城市工业和信息化局"


def row_for(rows, unit):
    return next(row for row in rows if row["unit"] == unit)


def test_demo_figures_by_unit(demo, login):
    response = login("office").get("/suggestions/report/")
    assert response.status_code == 200
    rows, total = response.context["rows"], response.context["total"]
    # 工信局 leads No. 120 (replied on time, met, rated 满意, A类) and No. 123 (in handling).
    gxj = row_for(rows, GXJ)
    assert (gxj["assigned"], gxj["replied"], gxj["on_time"], gxj["met"]) == (2, 1, 1, 1)
    assert (gxj["replied_rate"], gxj["on_time_rate"], gxj["met_rate"]) == ("50%", "50%", "50%")
    assert (gxj["rated"], gxj["satisfied"], gxj["basically"], gxj["unsatisfied"]) == (1, 1, 0, 0)
    assert gxj["fully_satisfied_rate"] == gxj["satisfied_rate"] == "100%"
    assert dict(gxj["categories"]) == {"A": 1, "B": 0, "C": 0, "D": 0}
    # No. 124 is not assigned: counted in no unit's row, and not in the rates' base.
    assert sum(row["assigned"] for row in rows) == total["assigned"] == 4
    assert total["total"] == 5 and total["replied_rate"] == "25%"
    assert total["rated"] == 1 and total["satisfied_rate"] == "100%"
    html = response.content.decode()
    assert "满意率（含基本满意）" in html and "A类" in html and "按时办复率" in html


def rerate(reply, deputy, result, user):
    """A new rating of the seed letter, through the workflow (which keeps the figures)."""
    Evaluation.objects.filter(reply=reply, deputy=deputy).delete()
    Suggestion.objects.filter(pk=reply.suggestion_id).update(status="replied")
    reply_evaluate(reply=reply, user=user, deputy=deputy, attitude=Rating.SATISFIED, result=result,
                   source=Evaluation.Source.PAPER)


def test_basically_satisfied_counts_in_one_rate_and_not_the_other(demo, login, user):
    reply = Reply.objects.get(suggestion__number=120)
    rerate(reply, demo.lead_deputy, Rating.BASICALLY, user("office"))
    gxj = row_for(login("office").get("/suggestions/report/").context["rows"], GXJ)
    assert (gxj["satisfied"], gxj["basically"]) == (0, 1)
    assert gxj["fully_satisfied_rate"] == "0%" and gxj["satisfied_rate"] == "100%"


def test_a_reply_sent_after_the_due_date_is_replied_but_not_on_time(demo, login, user):
    suggestion = Suggestion.objects.get(number=123)
    reply = reply_create_draft(suggestion=suggestion, user=user("staff"))
    Reply.objects.filter(pk=reply.pk).update(body=reply.body + "\n一、情况\n已办理。")
    reply_submit(reply=reply, user=user("staff"))
    reply_sign(reply=reply, user=user("head"))
    late = timezone.make_aware(datetime.datetime.combine(suggestion.due_on, datetime.time(12))
                               + datetime.timedelta(days=1))
    reply_send(reply=reply, user=user("staff"), at=late)
    gxj = row_for(login("office").get("/suggestions/report/").context["rows"], GXJ)
    assert (gxj["replied"], gxj["on_time"]) == (2, 1)


def test_list_summary_uses_the_same_definitions(demo, login):
    client = login("office")
    summary = client.get("/suggestions/").context["figures"]
    total = client.get("/suggestions/report/").context["total"]
    for key in ("assigned", "replied_rate", "met_rate", "satisfied_rate", "overdue", "due_soon"):
        assert summary[key] == total[key]


def test_filters_narrow_the_report(demo, login):
    session = Suggestion.objects.get(number=120).session
    client = login("office")
    rows = client.get("/suggestions/report/", {"session": session.pk, "status": "evaluated"}).context["rows"]
    assert [(row["unit"], row["assigned"]) for row in rows] == [(GXJ, 1)]


def test_excel_download_has_numbers_and_percentages_and_is_logged(demo, login, user):
    response = login("office").get("/suggestions/report/", {"format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert "建议办理情况" in sheet["A1"].value
    headings = [cell.value for cell in sheet[2]]
    assert headings[:4] == ["主办单位", "已交办", "已答复", "办复率"]
    by_unit = {row[0].value: row for row in sheet.iter_rows(min_row=3)}
    gxj = by_unit[GXJ]
    assert gxj[1].value == 2 and gxj[3].value == pytest.approx(0.5)
    assert gxj[3].number_format == "0%"
    assert by_unit["合计"][1].value == 4
    assert headings[-4:] == ["A类", "B类", "C类", "D类"] and gxj[-4].value == 1
    assert Event.objects.filter(action="report_export", actor=user("office")).exists()


def test_a_unit_name_is_never_a_formula_in_excel(demo, login):
    HandlingUnit.objects.filter(name=GXJ).update(name='=HYPERLINK("http://x.example","点击")')
    response = login("office").get("/suggestions/report/", {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    cell = sheet["A3"]
    assert cell.value == '=HYPERLINK("http://x.example","点击")' and cell.data_type == "s"


@pytest.mark.parametrize("username", ["staff", "head", "deputy", "agri_staff"])
def test_only_the_office_sees_the_report(demo, login, username):
    client = login(username)
    assert client.get("/suggestions/report/").status_code == 403
    assert client.get("/suggestions/report/", {"format": "xlsx"}).status_code == 403


def test_office_finds_suggestions_by_handling_result(demo, login, user):
    client = login("office")
    listed = client.get("/suggestions/", {"result": "A"}).context["page"]
    assert [s.number for s in listed] == [120]
    assert list(client.get("/suggestions/", {"result": "B"}).context["page"]) == []
    # A second reply after re-handling, category B: the result follows the latest reply sent.
    reply = Reply.objects.get(suggestion__number=120)
    rerate(reply, reply.suggestion.lead_deputy, Rating.UNSATISFIED, user("office"))
    second = reply_create_draft(suggestion=reply.suggestion, user=user("staff"))
    Reply.objects.filter(pk=second.pk).update(category="B", doc_number="")
    reply_submit(reply=second, user=user("staff"))
    reply_sign(reply=second, user=user("head"))
    reply_send(reply=second, user=user("staff"))
    listed = client.get("/suggestions/", {"result": "B"}).context["page"]
    assert [s.number for s in listed] == [120]
    rows = client.get("/suggestions/report/", {"result": "B"}).context["rows"]
    assert [(row["unit"], row["assigned"], dict(row["categories"])["B"]) for row in rows] == [
        (GXJ, 1, 1)
    ]
