"""Suggestion screens: list, detail with timeline, intake, assignment and the workflow moves.

Every view fetches through ``Suggestion.objects.visible_to(user)`` (404 otherwise) and leaves
the rules to ``workflow``; a WorkflowError becomes a message.
"""

from __future__ import annotations

import hashlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core import rules
from core.formatting import chinese_date
from core.forms import AlreadySubmitted, previous_submission, redirect_to_first, submit_once
from core.http import perform
from core.roles import Role, is_coordinator, role_of, user_unit_id
from core.rules import WorkflowError

from . import links, report, workflow
from .filters import SuggestionFilter, list_navigation
from .forms import (
    ApproveExtensionForm,
    AssignForm,
    CoOpinionForm,
    ExtendForm,
    ExtensionRequestForm,
    NoteForm,
    ReassignForm,
    SuggestionForm,
)
from .models import CoHandling, Event, Suggestion, due_soon_label
from .timeline import timeline_for

# Moves offered in their own section of the page rather than in the side panel.
SECTION_MOVES = {"log_consultation", "co_opinion"}


def visible_suggestion(request: HttpRequest, pk: int) -> Suggestion:
    queryset = Suggestion.objects.visible_to(request.user).select_related(
        "session", "lead_deputy", "lead_unit"
    )
    return get_object_or_404(queryset, pk=pk)


def require_coordinator(request: HttpRequest) -> None:
    if not is_coordinator(request.user):
        raise PermissionDenied(_("Only the congress office can do this."))


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # any database failure means unhealthy
        return JsonResponse({"status": "database unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


def home(request: HttpRequest) -> HttpResponse:
    return redirect("todo")


def filtered_suggestions(request: HttpRequest) -> tuple[SuggestionFilter, QuerySet]:
    """The suggestions the user may see, narrowed by the list's filters (invalid ones ignored)."""
    base = (
        Suggestion.objects.visible_to(request.user)
        .select_related("session", "lead_deputy", "lead_unit")
        # Columns of the suggestion itself, so that an index gives the order (not a sort of
        # every row joined to its session): sessions are created in order, the newest last.
        .order_by("-session_id", "number")
    )
    base = _todo_filtered(request, base)
    filterset = SuggestionFilter(request.GET or None, queryset=base)
    if filterset.is_bound and not filterset.is_valid():
        messages.error(request, _("Some filters were not valid and were ignored."))
        return filterset, base
    return filterset, filterset.qs if filterset.is_bound else base


def _todo_filtered(request: HttpRequest, queryset: QuerySet) -> QuerySet:
    """``?todo=<group>``: the items of one of the user's to-do groups (core.todo)."""
    from core import todo

    name = request.GET.get("todo")
    if not name:
        return queryset
    group = todo.group(name)
    if group is None or role_of(request.user) not in group.roles:
        messages.error(request, _("Some filters were not valid and were ignored."))
        return queryset
    condition = group.where(request.user)
    return queryset.filter(condition) if condition is not None else queryset.none()


# The list's count, and for the office the figures above it, go over every row the filters
# select: at 10^5 rows, the page's costly part. They are kept per selection for a short while
# and counted again as soon as anything changes: every change of a suggestion writes an event,
# so the newest event's id is the data's version (one index lookup). A change made without an
# event (an UPDATE by hand) shows within LIST_TOTALS_SECONDS.
LIST_TOTALS_SECONDS = 60


def list_totals(queryset: QuerySet, *, figures: bool) -> tuple[int, dict | None]:
    """(how many rows, the figures or None) for the list's selection."""
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    version = Event.objects.aggregate(top=Max("pk"))["top"]
    key = "list-totals:" + hashlib.sha256(
        repr((sql, params, figures, version, timezone.localdate(), get_language())).encode()
    ).hexdigest()
    totals = cache.get(key)
    if totals is None:
        found = queryset.figures() if figures else None
        totals = (found["total"] if found else queryset.count(), found)
        cache.set(key, totals, LIST_TOTALS_SECONDS)
    return totals


class IdsFirstPaginator(Paginator):
    """Reads a page in two steps: its ids in the list's order, then those rows. Sorting ids
    needs only indexes (suggestion_list_order, suggestion_order_keys); sorting rows reads every
    row the user may see (a unit's thousands) to keep fifty.

    The rows are always read afresh, whatever the (cached) count says; a count the page shows
    to be behind is corrected (the last page ends where the rows end)."""

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:bottom + self.per_page])
        seen = bottom + len(ids)
        if (len(ids) < self.per_page and seen != self.count) or seen > self.count:
            self.count = seen if len(ids) < self.per_page else max(self.count, seen)
            self.__dict__.pop("num_pages", None)
        rows = {row.pk: row for row in self.object_list.filter(pk__in=ids).order_by()}
        return self._get_page([rows[pk] for pk in ids if pk in rows], number, self)


