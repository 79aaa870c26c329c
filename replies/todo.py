"""The reply letter's to-do groups (see ``core.todo``)."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core import todo
from core.roles import Role
from core.todo import Group
from suggestions.models import Suggestion

from .models import Reply

STAFF = frozenset({Role.HANDLER, Role.HEAD})


def _to_draft(user):
    new = todo.move_q(Suggestion, "draft_reply", user, via="")
    revise = todo.move_q(Reply, "edit", user)
    if new is None or revise is None:
        return new or revise
    # The two sets of ids united, not an OR: each half is read through its own index (a
    # status and a unit; a unit's draft letters), where an OR is tested on every suggestion.
    either = Suggestion.objects.filter(new).order_by().values("pk").union(
        Suggestion.objects.filter(revise).order_by().values("pk"))
    return Q(pk__in=either)


todo.register(
    Group("to_draft", _("To draft or revise a reply"), STAFF, _to_draft,
          target=(Reply, "edit"), order=30),
    Group("to_sign", _("Replies awaiting your sign-off"), frozenset({Role.HEAD}),
          lambda user: todo.move_q(Reply, "sign", user), target=(Reply, "sign"), order=5,
          urgent=True),
    Group("to_send", _("Signed, not yet sent"), STAFF,
          lambda user: todo.move_q(Reply, "send", user), target=(Reply, "send"), order=40),
    Group("to_rate", _("Replies to rate"), frozenset({Role.DEPUTY}),
          lambda user: todo.move_q(Reply, "rate", user), target=(Reply, "rate"), order=20),
)
