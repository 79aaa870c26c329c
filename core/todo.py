"""To-do lists (待办): what awaits each user, as groups of suggestions.

A group is a ``Q`` over suggestions built from the rule engine's own declarations (the moves
a user may make now, asked at the level of a queryset), never from rules restated here. Each
app declares the groups of its moves (suggestions: accept, assign…; replies: sign, send, rate;
consultations: confirm), so the to-do page, the navigation's badge and the list's
``?todo=<name>`` filter all ask the same place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import connections, models
from django.db.models import Q
from django.utils.functional import Promise

from . import rules
from .roles import Role, is_coordinator, role_of


@dataclass(frozen=True)
class Group:
    name: str  # stable: used in ?todo=<name>
    label: str | Promise
    roles: frozenset[Role]
    # user -> Q over the suggestion model, or None when nothing can match for this user
    where: Callable[[object], Q | None]
    # Where the action is: "suggestion", or (model, move) to link to that object's page.
    target: tuple[type[models.Model], str] | None = None
    order: int = 100
    urgent: bool = False


_GROUPS: dict[str, Group] = {}


def register(*groups: Group) -> None:
    for group in groups:
        if group.name in _GROUPS:
            raise ValueError(f"to-do group {group.name!r} is declared twice")
        _GROUPS[group.name] = group


def groups_for(user) -> list[Group]:
    role = role_of(user)
    return sorted((g for g in _GROUPS.values() if role in g.roles), key=lambda g: g.order)


def group(name: str) -> Group | None:
    return _GROUPS.get(name)


def move_q(model: type[models.Model], name: str, user, *, via: str = "suggestion") -> Q | None:
    """Suggestions with an object of ``model`` on which ``user`` may make move ``name`` now
    (``model`` is the suggestion model itself when ``via`` is empty)."""
    mach = rules.machine(model)
    if name not in mach.moves:
        return None
    condition = mach.q(name, user)
    if condition is None:
        return None
    if not via:
        return condition
    # IN (sub-select), not EXISTS: PostgreSQL runs it once and hashes it, where a correlated
    # EXISTS inside the groups' ORs is run again for every suggestion the user can see.
    return Q(pk__in=model._default_manager.filter(condition).values(via))


class _Leading(models.Func):
    """``(array)[1:n]``: the first ``n`` elements of a PostgreSQL array."""

    template = "(%(expressions)s)[1:%(n)d]"


def summary(queryset: models.QuerySet, user, each: Group, first: int = 10) -> tuple[int, list]:
    """The group's size and its first ``first`` items as (suggestion id, target id or None),
    by due date, and one more query for the letters or records a group links to.

    A unit's or a deputy's group is a few hundred of their own suggestions: on PostgreSQL one
    query counts them and gathers their ids in order in one aggregate, so the group's
    condition is planned and run once (a busy unit's "to draft", 813 of 100,000: 6 ms against
    14 ms for a count and a list). The office's groups can be a tenth of the table, where
    sorting every id costs more than a count from an index and a walk down the due dates
    that stops at ``first`` (the overdue: 5 ms against 11 ms): those are asked apart."""
    condition = each.where(user)
    if condition is None:
        return 0, []
    selected = queryset.filter(condition).order_by()
    if not is_coordinator(user) and connections[queryset.db].vendor == "postgresql":
        from django.contrib.postgres.aggregates import ArrayAgg

        found = selected.aggregate(
            size=models.Count("pk"),
            ids=_Leading(ArrayAgg("pk", order_by=("due_on", "pk")), n=first),
        )
        size, ids = found["size"], found["ids"] or []
    else:
        size = selected.count()
        ids = list(selected.order_by("due_on", "pk").values_list("pk", flat=True)[:first]) if size else []
    if not size:
        return 0, []
    targets = _targets(each, user, ids)
    return size, [(pk, targets.get(pk)) for pk in ids]


def _targets(each: Group, user, ids: list[int]) -> dict[int, int]:
    """suggestion id -> the letter or record of the group's move on it (the first, in the
    model's own order, where there are several)."""
    if each.target is None or not ids:
        return {}
    model, move = each.target
    condition = rules.machine(model).q(move, user)
    if condition is None:
        return {}
    found: dict[int, int] = {}
    for suggestion_id, pk in (model._default_manager.filter(condition, suggestion_id__in=ids)
                              .values_list("suggestion_id", "pk")):
        found.setdefault(suggestion_id, pk)
    return found
