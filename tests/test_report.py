"""The office's figures by unit: the definitions, the page, the Excel file, and who may see them."""

import datetime
import io

import pytest
from django.conf import settings
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
    # No. 120 alone: its lead unit, and its two co-handling units.
    assert [(row["unit"], row["assigned"], row["co_handled"]) for row in rows] == [
        (GXJ, 1, 0), ("晋城市农业农村局", 0, 1), ("晋城市教育局", 0, 1)
    ]


def test_excel_download_has_numbers_and_percentages_and_is_logged(demo, login, user):
    response = login("office").get("/suggestions/report/", {"format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert "建议办理情况" in sheet["A1"].value
    headings = [cell.value for cell in sheet[3]]
    assert headings[1:5] == ["承办单位", "已交办", "已答复", "办复率"]
    by_unit = {row[1].value: row for row in sheet.iter_rows(min_row=4) if row[1].value}
    gxj = by_unit[GXJ]
    assert gxj[2].value == 2 and gxj[4].value == pytest.approx(0.5)
    assert gxj[4].number_format == "0%"
    assert by_unit["合计"][2].value == 4
    categories = len(settings.HANDLING_CATEGORIES)
    assert headings[-4 - categories:-4] == ["A类", "B类", "C类", "D类"]
    assert gxj[-4 - categories].value == 1
    # Co-handling, in its own columns: 农业农村局 and 教育局 co-handle No. 120 and sent their
    # opinions on time; 农业农村局 leads nothing.
    co = slice(len(headings) - 4, len(headings))
    assert [cell.value for cell in by_unit["晋城市农业农村局"][co]] == [1, 1, 1, 0]
    assert [cell.value for cell in by_unit["晋城市农业农村局"][2:4]] == [0, 0]
    assert [cell.value for cell in by_unit["合计"][co]] == [2, 2, 2, 0]
    assert Event.objects.filter(action="report_export", actor=user("office")).exists()


def test_a_unit_name_is_never_a_formula_in_excel(demo, login):
    HandlingUnit.objects.filter(name=GXJ).update(name='=HYPERLINK("http://x.example","点击")')
    response = login("office").get("/suggestions/report/", {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    (cell,) = [row[1] for row in sheet.iter_rows(min_row=4) if row[1].value
               and row[1].value.startswith("=")]
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
    assert [(row["unit"], row["assigned"], dict(row["categories"])["B"]) for row in rows
            if row["assigned"]] == [(GXJ, 1, 1)]


# --- Co-handling and the ranking, on a data set built for them ---------------------------------

REPLIED_STATUSES = {"replied", "evaluated", "closed"}
AWAITING = {"assigned", "return_requested", "handling", "rehandling"}


def local(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


@pytest.fixture
def world(db, django_user_model, settings):
    """60 suggestions over 6 lead units, and co-handlings by those and a 7th unit that only
    co-handles: every status, rating and result, opinions early, late, missing and waived,
    some submitted late in the evening of their due day (a UTC date would call them late)."""
    import random

    from suggestions.models import CoHandling, CongressSession, Deputy

    settings.REPORT_MIN_ITEMS = 6
    today = timezone.localdate()
    rnd = random.Random(20261125)
    session = CongressSession.objects.create(name="测试会议", term=1, meeting=1, year=2026)
    deputy = Deputy.objects.create(name="代表甲")
    units = [HandlingUnit.objects.create(name=f"测试单位{index}") for index in range(7)]
    statuses = ["assigned", "handling", "rehandling", "replied", "evaluated", "closed"]
    for number in range(1, 61):
        lead = rnd.choice(units[:6] + [None])
        status = "registered" if lead is None else rnd.choice(statuses)
        replied = status in REPLIED_STATUSES
        suggestion = Suggestion.objects.create(
            session=session, number=number, title=f"建议{number}", content="<p>内容</p>",
            lead_deputy=deputy, lead_unit=lead, status=status,
            due_on=None if lead is None else today + datetime.timedelta(days=rnd.randint(-40, 40)),
            replied_on_time=replied and rnd.random() < 0.6, met=rnd.random() < 0.5,
            rating=rnd.choice(["", "satisfied", "basically", "unsatisfied"]) if replied else "",
            handling_result=rnd.choice("ABCD") if replied else "",
            co_opinions_waived=rnd.random() < 0.15,
        )
        if lead is None:
            continue
        for co_unit in rnd.sample([unit for unit in units if unit != lead], rnd.randint(0, 2)):
            due = today + datetime.timedelta(days=rnd.randint(-20, 20))
            submitted = rnd.choice([
                None, None, local(due, 23, 30), local(due + datetime.timedelta(days=1), 0, 30),
                local(due - datetime.timedelta(days=rnd.randint(1, 9)), 10),
                local(due + datetime.timedelta(days=rnd.randint(2, 9)), 10),
            ])
            CoHandling.objects.create(
                suggestion=suggestion, unit=co_unit, due_on=due, submitted_at=submitted,
                required=rnd.random() < 0.85, opinion="意见" if submitted else "",
            )
    django_user_model.objects.create_superuser("boss", password="x")
    return units


def recompute(today: datetime.date, minimum: int) -> dict[str, dict]:
    """The report's figures, counted one row at a time in Python from the same rows."""
    from collections import Counter

    from suggestions.models import CoHandling

    figures: dict[str, Counter] = {}
    for s in Suggestion.objects.select_related("lead_unit"):
        if s.lead_unit is None:
            continue
        row = figures.setdefault(s.lead_unit.name, Counter())
        row["assigned"] += s.status != "registered"
        row["replied"] += s.status in REPLIED_STATUSES
        row["on_time"] += s.replied_on_time
        row["met"] += s.met
        row["rated"] += s.rating != ""
        row[s.rating or "unrated"] += 1
        row["overdue"] += s.status in AWAITING and s.due_on < today
    for co in CoHandling.objects.select_related("unit", "suggestion"):
        row = figures.setdefault(co.unit.name, Counter())
        row["co_handled"] += 1
        if co.submitted_at is not None:
            row["co_submitted"] += 1
            row["co_on_time"] += timezone.localtime(co.submitted_at).date() <= co.due_on
        else:
            row["co_overdue"] += (co.required and not co.suggestion.co_opinions_waived
                                  and co.suggestion.status in AWAITING and co.due_on < today)

    def rate(part, whole):
        return part / whole if whole else 0.0

    def key(row):
        return (rate(row["on_time"], row["assigned"]),
                rate(row["satisfied"] + row["basically"], row["rated"]),
                rate(row["replied"], row["assigned"]))

    eligible = [name for name, row in figures.items() if row["assigned"] >= minimum]
    for name, row in figures.items():
        # Competition ranking: one more than the number of eligible units strictly better.
        row["rank"] = (1 + sum(key(figures[other]) > key(row) for other in eligible)
                       if name in eligible else None)
    return figures


KEYS = ("rank", "assigned", "replied", "on_time", "met", "rated", "satisfied", "basically",
        "unsatisfied", "overdue", "co_handled", "co_submitted", "co_on_time", "co_overdue")


def test_report_counts_co_handling_and_ranks_only_units_with_enough_items(world, client,
                                                                         django_user_model):
    client.force_login(django_user_model.objects.get(username="boss"))
    response = client.get("/suggestions/report/")
    rows, total = response.context["rows"], response.context["total"]
    expected = recompute(timezone.localdate(), minimum=6)
    assert {row["unit"]: tuple(row[key] for key in KEYS) for row in rows} == {
        name: tuple(figures[key] for key in KEYS) for name, figures in expected.items()
    }
    # The data set exercises what it is meant to: ranked and unranked units, a unit that only
    # co-handles, opinions on time, late and overdue.
    assert {row["rank"] is None for row in rows} == {True, False}
    assert any(row["assigned"] == 0 and row["co_handled"] for row in rows)
    assert all(total[key] for key in ("co_submitted", "co_on_time", "co_overdue"))
    assert total["co_submitted"] > total["co_on_time"]
    # Ranked units first, best first; then the others.
    ranks = [row["rank"] for row in rows]
    ranked = [rank for rank in ranks if rank is not None]
    assert ranks[:len(ranked)] == ranked == sorted(ranked)
    for key in ("co_handled", "co_submitted", "co_on_time", "co_overdue"):
        assert total[key] == sum(row[key] for row in rows)
    html = response.content.decode()
    assert html.index("测试单位") < html.index('class="unranked-note"')
    assert "6" in html[html.index('class="unranked-note"'):][:300]


def test_a_unit_below_the_minimum_is_not_ranked_however_good(world, client, settings):
    from suggestions.report import table

    best = world[0]
    Suggestion.objects.filter(lead_unit=best).update(status="replied", replied_on_time=True,
                                                     rating="satisfied")
    settings.REPORT_MIN_ITEMS = Suggestion.objects.filter(lead_unit=best).count() + 1
    rows, _total = table(Suggestion.objects.all())
    assert next(row for row in rows if row["unit"] == best.name)["rank"] is None
    settings.REPORT_MIN_ITEMS = 1
    rows, _total = table(Suggestion.objects.all())
    assert rows[0]["unit"] == best.name and rows[0]["rank"] == 1


def test_equal_rates_share_a_rank(db, settings):
    from suggestions.models import CongressSession, Deputy
    from suggestions.report import table

    settings.REPORT_MIN_ITEMS = 1
    session = CongressSession.objects.create(name="测试会议", term=1, meeting=1, year=2026)
    deputy = Deputy.objects.create(name="代表甲")
    for number, (name, on_time) in enumerate([("甲", True), ("乙", True), ("丙", False)], 1):
        Suggestion.objects.create(
            session=session, number=number, title="建议", content="<p>内容</p>", lead_deputy=deputy,
            lead_unit=HandlingUnit.objects.create(name=name), status="replied",
            replied_on_time=on_time,
        )
    rows, _total = table(Suggestion.objects.all())
    assert [(row["unit"], row["rank"]) for row in rows] == [("乙", 1), ("甲", 1), ("丙", 3)]


def test_the_report_costs_two_queries_however_many_rows(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from suggestions.report import table

    def queries() -> int:
        """Queries of the figures (the working calendar's read for the due-soon window, one
        per calendar year it spans, aside)."""
        with CaptureQueriesContext(connection) as captured:
            table(Suggestion.objects.all())
        return len([q for q in captured if "core_calendarday" not in q["sql"]])

    few = queries()
    session = Suggestion.objects.first().session
    deputy = Suggestion.objects.first().lead_deputy
    for number in range(100, 140):
        Suggestion.objects.create(
            session=session, number=number, title="建议", content="<p>内容</p>",
            lead_deputy=deputy, status="handling",
            lead_unit=HandlingUnit.objects.create(name=f"新单位{number}"),
        )
    assert few == queries() == 2


# --- A read replica ---------------------------------------------------------------------------

REPLICA_PROGRAM = """
import datetime, json
import django
django.setup()
from django.core.management import call_command
from suggestions import ledger, report
from suggestions.models import CongressSession, Deputy, HandlingUnit, Suggestion

for alias in ("default", "replica"):
    call_command("migrate", database=alias, verbosity=0)
# Rows only on the replica (as if the primary had lost them): what the reads find says where
# they read.
session = CongressSession.objects.using("replica").create(name="S", term=1, meeting=1, year=2026)
deputy = Deputy.objects.using("replica").create(name="D")
unit = HandlingUnit.objects.using("replica").create(name="ReplicaUnit")
Suggestion.objects.using("replica").bulk_create([Suggestion(
    session=session, number=1, title="T", content="c", lead_deputy=deputy, lead_unit=unit,
    status="handling", assigned_on=datetime.date(2026, 1, 1))])
rows, total = report.table(Suggestion.objects.all())
print(json.dumps({
    "alias": report.reading_database(),
    "report": [(row["unit"], row["assigned"]) for row in rows],
    "ledger": [row[6] for row in ledger.rows(Suggestion.objects.all())],
    "primary": Suggestion.objects.count(),
}))
"""


def test_with_a_replica_the_report_and_the_ledger_read_from_it(tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    environment = {key: value for key, value in os.environ.items()
                   if key not in ("DATABASE_URL", "DATABASE_REPLICA_URL")}
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings", TESTING="1", DEBUG="0",
        DATABASE_URL=f"sqlite:///{tmp_path / 'primary.sqlite3'}",
        DATABASE_REPLICA_URL=f"sqlite:///{tmp_path / 'replica.sqlite3'}",
    )
    done = subprocess.run([sys.executable, "-c", REPLICA_PROGRAM], env=environment, text=True,
                          cwd=Path(__file__).resolve().parent.parent, capture_output=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "alias": "replica", "report": [["ReplicaUnit", 1]], "ledger": ["ReplicaUnit"],
        "primary": 0,
    }
