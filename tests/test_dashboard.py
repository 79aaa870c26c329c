"""The office's dashboard and a unit's own view: the report's figures, drawn."""

import pytest
from django.core.cache import cache

from suggestions import report
from suggestions.models import Suggestion


def test_the_dashboard_shows_the_reports_figures(demo, login):
    response = login("office").get("/dashboard/")
    assert response.status_code == 200
    expected = report.totals(Suggestion.objects.all())
    total = response.context["total"]
    for key in ("assigned", "replied_rate", "on_time_rate", "satisfied_rate", "fully_satisfied_rate",
                "met_rate", "overdue"):
        assert total[key] == expected[key], key
    html = response.content.decode()
    assert "<svg" in html and "<script" not in html.split("</head>")[1]
    # Each status bar links to the list that makes it.
    status_chart = response.context["charts"][0]
    assert [bar.text for bar in status_chart.bars if bar.href == "status=evaluated"] == ["1"]
    assert 'href="/suggestions/?status=evaluated"' in html
    # Handling results link to the list by result.
    assert 'href="/suggestions/?result=A"' in html


def test_rates_show_numerator_and_denominator(demo, login):
    rates = login("office").get("/dashboard/").context["charts"][1]
    reply = next(bar for bar in rates.bars if bar.label == "办复率")
    assert reply.text == "25%（1/4）" and reply.value == pytest.approx(0.25)


def test_a_trend_per_session(demo, login):
    trends = login("office").get("/dashboard/").context["trends"]
    assert [bar.label for bar in trends[0].bars] == ["市八届人大一次会议"]


def test_units_are_ranked_only_above_the_minimum(demo, login, settings):
    settings.REPORT_MIN_ITEMS = 2
    ranking = login("office").get("/dashboard/").context["rankings"][0]
    assert [row["unit"] for row in ranking["ranked"]] == ["晋城市工业和信息化局"]
    assert "晋城市住房和城乡建设局" in [row["unit"] for row in ranking["others"]]


def test_a_unit_sees_its_own_work_only(demo, login):
    response = login("staff").get("/dashboard/")
    assert response.status_code == 200
    assert response.context["unit"].name == "晋城市工业和信息化局"
    assert response.context["total"]["assigned"] == 2  # No. 120 and No. 123
    assert response.context["rankings"] == []


def test_deputies_have_no_dashboard(demo, login):
    assert login("deputy").get("/dashboard/").status_code == 403


def test_the_dashboard_costs_the_same_for_more_suggestions(demo, login, user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from suggestions.models import CongressSession, Deputy

    client = login("office")

    def queries() -> int:
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/dashboard/").status_code == 200
        return len(captured)

    few = queries()
    session = CongressSession.objects.get()
    for number in range(300, 320):
        Suggestion.objects.create(session=session, number=number, title="关于测试的建议",
                                  content="<p>内容</p>", lead_deputy=Deputy.objects.first())
    assert queries() == few
    # More sessions in the trend: still the same queries (one per figure, not per session).
    for year in (2023, 2024):
        later = CongressSession.objects.create(name=f"市八届人大{year - 2020}次会议", term=8,
                                               meeting=year - 2020, year=year)
        Suggestion.objects.create(session=later, number=1, title="关于测试的建议",
                                  content="<p>内容</p>", lead_deputy=Deputy.objects.first())
    assert queries() == few
