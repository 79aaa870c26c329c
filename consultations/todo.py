"""The consultation record's to-do groups (see ``core.todo``)."""

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from core import todo
from core.roles import Role
from core.todo import Group
from suggestions.models import Status, Suggestion

from .models import Consultation


def _to_meet(user):
    """In handling, and no contact with the deputy logged yet (DOMAIN: before replying)."""
    may_log = todo.move_q(Suggestion, "log_consultation", user, via="")
    if may_log is None:
        return None
    logged = Consultation.objects.filter(suggestion=OuterRef("pk"))
    return may_log & Q(status__in=[Status.HANDLING, Status.REHANDLING]) & ~Q(Exists(logged))


todo.register(
    Group("to_meet", _("To meet the deputy"), frozenset({Role.HANDLER, Role.HEAD}), _to_meet,
          order=20),
    Group("to_confirm", _("Consultation records to confirm"), frozenset({Role.DEPUTY}),
          lambda user: todo.move_q(Consultation, "confirm", user),
          target=(Consultation, "confirm"), order=10),
)
