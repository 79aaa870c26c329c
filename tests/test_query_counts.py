"""Pages cost a fixed number of queries, however many rows they show (no query per row)."""

import datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consultations.models import Consultation
from replies.services import reply_create_draft
from suggestions.models import CoHandling, CongressSession, Deputy, HandlingUnit, Suggestion
from suggestions.workflow import record_event, transition


def add_suggestions(count: int, *, start: int, user) -> None:
    """``count`` more suggestions for 工信局, with co-units and co-deputies, each with a draft."""
    session = CongressSession.objects.get(name="市八届人大一次会议")
    unit = HandlingUnit.objects.get(name="晋城市工业和信息化局")
    co_unit = HandlingUnit.objects.get(name="晋城市教育局")
    lead, co = Deputy.objects.get(name="苏红平"), Deputy.objects.get(name="李秀梅")
    for number in range(start, start + count):
        suggestion = Suggestion.objects.create(
            session=session, number=number, title=f"关于第{number}号事项的建议", lead_deputy=lead,
            topic="economy", content="<p>建议内容。</p>", submitted_on=datetime.date(2026, 9, 20),
        )
        suggestion.co_deputies.set([co])
        transition(suggestion, name="assign", user=user("office"), unit=unit, co_units=[co_unit])
        transition(suggestion, name="accept", user=user("staff"))
        reply_create_draft(suggestion=suggestion, user=user("staff"))


def queries_for(client, url: str) -> int:
    # The navigation's to-do badge is cached briefly; count the page as it costs uncached.
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def test_report_costs_the_same_for_more_suggestions_and_units(demo, login, user):
    client = login("office")
    add_suggestions(3, start=200, user=user)
    few = queries_for(client, "/suggestions/report/")
    add_suggestions(20, start=300, user=user)
    Suggestion.objects.filter(number__gte=310).update(
        lead_unit=HandlingUnit.objects.get(name="晋城市住房和城乡建设局")
    )
    assert queries_for(client, "/suggestions/report/") == few


@pytest.mark.parametrize("username", ["office", "staff", "head", "deputy", "edu_staff"])
@pytest.mark.parametrize("url", ["/suggestions/", "/suggestions/?overdue=1", "/suggestions/?q=建议"])
def test_suggestion_list_costs_the_same_for_5_or_25_rows(demo, login, user, username, url):
    client = login(username)
    add_suggestions(3, start=200, user=user)
    few = queries_for(client, url)
    add_suggestions(20, start=300, user=user)
    many = queries_for(client, url)
    assert many == few, f"{url} as {username}: {few} queries with few rows, {many} with more"


def add_history(suggestion, *, user, round: int) -> None:
    """More of what the detail page lists: co-units, consultations, events (and a reply)."""
    others = HandlingUnit.objects.exclude(pk=suggestion.lead_unit_id).order_by("pk")
    CoHandling.objects.create(suggestion=suggestion, unit=others[round])
    for day in range(1, 4):
        Consultation.objects.create(
            suggestion=suggestion, deputy=suggestion.lead_deputy, held_on=datetime.date(2026, 10, day),
            place="会议室", attendees="延娜", created_by=user("staff"),
        )
        record_event(suggestion, actor=user("staff"), action="consultation", note=f"第{day}次")
    if round == 0:
        reply_create_draft(suggestion=suggestion, user=user("staff"))


@pytest.mark.parametrize("username", ["office", "staff", "head", "deputy"])
def test_suggestion_detail_costs_the_same_with_a_longer_history(demo, login, user, username):
    client = login(username)
    suggestion = Suggestion.objects.get(number=123)
    url = f"/suggestions/{suggestion.pk}/"
    add_history(suggestion, user=user, round=0)  # (a prefetch only runs once it has rows to follow)
    few = queries_for(client, url)
    add_history(suggestion, user=user, round=1)
    many = queries_for(client, url)
    assert many == few, f"{url} as {username}: {few} queries, then {many} with more history"
