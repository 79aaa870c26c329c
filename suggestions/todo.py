"""The suggestion's own to-do groups (see ``core.todo``), and the to-do page."""

from __future__ import annotations

import copy

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db.models import Exists, Max, OuterRef, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import todo
from core.roles import Role, role_of
from core.todo import Group

from .models import (
    AWAITING_REPLY,
    CoHandling,
    Event,
    Rating,
    Status,
    Suggestion,
    due_soon_horizon,
    due_soon_label,
    due_soon_q,
    overdue_q,
)
from .workflow import LEAD_UNIT

OFFICE = frozenset({Role.OFFICE, Role.ADMIN})
STAFF = frozenset({Role.HANDLER, Role.HEAD})


def may(name: str):
    """Suggestions on which the user may make move ``name`` now."""
    return lambda user: todo.move_q(Suggestion, name, user, via="")


def _co_opinions_overdue(user) -> Q:
    late = CoHandling.objects.filter(
        suggestion=OuterRef("pk"), required=True, submitted_at__isnull=True,
        due_on__lt=timezone.localdate(),
    )
    return Q(status__in=AWAITING_REPLY, co_opinions_waived=False) & Q(Exists(late))


def _my_co_opinion_awaited(user) -> Q | None:
    condition = todo.move_q(Suggestion, "co_opinion", user, via="")
    if condition is None:
        return None
    mine = CoHandling.objects.filter(
        suggestion=OuterRef("pk"), unit_id=user.staff_member.unit_id, submitted_at__isnull=True,
    )
    return condition & Q(Exists(mine))


def _own_or_all(condition: Q):
    """For unit staff, only their unit's own (lead) suggestions; the office sees all."""
    def where(user) -> Q:
        if role_of(user) in STAFF:
            return condition() & LEAD_UNIT.q(user)
        return condition()
    return where


todo.register(
    Group("to_assign", _("Registered, to assign"), OFFICE, may("assign"), order=10),
    Group("return_requests", _("Return requests to decide"), OFFICE, may("reject_return"),
          order=20, urgent=True),
    Group("extension_requests", _("Extension requests to decide"), OFFICE,
          may("approve_extension"), order=30, urgent=True),
    Group("co_opinions_overdue", _("Co-unit opinions overdue"), OFFICE, _co_opinions_overdue,
          order=40),
    Group("unsatisfied", _("Rated unsatisfied: re-assign or supervise"), OFFICE,
          lambda user: Q(status=Status.REHANDLING, rating=Rating.UNSATISFIED), order=50),
    Group("to_close", _("Rated, to close"), OFFICE,
          lambda user: (todo.move_q(Suggestion, "close", user, via="") or Q(pk__in=[]))
          & Q(status=Status.EVALUATED), order=60),
    Group("to_accept", _("To accept"), STAFF, may("accept"), order=10, urgent=True),
    Group("co_opinions", _("Co-handling opinions to submit"), STAFF, _my_co_opinion_awaited,
          order=50),
    Group("rehandling", _("Re-handling after an unsatisfied rating"), STAFF,
          lambda user: Q(status=Status.REHANDLING) & LEAD_UNIT.q(user), order=60),
    Group("overdue", _("Overdue"), OFFICE | STAFF, _own_or_all(overdue_q), order=80, urgent=True),
    Group("due_soon", due_soon_label(), OFFICE | STAFF, _own_or_all(due_soon_q), order=90),
)

# What awaits a user is kept in the cache until anything changes: every change of a
# suggestion, reply or record writes an event, so the newest event's id (one index lookup) is
# the data's version, as for the list's figures; the day and the due-soon window count too
# (overdue, due soon). Only ids and counts are kept; the rows are read fresh, by id.
TODO_CACHE_SECONDS = 600

# Items shown per group, the most urgent (earliest due) first; "See all" opens the list
# filtered to the group. Five keep every group of a busy unit on a tablet's screen or two.
TODO_ITEMS_SHOWN = 5


def _version() -> str:
    newest = Event.objects.aggregate(top=Max("pk"))["top"]
    return f"{newest}:{timezone.localdate().isoformat()}:{due_soon_horizon().isoformat()}"


def _base(user):
    return Suggestion.objects.visible_to(user, narrow=True)


def awaiting(user) -> list[tuple[str, int, list[tuple[int, int | None]]]]:
    """(group, count, [(suggestion id, target id)] of its first items) for each of the user's
    non-empty groups: one query per group, or none while nothing changed."""
    key = f"todo:{user.pk}:{_version()}"
    found = cache.get(key)
    if found is None:
        found = []
        for each in todo.groups_for(user):
            # Over the table itself: each group's condition is made of a move's own scope (or
            # the unit's own suggestions), which the rule engine keeps within what the user may
            # see (tests/test_rules_actionable asks it of every move and role); ANDing
            # visible_to again made every group of a busy unit test the 8,000 ids it can see.
            # The rows shown are read through visible_to (todo_page), as everywhere.
            count, ids = todo.summary(Suggestion.objects.all(), user, each, TODO_ITEMS_SHOWN)
            if count:
                found.append((each.name, count, ids))
        cache.set(key, found, TODO_CACHE_SECONDS)
    return found


# The badge is on every page: it is kept for a short while per user (no query at all),
# and set afresh whenever the user opens the to-do.
BADGE_CACHE_SECONDS = 30


def total_for(user) -> int:
    """The navigation badge: items awaiting the user."""
    key = f"todo-total:{user.pk}"
    total = cache.get(key)
    if total is None:
        total = sum(count for _name, count, _ids in awaiting(user))
        cache.set(key, total, BADGE_CACHE_SECONDS)
    return total


@login_required
def todo_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    groups = awaiting(user)
    wanted = {pk for _name, _count, ids in groups for pk, _target in ids}
    # The rows of every group in one query, through the user's scope again.
    rows = _base(user).select_related("session", "lead_deputy", "lead_unit").defer(
        "content", "search_document").in_bulk(wanted)
    sections = []
    for name, count, ids in groups:
        shown = []
        for pk, target in ids:
            if pk in rows:
                row = copy.copy(rows[pk])  # one suggestion may stand in several groups
                row.target_pk = target
                shown.append(row)
        sections.append({"group": todo.group(name), "count": count, "rows": shown})
    total = sum(count for _name, count, _ids in groups)
    cache.set(f"todo-total:{user.pk}", total, BADGE_CACHE_SECONDS)
    return render(request, "suggestions/todo.html", {"sections": sections, "total": total})
