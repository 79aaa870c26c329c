"""``rules.actionable(queryset, user, names)`` — what to-do lists are built on — agrees with
``rules.available_moves`` for every role, on a small data set where every move has an object.
"""

import datetime

import pytest
from test_rules_world import (
    assigned,
    deputy_login,
    draft,
    handling,
    no_role_user,
    pending,
    record,
    sent,
    signed,
    user,
)

from consultations.models import Consultation
from core import rules
from replies.models import Reply
from suggestions.models import Suggestion

USERNAMES = ["admin", "office", "staff", "head", "agri_staff", "edu_staff", "other_staff",
             "other_head", "deputy", "other_deputy"]


@pytest.fixture
def world(demo):
    from core import rules as engine

    returned = assigned()
    engine.run(returned, "request_return", user=user("staff"), note="不属于本单位")
    objects = {
        "assigned": assigned(),
        "awaiting_opinion": handling(opinions_in=False),
        "returned": returned,
        "replied": sent(handling(co_deputies=["李秀梅"])).suggestion,
        "theirs_draft": draft(handling(lead_unit="zjj", co_units=(), lead="王建国")),
        "pending": pending(),
        "signed": signed(),
        "record": record(),
        "paper_record": record(signature="paper"),
        "extension_requested": handling(lead_unit="zjj", co_units=(), lead="王建国"),
    }
    engine.run(objects["extension_requested"], "request_extension", user=user("other_staff"),
               new_due=objects["extension_requested"].due_on + datetime.timedelta(days=30),
               reason="情况复杂")
    return objects


def actors():
    people = {name: user(name) for name in USERNAMES}
    people["li"] = deputy_login("李秀梅")
    people["nobody"] = no_role_user()
    people["anonymous"] = user("anonymous")
    return people


@pytest.mark.parametrize("model", [Suggestion, Reply, Consultation], ids=lambda m: m.__name__)
def test_actionable_agrees_with_available_moves(world, model):
    mach = rules.machine(model)
    queryset = model.objects.all()
    objects = list(queryset)
    selections = [None] + [[name] for name in mach.moves] + [sorted(mach.moves)]
    for who, actor in actors().items():
        moves_by_pk = {obj.pk: set(rules.available_moves(obj, actor)) for obj in objects}
        for names in selections:
            wanted = set(names) if names is not None else {
                name for name, move in mach.moves.items() if move.is_offered}
            expected = {pk for pk, moves in moves_by_pk.items() if moves & wanted}
            got = set(rules.actionable(queryset, actor, names).values_list("pk", flat=True))
            assert got == expected, f"{model.__name__} {names} for {who}"


@pytest.mark.parametrize("model", [Suggestion, Reply, Consultation], ids=lambda m: m.__name__)
def test_what_a_user_may_do_lies_within_what_they_may_see(world, model):
    """The to-do's counts go over the table itself (suggestions.todo): they rely on every
    move's own scope keeping within ``visible_to``, for every role."""
    mach = rules.machine(model)
    for who, actor in actors().items():
        visible = set(model.objects.visible_to(actor).values_list("pk", flat=True))
        for name in mach.moves:
            may = set(rules.actionable(model.objects.all(), actor, [name])
                      .values_list("pk", flat=True))
            assert may <= visible, f"{model.__name__}.{name} for {who}: {may - visible} unseen"


def test_each_to_do_count_is_what_the_list_shows_for_the_group(world, client):
    """The to-do counts each group over the table; the list selects it through the user's
    scope: the two agree for everyone, so nothing the user may not see is ever counted."""
    from django.core.cache import cache

    shown = 0
    for who, actor in actors().items():
        if who in {"nobody", "anonymous"}:
            continue
        cache.clear()
        client.force_login(actor)
        for section in client.get("/todo/").context["sections"]:
            name = section["group"].name
            listed = client.get("/suggestions/", {"todo": name}).context["page"]
            assert listed.paginator.count == section["count"], f"{name} for {who}"
            assert {r.pk for r in listed} == {r.pk for r in section["rows"]}, f"{name} for {who}"
            shown += 1
    assert shown >= 15  # the world gives most groups something to count


def test_every_move_is_actionable_for_someone(world):
    """The data set is not trivially empty: each move awaits somebody's action somewhere."""
    people = actors()
    for model in (Suggestion, Reply, Consultation):
        for name in rules.machine(model).moves:
            assert any(rules.actionable(model.objects.all(), actor, [name]).exists()
                       for actor in people.values()), f"{model.__name__}.{name}"


def test_known_to_do_lists(world):
    def todo(model, username, names):
        actor = user(username) if isinstance(username, str) else username
        return set(rules.actionable(model.objects.all(), actor, names))

    w = world
    assert todo(Suggestion, "staff", ["accept"]) == {w["assigned"]}
    assert todo(Suggestion, "other_staff", ["accept"]) == set()
    # A co-unit may send (or revise) its opinion while the suggestion is being handled.
    assert todo(Suggestion, "agri_staff", ["co_opinion"]) == {
        w["assigned"], w["awaiting_opinion"], w["pending"].suggestion, w["signed"].suggestion,
        w["record"].suggestion, w["paper_record"].suggestion}
    assert todo(Suggestion, "edu_staff", ["co_opinion"]) == set()
    assert todo(Suggestion, "office", ["reject_return"]) == {w["returned"]}
    assert todo(Suggestion, "office", ["approve_extension", "refuse_extension"]) == {
        w["extension_requested"]}
    assert w["extension_requested"] not in todo(Suggestion, "other_staff", ["request_extension"])
    assert todo(Suggestion, "office", ["waive_co_opinions"]) == {
        w["assigned"], w["awaiting_opinion"], w["returned"]}
    assert todo(Reply, "head", ["sign"]) == {w["pending"]}
    assert todo(Reply, "staff", ["sign"]) == set()
    assert todo(Reply, "other_staff", ["submit"]) == {w["theirs_draft"]}
    assert todo(Reply, "office", ["send"]) == {w["signed"]}
    replied = w["replied"].replies.get()
    assert todo(Reply, "deputy", ["rate"]) == {replied}
    assert todo(Reply, deputy_login("李秀梅"), ["rate"]) == {replied}
    assert todo(Reply, "other_deputy", ["rate"]) == set()
    assert todo(Consultation, "deputy", ["confirm"]) == {w["record"]}
    assert todo(Consultation, "agri_staff", ["edit", "attach"]) == set()
    assert todo(Suggestion, no_role_user(), None) == set()
    assert not rules.actionable(Suggestion.objects.all(), user("office"), []).exists()