@login_required
def suggestion_list(request: HttpRequest) -> HttpResponse:
    filterset, queryset = filtered_suggestions(request)
    count, figures = list_totals(queryset, figures=is_coordinator(request.user))
    # The rows without their main content and search document (the widest columns, not shown).
    paginator = IdsFirstPaginator(queryset.defer("content", "search_document"), 50)
    paginator.count = count
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "suggestions/list.html", {
        "filter": filterset, "page": page, "query": query.urlencode(),
        **list_navigation(request.GET, page),
        "figures": figures, "due_soon_label": due_soon_label(),
        "can_register": is_coordinator(request.user),
        "can_export": is_coordinator(request.user),
    })


@login_required
def suggestion_report(request: HttpRequest) -> HttpResponse:
    """The office's figures by lead unit, for the list's filters; also as an Excel file."""
    require_coordinator(request)
    filterset, queryset = filtered_suggestions(request)
    rows, total = report.table(queryset)
    if request.GET.get("format") == "xlsx":
        today = timezone.localdate()
        title = _("Handling of deputies' suggestions, as of %(date)s") % {"date": chinese_date(today)}
        workflow.record_event(None, actor=request.user, action="report_export", internal=True,
                              object_label=request.GET.urlencode()[:200])
        response = HttpResponse(
            report.workbook(rows, total, title=title),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        filename = _("suggestion-figures-%(date)s.xlsx") % {"date": today.isoformat()}
        response["Content-Disposition"] = content_disposition_header(True, filename)
        return response
    query = request.GET.copy()
    query.pop("format", None)
    return render(request, "suggestions/report.html", {
        "filter": filterset, "rows": rows, "total": total, "query": query.urlencode(),
        **report.headings(),
    })


@login_required
def suggestion_detail(request: HttpRequest, pk: int) -> HttpResponse:
    suggestion = visible_suggestion(request, pk)
    user = request.user
    role = role_of(user)
    my_unit = user_unit_id(user)
    co_handlings = list(suggestion.co_handlings.select_related("unit"))
    moves = rules.available_moves(suggestion, user)
    context = {
        "suggestion": suggestion,
        "role": role,
        "deputies": suggestion.deputies(),
        "co_handlings": co_handlings,
        "my_co_handling": next((co for co in co_handlings if co.unit_id == my_unit), None),
        "show_co_opinions": role in (Role.ADMIN, Role.OFFICE)
        or (my_unit is not None and my_unit == suggestion.lead_unit_id),
        # Every button on the page is one of these; the page states no rule of its own.
        "moves": moves,
        "panel": [move for move in moves.values() if move.is_offered and move.name not in SECTION_MOVES],
        "timeline": timeline_for(suggestion, user),
        "note_form": NoteForm(),
        "due_explanation": workflow.due_explanation(suggestion) if suggestion.due_on else "",
        "extension_request": workflow.pending_extension(suggestion)
        if role != Role.DEPUTY and suggestion.due_on else None,
        **links.detail_context(suggestion, moves),
    }
    return render(request, "suggestions/detail.html", context)


@login_required
def suggestion_create(request: HttpRequest) -> HttpResponse:
    require_coordinator(request)
    form = SuggestionForm(request.POST or None)
    if request.method == "POST" and "check_similar" in request.POST:
        # "Check for similar suggestions": the form again as typed, nothing saved.
        form, similar = links.intake_check(SuggestionForm, request.POST)
        return render(request, "suggestions/form.html", {
            "form": form, "title": _("Register a suggestion"), "check_similar": True,
            "similar": similar,
        })
    if request.method == "POST" and (first_url := previous_submission(request)):
        return redirect(first_url)
    if request.method == "POST" and form.is_valid():
        def create():
            suggestion = form.save()
            workflow.record_event(suggestion, actor=request.user, action="register")
            return suggestion, reverse("suggestions:detail", args=[suggestion.pk])

        try:
            suggestion = submit_once(form, request.user, create)
        except AlreadySubmitted as first:
            return redirect_to_first(first, reverse("suggestions:list"))
        except IntegrityError:
            # Two offices registering the same number at once: the loser gets the form back.
            form.add_error(None, _("This session already has a suggestion with this number."))
        else:
            messages.success(request, _("Suggestion %(ref)s registered.") % {"ref": suggestion})
            return redirect("suggestions:detail", pk=suggestion.pk)
    # A double click whose first submission was saved while this one was being checked: the
    # form now finds "its" number taken; send it where the first one went instead.
    if request.method == "POST" and (first_url := previous_submission(request)):
        return redirect(first_url)
    return render(request, "suggestions/form.html", {
        "form": form, "title": _("Register a suggestion"), "check_similar": True,
    })


@login_required
@require_POST
def suggestion_link(request: HttpRequest, pk: int) -> HttpResponse:
    """Link as similar (相似) or merged handling (并案); the rule engine says who may."""
    suggestion = visible_suggestion(request, pk)
    form = links.LinkForm(request.POST, suggestions=Suggestion.objects.visible_to(request.user))
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    else:
        data = form.cleaned_data
        perform(request, _("Linked with %(ref)s.") % {"ref": data["target"]}, rules.run, suggestion,
                "link", user=request.user, other=data["target"], kind=data["kind"],
                comment=data["note"])
    return redirect(reverse("suggestions:detail", args=[pk]) + "#links")


@login_required
@require_POST
def suggestion_unlink(request: HttpRequest, pk: int, link_pk: int) -> HttpResponse:
    suggestion = visible_suggestion(request, pk)
    perform(request, _("Link removed."), rules.run, suggestion, "unlink", user=request.user,
            link_id=link_pk)
    return redirect(reverse("suggestions:detail", args=[pk]) + "#links")


@login_required
def suggestion_edit(request: HttpRequest, pk: int) -> HttpResponse:
    suggestion = visible_suggestion(request, pk)
    try:
        rules.check(suggestion, "edit", request.user)
    except WorkflowError as error:
        if not is_coordinator(request.user):
            raise PermissionDenied(error.message) from None
        messages.error(request, error.message)
        return redirect("suggestions:detail", pk=pk)
    form = SuggestionForm(request.POST or None, instance=suggestion)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                done = perform(request, _("Changes saved."), rules.run, suggestion, "edit",
                               user=request.user, form=form)
        except IntegrityError:
            form.add_error(None, _("This session already has a suggestion with this number."))
        else:
            if done:
                return redirect("suggestions:detail", pk=pk)
    return render(request, "suggestions/form.html", {
        "form": form, "title": _("Edit %(ref)s") % {"ref": suggestion}, "suggestion": suggestion,
    })


@login_required
def suggestion_assign(request: HttpRequest, pk: int) -> HttpResponse:
    suggestion = visible_suggestion(request, pk)
    require_coordinator(request)
    moves = rules.available_moves(suggestion, request.user)
    name = "assign" if "assign" in moves else "reassign"
    if name not in moves:
        messages.error(request, _("This suggestion cannot be assigned or reassigned now."))
        return redirect("suggestions:detail", pk=pk)
    form_class = AssignForm if name == "assign" else ReassignForm
    form = form_class(request.POST or None, initial={
        "unit": suggestion.lead_unit,
        "co_units": [co.unit for co in suggestion.co_handlings.all()],
    })
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        params = {"unit": data["unit"]}
        if name == "assign":
            params["co_units"] = list(data["co_units"])
        if perform(
            request, _("Assigned to %(unit)s.") % {"unit": data["unit"]}, rules.run,
            suggestion, name, user=request.user, note=data.get("note", ""), **params,
        ):
            return redirect("suggestions:detail", pk=pk)
    return render(request, "suggestions/assign.html", {
        "form": form, "suggestion": suggestion, "reassign": name == "reassign",
    })


@login_required
@require_POST
def suggestion_move(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """The moves a button makes, with an optional note (accept, return request, close…)."""
    suggestion = visible_suggestion(request, pk)
    move = workflow.MACHINE.moves.get(name)
    if move is None or move.ui != "button":
        raise PermissionDenied(_("This action has its own form."))
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    done = _("Done: %(action)s.") % {"action": move.label}
    perform(request, done, rules.run, suggestion, name, user=request.user, note=note)
    return redirect("suggestions:detail", pk=pk)


@login_required
def suggestion_extend(request: HttpRequest, pk: int) -> HttpResponse:
    """The deadline's extension: the lead unit asks for one (request_extension); the office
    decides on the unit's request (approve_extension; refusing is a button on the suggestion)
    or, with no request pending, extends on its own written approval (extend)."""
    suggestion = visible_suggestion(request, pk)
    if not is_coordinator(request.user):
        return _request_extension(request, suggestion)
    pending = workflow.pending_extension(suggestion)
    if pending is not None:
        return _approve_extension(request, suggestion, pending)
    form = ExtendForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if perform(request, _("Deadline extended."), rules.run, suggestion, "extend",
                   user=request.user, **form.cleaned_data):
            return redirect("suggestions:detail", pk=pk)
    return render(request, "suggestions/simple_form.html", {
        "form": form, "suggestion": suggestion, "title": _("Extend the deadline"),
        "submit_label": _("Extend"),
    })


def _request_extension(request: HttpRequest, suggestion: Suggestion) -> HttpResponse:
    if "request_extension" not in rules.available_moves(suggestion, request.user):
        # Role, scope, status or "once, one request at a time": the rule's own reason.
        reason = ""
        try:
            rules.check(suggestion, "request_extension", request.user)
        except WorkflowError as error:
            reason = error.message
        raise PermissionDenied(reason)
    form = ExtensionRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if perform(request, _("Extension requested: the congress office decides."), rules.run,
                   suggestion, "request_extension", user=request.user, **form.cleaned_data):
            return redirect("suggestions:detail", pk=suggestion.pk)
    limit = workflow.extension_limit(suggestion)
    return render(request, "suggestions/simple_form.html", {
        "form": form, "suggestion": suggestion, "title": _("Request an extension"),
        "submit_label": _("Send the request"),
        "intro": _("Due on %(due)s; an extension can run to %(limit)s at the latest, once.")
        % {"due": chinese_date(suggestion.due_on), "limit": chinese_date(limit)},
    })


def _approve_extension(request: HttpRequest, suggestion: Suggestion, pending) -> HttpResponse:
    form = ApproveExtensionForm(request.POST or None, initial={"new_due": pending.proposed_due})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if perform(request, _("Extension approved."), rules.run, suggestion, "approve_extension",
                   user=request.user, note=data["note"], new_due=data["new_due"]):
            return redirect("suggestions:detail", pk=suggestion.pk)
    return render(request, "suggestions/simple_form.html", {
        "form": form, "suggestion": suggestion, "title": _("Approve the extension"),
        "submit_label": _("Approve"),
        "intro": _("%(unit)s asks to extend the deadline from %(due)s to %(proposed)s: %(reason)s")
        % {"unit": suggestion.lead_unit, "due": chinese_date(suggestion.due_on),
           "proposed": chinese_date(pending.proposed_due), "reason": pending.reason},
    })


@login_required
@require_POST
def suggestion_key_supervision(request: HttpRequest, pk: int) -> HttpResponse:
    suggestion = visible_suggestion(request, pk)
    require_coordinator(request)
    perform(request, _("Key supervision updated."), rules.run, suggestion, "key_supervision",
            user=request.user, on=request.POST.get("on") == "1")
    return redirect("suggestions:detail", pk=pk)


@login_required
@require_POST
def suggestion_waive(request: HttpRequest, pk: int) -> HttpResponse:
    suggestion = visible_suggestion(request, pk)
    require_coordinator(request)
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    perform(request, _("Co-handling opinions waived."), rules.run, suggestion,
            "waive_co_opinions", user=request.user, note=note)
    return redirect("suggestions:detail", pk=pk)


@login_required
def co_opinion(request: HttpRequest, pk: int) -> HttpResponse:
    suggestion = visible_suggestion(request, pk)
    co = get_object_or_404(CoHandling, suggestion=suggestion, unit_id=user_unit_id(request.user))
    form = CoOpinionForm(request.POST or None, instance=co)
    if request.method == "POST" and form.is_valid():
        if perform(request, _("Your opinion was sent to the lead unit."), rules.run, suggestion,
                   "co_opinion", user=request.user, opinion=form.cleaned_data["opinion"]):
            return redirect("suggestions:detail", pk=pk)
    return render(request, "suggestions/simple_form.html", {
        "form": form, "suggestion": suggestion, "title": _("Co-handling opinion"),
        "submit_label": _("Send to the lead unit"),
    })


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    """Who did what, including every download: the office's and administrators' view of the
    log, which the people's timelines leave downloads out of."""
    require_coordinator(request)
    events = Event.objects.select_related("suggestion__session", "actor__staff_member",
                                          "actor__deputy").order_by("-at", "-pk")
    action = request.GET.get("action", "")
    if action:
        events = events.filter(action=action)
    number = request.GET.get("number", "").strip()
    if number.isdigit():
        events = events.filter(suggestion__number=int(number))
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    actions = sorted({(name, workflow.action_label(name)) for name in workflow.known_actions()},
                     key=lambda item: item[1])
    return render(request, "suggestions/audit.html", {
        "page": page, "query": query.urlencode(), "actions": actions, "action": action,
        "number": number,
    })


# --- The project's own error pages ---

def bad_request(request, exception=None):
    return render(request, "errors/400.html", status=400)


def permission_denied(request, exception=None):
    return render(request, "errors/403.html", {"reason": exception}, status=403)


def page_not_found(request, exception=None):
    return render(request, "errors/404.html", status=404)


def server_error(request):
    return render(request, "errors/500.html", status=500)


def csrf_failure(request, reason=""):
    return render(request, "errors/csrf.html", status=403)
