"""Reply screens: the editor, submit for sign-off, sign-off, send, PDF, and evaluation."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import rules
from core.formatting import body_blocks
from core.http import perform
from core.locking import StaleEdit
from core.rules import WorkflowError
from suggestions.models import Rating, Status
from suggestions.views import visible_suggestion

from . import services
from .forms import EvaluationForm, PaperEvaluationForm, ReplyForm, ReturnForm
from .models import Evaluation, Reply, ReplyStatus


def visible_reply(request: HttpRequest, pk: int) -> Reply:
    queryset = Reply.objects.visible_to(request.user).select_related(
        "suggestion__session", "suggestion__lead_deputy", "issuing_unit"
    )
    return get_object_or_404(queryset, pk=pk)


@login_required
@require_POST
def reply_create(request: HttpRequest, suggestion_pk: int) -> HttpResponse:
    suggestion = visible_suggestion(request, suggestion_pk)
    try:
        reply = services.reply_create_draft(suggestion=suggestion, user=request.user)
    except WorkflowError as error:
        # A double click: the first click made the draft; the second goes to it too.
        draft = Reply.objects.visible_to(request.user).filter(
            suggestion=suggestion, status__in=services.UNSIGNED, created_by=request.user,
        ).first()
        if draft is not None:
            return redirect("replies:edit", pk=draft.pk)
        messages.error(request, error.message)
        return redirect("suggestions:detail", pk=suggestion.pk)
    messages.success(request, _("Draft created from the unit's template."))
    return redirect("replies:edit", pk=reply.pk)


@login_required
def reply_detail(request: HttpRequest, pk: int) -> HttpResponse:
    reply = visible_reply(request, pk)
    user = request.user
    moves = rules.available_moves(reply, user)
    superseded_by = (
        Reply.objects.filter(suggestion=reply.suggestion_id, version__gt=reply.version)
        .exclude(status=ReplyStatus.WITHDRAWN).order_by("version").first()
    )
    paper_form = PaperEvaluationForm(reply=reply) if "rate_paper" in moves else None
    if paper_form is not None and not paper_form.fields["deputy"].queryset.exists():
        paper_form = None
    return render(request, "replies/detail.html", {
        "reply": reply,
        "suggestion": reply.suggestion,
        "blocks": body_blocks(reply.body or ""),  # as the PDF shows them: headings, bold runs
        "superseded_by": superseded_by,
        "moves": moves,
        "evaluation_form": EvaluationForm() if "rate" in moves else None,
        "paper_form": paper_form,
        "return_form": ReturnForm(),
        "evaluations": reply.evaluations.select_related("deputy"),
    })


def _conflicts(form: ReplyForm, saved: Reply) -> list[tuple[str, str, str]]:
    """(field, saved text, the user's text) for each field saved differently meanwhile."""
    rows = []
    for name in services.EDITABLE_FIELDS:
        if name not in form.fields:
            continue
        mine = form.cleaned_data.get(name) if hasattr(form, "cleaned_data") else None
        ours, theirs = str(mine or ""), str(getattr(saved, name) or "")
        if ours != theirs:
            rows.append((str(form.fields[name].label), theirs, ours))
    return rows


@login_required
def reply_edit(request: HttpRequest, pk: int) -> HttpResponse:
    reply = visible_reply(request, pk)
    try:
        rules.check(reply, "edit", request.user)
    except WorkflowError as error:
        messages.error(request, error.message)
        return redirect("replies:detail", pk=pk)
    form = ReplyForm(request.POST or None, instance=reply)
    conflicts = None
    if request.method == "POST" and form.is_valid():
        expected = form.cleaned_data.get("lock_version")
        try:
            services.reply_update_draft(
                reply=Reply.objects.get(pk=pk), user=request.user, data=form.cleaned_data,
                expected_version=expected if expected is not None else -1,
            )
        except StaleEdit as error:
            # Show what was saved meanwhile beside the user's text; the form now carries the
            # current version, so saving again (having seen it) goes through.
            saved = Reply.objects.get(pk=pk)
            conflicts = _conflicts(form, saved)
            data = request.POST.copy()
            data["lock_version"] = saved.lock_version
            form = ReplyForm(data, instance=saved)
            form.is_valid()
            form.add_error(None, error.message)
        except WorkflowError as error:
            messages.error(request, error.message)
            return redirect("replies:detail", pk=pk)
        else:
            messages.success(request, _("Draft saved."))
            if "submit" in request.POST:
                return _act(request, reply, "submit", _("Submitted for sign-off."))
            return redirect("replies:edit", pk=pk)
    return render(request, "replies/edit.html", {
        "form": form, "reply": reply, "suggestion": reply.suggestion, "conflicts": conflicts,
        "co_handlings": reply.suggestion.co_handlings.select_related("unit"),
        "consultations": reply.suggestion.consultations.all(),
    })


def _act(request: HttpRequest, reply: Reply, name: str, done: str, **params) -> HttpResponse:
    perform(request, done, rules.run, reply, name, user=request.user, **params)
    return redirect("replies:detail", pk=reply.pk)


@login_required
@require_POST
def reply_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, visible_reply(request, pk), "submit", _("Submitted for sign-off."))


