"""The rule engine: every move on a suggestion, a reply or a consultation record is data.

A :class:`Move` declares the statuses it starts from, the status it leads to, the roles that
may make it and, for each role, the :class:`Scope` of objects that role may touch (its own
unit's, its own suggestions…), a ``where`` condition that must also hold (e.g. "no unsigned
draft yet"), checks that need the move's parameters, and effects. Each model has one
:class:`Machine` holding its moves; apps higher up add moves or effects to a lower app's
machine (the replies app adds "draft a reply" to the suggestion's machine), so dependencies
run one way.

Three questions, one set of declarations:

- :func:`run` makes a move: it locks the row, checks role, status, scope and conditions,
  applies the effects, saves, and writes the event;
- :func:`available_moves` answers what a user may do on one object (every button asks it);
- :meth:`Move.q` / :func:`actionable` answer the same for a whole queryset ("which objects
  await this user's action?"), for to-do lists at 10^5 rows.

Many moves in one transaction (an import) are made inside :func:`together`: the apps whose
effects can do their writing once for all of them (search documents, notifications) register
a context for it with :func:`batch_with`; each move still runs every check and effect.

Scope and ``where`` are declared once, as ``Q`` objects, and evaluated by the database for
one object as for many, so the object answer and the queryset answer cannot disagree.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from .roles import Role, role_of


class WorkflowError(Exception):
    """A move that is not allowed; the message is shown to the user as it is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = str(message)


Check = Callable[[Any, Any, dict], None]  # (locked object, user, params); raises WorkflowError
Effect = Callable[[Any, Any, dict], Any]  # (locked object, user, params) -> optional result


@dataclass(frozen=True)
class Scope:
    """The objects a role may touch with a move, as a Q over the machine's model."""

    name: str
    q: Callable[[Any], Q]  # user -> Q
    refusal: str | Promise


def _everything(user) -> Q:
    return Q()


EVERYTHING = Scope("everything", _everything, "")


@dataclass(frozen=True)
class Move:
    name: str
    label: str | Promise
    # Statuses the move starts from (the machine's status field); the target, or None when the
    # move changes something else (drafting a reply, logging a consultation…).
    sources: frozenset[str]
    target: str | None
    roles: Mapping[Role, Scope]
    where: Callable[[Any], Q] | None = None  # user -> Q
    where_refusal: str | Promise = ""
    checks: tuple[Check, ...] = ()
    effects: tuple[Effect, ...] = ()
    needs_note: bool = False
    internal: bool = False
    # How a page offers it: "button" (a POST with an optional note), the name of a URL with
    # its own form, or "" (made by another move, never offered on its own).
    ui: str = "button"
    primary: bool = False
    confirm: str | Promise = ""  # asked in a confirmation dialog before the POST
    event: str = ""  # action name written to the log; defaults to the move's name
    save_fields: tuple[str, ...] | None = None  # None: the whole row

    @property
    def action(self) -> str:
        return self.event or self.name

    @property
    def link(self) -> str:
        """The URL name of the move's own page, for moves offered as a link."""
        return self.ui.removeprefix("link:") if self.ui.startswith("link:") else ""

    @property
    def is_offered(self) -> bool:
        return bool(self.ui)

    def scope_for(self, user) -> Scope | None:
        return self.roles.get(role_of(user))

    def condition(self, user) -> Q | None:
        """Scope and ``where`` for ``user`` (status aside); None when the role may not move."""
        scope = self.scope_for(user)
        if scope is None:
            return None
        condition = scope.q(user)
        if self.where is not None:
            condition &= self.where(user)
        return condition

    def q(self, user, status_field: str) -> Q | None:
        """The objects on which ``user`` may make this move now, as a Q; None for none."""
        condition = self.condition(user)
        if condition is None:
            return None
        return Q(**{f"{status_field}__in": sorted(self.sources)}) & condition


@dataclass
class Machine:
    """The moves of one model, and how a move is written to the log."""

    model: type[models.Model]
    log: Callable[..., None]
    status_field: str = "status"
    moves: dict[str, Move] = field(default_factory=dict)
    # Relations loaded with the locked row (select_related) because effects read them: a
    # suggestion's session for its reference, a reply's suggestion… (see load_related).
    related: tuple[str, ...] = ()

    def add(self, *moves: Move) -> None:
        for move in moves:
            if move.name in self.moves:
                raise ValueError(f"{self.model.__name__} already has a move {move.name!r}")
            self.moves[move.name] = move

    def extend(self, name: str, *, checks: Iterable[Check] = (), effects: Iterable[Effect] = ()):
        """A higher app adds what it needs to a move declared below it."""
        move = self.moves[name]
        self.moves[name] = dataclasses.replace(
            move, checks=move.checks + tuple(checks), effects=move.effects + tuple(effects)
        )

    def load_related(self, *names: str) -> None:
        """An app whose effects read these relations has them loaded with the locked row, in
        the same query (forward foreign keys, as select_related takes them)."""
        self.related = tuple(dict.fromkeys((*self.related, *names)))

    def status_of(self, obj) -> str:
        return getattr(obj, self.status_field)

    def status_label(self, obj) -> str:
        return str(getattr(obj, f"get_{self.status_field}_display")())

    def q(self, name: str, user) -> Q | None:
        return self.moves[name].q(user, self.status_field)


_MACHINES: dict[type[models.Model], Machine] = {}


def machine(model: type[models.Model], *, log: Callable[..., None] | None = None,
            status_field: str = "status") -> Machine:
    """The model's machine; the app that owns the model creates it (with ``log``)."""
    if model not in _MACHINES:
        if log is None:
            raise LookupError(f"No rule machine for {model.__name__}")
        _MACHINES[model] = Machine(model, log=log, status_field=status_field)
    return _MACHINES[model]


