"""Volume data (seed_volume), the list's cached totals, visible_to's indexed form and the web
statement timeout. No timings here: `make bench-scale` measures those."""

import datetime

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Q

from consultations.models import Consultation
from replies.models import Evaluation, Reply, ReplyStatus
from suggestions.models import CongressSession, Deputy, Status, Suggestion
from suggestions.workflow import deciding_rating, transition


def test_seed_volume_refuses_outside_development_and_tests(db, settings):
    settings.DEBUG, settings.TESTING = False, False
    with pytest.raises(CommandError, match="production"):
        call_command("seed_volume", suggestions=5)
    assert not Suggestion.objects.exists()


def test_seed_volume_writes_marked_data_whose_figures_match_the_records(db):
    call_command("seed_volume", suggestions=120, stdout=open("/dev/null", "w"))
    volume = Suggestion.objects.filter(session__name__startswith="【压测】")
    assert volume.count() == Suggestion.objects.count() == 120
    assert set(volume.values_list("status", flat=True)) == set(Status.values)
    assert CongressSession.objects.filter(name__startswith="【压测】").count() == 5
    assert Deputy.objects.filter(name__startswith="压测代表").count() == 500
    assert Suggestion.co_deputies.through.objects.exists()
    assert Evaluation.objects.exists() and Consultation.objects.exists()
    sent = Reply.objects.filter(status=ReplyStatus.SENT)
    assert sent.exists() and all("建字〔" in number for number in sent.values_list("doc_number", flat=True))
    # The columns the moves keep, as the workflow would have left them.
    for suggestion in volume.annotate(sent=Count("replies", filter=Q(replies__status="sent"))):
        replies = list(suggestion.replies.filter(status=ReplyStatus.SENT).order_by("version"))
        latest = replies[-1] if replies else None
        assert suggestion.handling_result == (latest.category if latest else ""), suggestion.pk
        assert suggestion.met == suggestion.consultations.filter(method="face").exists()
        rated = (Evaluation.objects.filter(reply__suggestion=suggestion)
                 .order_by("-reply__version").values_list("reply__version", flat=True).first())
        ratings = list(Evaluation.objects.filter(reply__suggestion=suggestion, reply__version=rated)
                       .values_list("deputy_id", "result"))
        assert suggestion.rating == (deciding_rating(ratings, suggestion.lead_deputy_id) if rated else "")
        if suggestion.status in (Status.REPLIED, Status.EVALUATED, Status.CLOSED):
            assert latest is not None and suggestion.replied_on is not None
        if suggestion.status in (Status.REGISTERED, Status.ASSIGNED, Status.HANDLING):
            assert latest is None and suggestion.replied_on is None
        if suggestion.status == Status.REGISTERED:
            assert suggestion.lead_unit_id is None
    for reply in sent.select_related("suggestion__session")[:20]:
        assert reply.compute_hash() == reply.content_hash  # the letters verify
    with pytest.raises(CommandError, match="--reset"):
        call_command("seed_volume", suggestions=10)
    call_command("seed_volume", suggestions=10, reset=True, stdout=open("/dev/null", "w"))
    assert Suggestion.objects.count() == 10


def test_visible_to_is_an_indexed_union_not_an_or(demo, user):
    for username in ("staff", "deputy"):
        sql = str(Suggestion.objects.visible_to(user(username)).query).upper()
        assert "UNION" in sql and " OR " not in sql and "EXISTS" not in sql


def test_the_list_figures_follow_every_move(demo, login, user):
    client = login("office")
    before = client.get("/suggestions/").context["figures"]
    again = client.get("/suggestions/").context
    assert again["figures"] == before and again["page"].paginator.count == 5
    suggestion = Suggestion.objects.get(number=124)
    transition(suggestion, name="assign", user=user("office"),
               unit=Suggestion.objects.get(number=120).lead_unit, on=datetime.date(2026, 9, 25))
    after = client.get("/suggestions/").context["figures"]
    assert after["assigned"] == before["assigned"] + 1


def test_a_page_of_a_units_list_is_in_the_lists_order(demo, login):
    page = login("staff").get("/suggestions/").context["page"]
    keys = [(-s.session_id, s.number) for s in page]
    assert keys == sorted(keys) and len(keys) == page.paginator.count


@pytest.mark.parametrize(("argv", "command"), [
    (["manage.py", "migrate"], True),
    (["/srv/app/manage.py", "seed_volume", "--suggestions", "10"], True),
    (["/venv/lib/python3.11/site-packages/django/__main__.py", "db_worker"], True),
    (["manage.py", "runserver"], False),
    (["/venv/bin/gunicorn", "config.wsgi"], False),
    (["/venv/lib/python3.11/site-packages/gunicorn/__main__.py"], False),
])
def test_only_web_processes_get_the_statement_timeout(monkeypatch, argv, command):
    from config import settings as project_settings

    monkeypatch.setattr("sys.argv", argv)
    assert project_settings._running_command() is command