@login_required
@require_POST
def reply_return(request: HttpRequest, pk: int) -> HttpResponse:
    form = ReturnForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    return _act(request, visible_reply(request, pk), "return", _("Returned to the handler."),
                note=note)


@login_required
@require_POST
def reply_sign(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, visible_reply(request, pk), "sign",
                _("Signed off. The letter is now frozen."))


@login_required
@require_POST
def reply_send(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, visible_reply(request, pk), "send", _("Marked as sent to the deputies."))


@login_required
@require_POST
def reply_evaluate(request: HttpRequest, pk: int) -> HttpResponse:
    reply = visible_reply(request, pk)
    deputy = getattr(request.user, "deputy", None)
    form = EvaluationForm(request.POST)
    if deputy is None:
        messages.error(request, _("Only deputies evaluate replies online."))
    elif not form.is_valid():
        messages.error(request, _("Choose a rating for both the attitude and the result."))
    else:
        try:
            evaluation = services.reply_evaluate(
                reply=reply, user=request.user, deputy=deputy,
                source=Evaluation.Source.ONLINE, **form.cleaned_data,
            )
        except WorkflowError as error:
            messages.error(request, error.message)
        else:
            reply.suggestion.refresh_from_db(fields=["status"])
            if evaluation.result == Rating.UNSATISFIED and reply.suggestion.status == Status.REHANDLING:
                messages.success(request, _("Thank you. The suggestion goes back to the unit "
                                            "for re-handling and a new reply."))
            else:
                messages.success(request, _("Thank you for your evaluation."))
    return redirect("replies:detail", pk=pk)


@login_required
@require_POST
def reply_evaluate_paper(request: HttpRequest, pk: int) -> HttpResponse:
    """The office records a rating given on paper, for a deputy without a login."""
    reply = visible_reply(request, pk)
    if "rate_paper" not in rules.available_moves(reply, request.user):
        messages.error(request, _("Only the congress office records paper evaluations."))
        return redirect("replies:detail", pk=pk)
    form = PaperEvaluationForm(request.POST, reply=reply)
    if not form.is_valid():
        messages.error(request, _("Choose the deputy and a rating for both the attitude and "
                                  "the result."))
        return redirect("replies:detail", pk=pk)
    data = form.cleaned_data
    perform(
        request, _("Evaluation recorded."), services.reply_evaluate,
        reply=reply, user=request.user, deputy=data["deputy"], attitude=data["attitude"],
        result=data["result"], comment=data["comment"], source=Evaluation.Source.PAPER,
    )
    return redirect("replies:detail", pk=pk)