def machines() -> list[Machine]:
    return list(_MACHINES.values())


def machine_of(obj) -> Machine:
    return machine(type(obj))


def _flags(obj, conditions: dict[str, Q]) -> dict[str, bool]:
    """Evaluate several Q conditions on one row, in one query."""
    if not conditions:
        return {}
    empty = {name: True for name, q in conditions.items() if not q}
    rest = {name: q for name, q in conditions.items() if q}
    if not rest:
        return empty
    row = (
        type(obj)._default_manager.filter(pk=obj.pk)
        .annotate(**{f"rule_{name}": ExpressionWrapper(q, output_field=BooleanField())
                     for name, q in rest.items()})
        .values(*(f"rule_{name}" for name in rest))
        .first()
    ) or {}
    return empty | {name: bool(row.get(f"rule_{name}")) for name in rest}


def available_moves(obj, user) -> dict[str, Move]:
    """The moves ``user`` may make on ``obj`` now, by name (parameter checks still apply)."""
    mach = machine_of(obj)
    status = mach.status_of(obj)
    candidates = {
        name: move.condition(user)
        for name, move in mach.moves.items()
        if status in move.sources
    }
    candidates = {name: q for name, q in candidates.items() if q is not None}
    flags = _flags(obj, candidates)
    return {name: mach.moves[name] for name in candidates if flags[name]}


def actionable(queryset: models.QuerySet, user, names: Iterable[str] | None = None) -> models.QuerySet:
    """The objects of ``queryset`` on which ``user`` may make any of the moves ``names``
    (default: every offered move)."""
    mach = machine(queryset.model)
    wanted = names if names is not None else [n for n, m in mach.moves.items() if m.is_offered]
    condition = None
    for name in wanted:
        q = mach.q(name, user)
        if q is not None:
            condition = q if condition is None else condition | q
    return queryset.filter(condition) if condition is not None else queryset.none()


def check(obj, name: str, user, *, note: str = "", params: dict | None = None) -> Move:
    """Raise WorkflowError, with the reason, unless ``user`` may make move ``name`` on ``obj``."""
    mach = machine_of(obj)
    move = mach.moves.get(name)
    if move is None:
        raise WorkflowError(_("Unknown action."))
    scope = move.scope_for(user)
    if scope is None:
        raise WorkflowError(_("You are not allowed to do this: %(action)s.") % {"action": move.label})
    flags = _flags(obj, {"scope": scope.q(user), "where": move.where(user) if move.where else Q()})
    if not flags["scope"]:
        raise WorkflowError(str(scope.refusal) or _("You are not allowed to do this."))
    if mach.status_of(obj) not in move.sources:
        raise WorkflowError(
            _("“%(action)s” is not possible while this is “%(status)s”.")
            % {"action": move.label, "status": mach.status_label(obj)}
        )
    if not flags["where"]:
        raise WorkflowError(str(move.where_refusal) or _("This is not possible now."))
    if move.needs_note and not note:
        raise WorkflowError(_("Please give a reason."))
    for each in move.checks:
        each(obj, user, params if params is not None else {})
    return move


def may(obj, name: str, user) -> bool:
    try:
        check(obj, name, user)
    except WorkflowError:
        return False
    return True


@transaction.atomic
def run(obj, name: str, *, user, note: str = "", **params):
    """Make move ``name`` on ``obj`` as ``user``; return what its effects made (a new reply,
    a record…) or the updated object. Raises WorkflowError, changing nothing, if not allowed.
    """
    mach = machine_of(obj)
    rows = type(obj)._default_manager.select_for_update()
    if mach.related:
        # Lock the row itself only (of="self"): not the session or deputy rows joined to it,
        # which every other move on them would then wait for; PostgreSQL also refuses FOR
        # UPDATE on the nullable side of an outer join (a suggestion's lead unit).
        rows = type(obj)._default_manager.select_for_update(of=("self",)).select_related(
            *mach.related)
    locked = rows.get(pk=obj.pk)
    note = (note or "").strip()
    params["note"] = note  # an effect may keep it (a reason, a written approval)
    move = check(locked, name, user, note=note, params=params)
    source = mach.status_of(locked)
    result = None
    for effect in move.effects:
        made = effect(locked, user, params)
        result = made if made is not None else result
    if move.target is not None:
        setattr(locked, mach.status_field, move.target)
    if move.target is not None or move.save_fields != ():
        if move.save_fields:
            fields = {*move.save_fields, mach.status_field}
            if any(f.name == "updated_at" for f in locked._meta.fields):
                fields.add("updated_at")
            locked.save(update_fields=sorted(fields))
        else:
            locked.save()
    mach.log(locked, user=user, move=move, source=source, note=note, params=params)
    # The caller's instance follows the row, so a view can go on using it.
    for f in locked._meta.concrete_fields:
        setattr(obj, f.attname, getattr(locked, f.attname))
    return result if result is not None else locked


# Contexts entered around many moves made together, registered by the apps (batch_with).
_BATCHES: list[Callable[[], AbstractContextManager]] = []


def batch_with(context: Callable[[], AbstractContextManager]) -> None:
    """Enter ``context()`` around every :func:`together` block. It may postpone writes to its
    end, where they are done for all the moves at once; when the block raises it writes
    nothing (the transaction is rolled back)."""
    if context not in _BATCHES:
        _BATCHES.append(context)


@contextmanager
def together() -> Iterator[None]:
    """Around many moves in one transaction (used inside it): what the apps registered with
    :func:`batch_with` is done once at the end instead of once per move. What a move postpones
    is not undone with its savepoint: a refused move must end the block (as the import's
    does, rolling back everything)."""
    with ExitStack() as stack:
        for context in _BATCHES:
            stack.enter_context(context())
        yield
