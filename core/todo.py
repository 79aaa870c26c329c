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

from django.db import models
from django.db.models import OuterRef, Q
from django.utils.functional import Promise

from . import rules
from .roles import Role, role_of


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


def items(queryset: models.QuerySet, user, each: Group) -> models.QuerySet:
    condition = each.where(user)
    if condition is None:
        return queryset.none()
    selected = queryset.filter(condition)
    if each.target is not None:
        model, move = each.target
        target = rules.machine(model).q(move, user)
        if target is not None:
            first = model._default_manager.filter(target, suggestion=OuterRef("pk")).values("pk")[:1]
            selected = selected.annotate(target_pk=models.Subquery(first))
    return selected


def summary(queryset: models.QuerySet, user, each: Group, first: int = 10) -> tuple[int, list]:
    """The group's size and its first ``first`` items as (suggestion id, target id or None),
    by due date. Two queries, each planned on its own: the count reads an index alone, the
    items walk the due dates until ``first`` are found. (One query with the size as a window
    over the rows must fetch every row of the group: 150 ms for the office's overdue at
    100,000 suggestions, against 5 ms for the two.)"""
    selected = items(queryset, user, each)
    if selected.query.is_empty():  # the group's condition can match nothing for this user
        return 0, []
    size = selected.order_by().count()
    if not size:
        return 0, []
    fields = ("pk", "target_pk") if each.target is not None else ("pk",)
    rows = selected.order_by("due_on", "pk").values_list(*fields)[:first]
    return size, [(row[0], row[1] if each.target is not None else None) for row in rows]
