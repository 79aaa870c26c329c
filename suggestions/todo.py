"""The suggestion's own to-do groups (see ``core.todo``), and the to-do page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db.models import Exists, OuterRef, Q
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
    Rating,
    Status,
    Suggestion,
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

TOTAL_CACHE_SECONDS = 30


def total_for(user) -> int:
    """The navigation badge: items awaiting the user, cached briefly per user."""
    key = f"todo-total:{user.pk}"
    total = cache.get(key)
    if total is None:
        total = sum(todo.counts(Suggestion.objects.visible_to(user, narrow=True), user).values())
        cache.set(key, total, TOTAL_CACHE_SECONDS)
    return total


@login_required
def todo_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    base = (
        Suggestion.objects.visible_to(user, narrow=True)
        .select_related("session", "lead_deputy", "lead_unit").defer("content")
    )
    counts = todo.counts(base, user)
    sections = []
    for each in todo.groups_for(user):
        count = counts.get(each.name, 0)
        if not count:
            continue
        rows = list(todo.items(base, user, each).order_by("due_on", "pk")[:10])
        sections.append({"group": each, "count": count, "rows": rows})
    cache.set(f"todo-total:{user.pk}", sum(counts.values()), TOTAL_CACHE_SECONDS)
    return render(request, "suggestions/todo.html", {
        "sections": sections, "total": sum(counts.values()),
    })
