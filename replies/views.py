"""Reply screens: the editor, submit for sign-off, sign-off, send, PDF, and evaluation."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.http import pdf_response, perform
from core.locking import StaleEdit
from core.roles import Role, role_of, user_unit_id
from documents.formatting import body_blocks
from suggestions.views import visible_suggestion
from suggestions.workflow import WorkflowError, record_event

from . import services
from .forms import EvaluationForm, PaperEvaluationForm, ReplyForm, ReturnForm
from .models import Evaluation, Reply, ReplyStatus


def visible_reply(request: HttpRequest, pk: int) -> Reply:
    queryset = Reply.objects.visible_to(request.user).select_related(
        "suggestion__session", "suggestion__lead_deputy", "issuing_unit"
    )
    return get_object_or_404(queryset, pk=pk)


def _is_issuer(user, reply: Reply) -> bool:
    return role_of(user) in (Role.HANDLER, Role.HEAD) and user_unit_id(user) == reply.issuing_unit_id


@login_required
@require_POST
def reply_create(request: HttpRequest, suggestion_pk: int) -> HttpResponse:
    suggestion = visible_suggestion(request, suggestion_pk)
    try:
        reply = services.reply_create_draft(suggestion=suggestion, user=request.user)
    except WorkflowError as error:
        messages.error(request, error.message)
        return redirect("suggestions:detail", pk=suggestion.pk)
    messages.success(request, _("Draft created from the unit's template."))
    return redirect("replies:edit", pk=reply.pk)


@login_required
def reply_detail(request: HttpRequest, pk: int) -> HttpResponse:
    reply = visible_reply(request, pk)
    user = request.user
    role = role_of(user)
    deputy = getattr(user, "deputy", None)
    latest = services.current_reply(reply.suggestion)
    can_evaluate = (
        role == Role.DEPUTY and reply.status == ReplyStatus.SENT and latest.pk == reply.pk
        and not reply.evaluations.filter(deputy=deputy).exists()
    )
    issuer = _is_issuer(user, reply)
    return render(request, "replies/detail.html", {
        "reply": reply,
        "suggestion": reply.suggestion,
        "blocks": body_blocks(reply.body or ""),  # as the PDF shows them: headings, bold runs
        "is_latest": latest.pk == reply.pk,
        "can_edit": issuer and reply.status == ReplyStatus.DRAFT,
        "can_submit": issuer and reply.status == ReplyStatus.DRAFT,
        "can_sign": role == Role.HEAD and issuer and reply.status == ReplyStatus.PENDING,
        "can_send": reply.status == ReplyStatus.SIGNED and latest.pk == reply.pk
        and (issuer or role in (Role.OFFICE, Role.ADMIN)),
        "can_evaluate": can_evaluate,
        "evaluation_form": EvaluationForm() if can_evaluate else None,
        "paper_form": _paper_form(reply, user, latest),
        "return_form": ReturnForm(),
        "evaluations": reply.evaluations.select_related("deputy"),
        "co_handlings": reply.suggestion.co_handlings.select_related("unit") if issuer else [],
    })


def _paper_form(reply: Reply, user, latest: Reply) -> PaperEvaluationForm | None:
    if role_of(user) not in (Role.OFFICE, Role.ADMIN) or reply.status != ReplyStatus.SENT:
        return None
    form = PaperEvaluationForm(reply=reply)
    return form if latest.pk == reply.pk and form.fields["deputy"].queryset.exists() else None


@login_required
def reply_edit(request: HttpRequest, pk: int) -> HttpResponse:
    reply = visible_reply(request, pk)
    if not _is_issuer(request.user, reply):
        messages.error(request, _("Only the issuing unit can edit this reply."))
        return redirect("replies:detail", pk=pk)
    if reply.is_frozen:
        messages.error(request, _("This reply is signed and can no longer be edited; "
                                  "create a new version instead."))
        return redirect("replies:detail", pk=pk)
    form = ReplyForm(request.POST or None, instance=reply)
    if request.method == "POST" and form.is_valid():
        expected = form.cleaned_data.get("lock_version")
        try:
            services.reply_update_draft(
                reply=Reply.objects.get(pk=pk), user=request.user, data=form.cleaned_data,
                expected_version=expected if expected is not None else -1,
            )
        except StaleEdit as error:
            form.add_error(None, error.message)
        except WorkflowError as error:
            messages.error(request, error.message)
            return redirect("replies:detail", pk=pk)
        else:
            messages.success(request, _("Draft saved."))
            if "submit" in request.POST:
                return _act(request, reply, services.reply_submit, _("Submitted for sign-off."))
            return redirect("replies:edit", pk=pk)
    return render(request, "replies/edit.html", {
        "form": form, "reply": reply, "suggestion": reply.suggestion,
        "co_handlings": reply.suggestion.co_handlings.select_related("unit"),
        "consultations": reply.suggestion.consultations.all(),
    })


def _act(request: HttpRequest, reply: Reply, action: Callable, done: str, **kwargs) -> HttpResponse:
    perform(request, done, action, reply=reply, user=request.user, **kwargs)
    return redirect("replies:detail", pk=reply.pk)


@login_required
@require_POST
def reply_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, visible_reply(request, pk), services.reply_submit,
                _("Submitted for sign-off."))


@login_required
@require_POST
def reply_return(request: HttpRequest, pk: int) -> HttpResponse:
    form = ReturnForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    return _act(request, visible_reply(request, pk), services.reply_return,
                _("Returned to the handler."), note=note)


@login_required
@require_POST
def reply_sign(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, visible_reply(request, pk), services.reply_sign,
                _("Signed off. The letter is now frozen."))


@login_required
@require_POST
def reply_send(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, visible_reply(request, pk), services.reply_send,
                _("Marked as sent to the deputies."))


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
            if evaluation.is_unsatisfied:
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
    if role_of(request.user) not in (Role.OFFICE, Role.ADMIN):
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


@login_required
def reply_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    from documents.pdf import render_reply_pdf

    reply = visible_reply(request, pk)
    pdf = render_reply_pdf(reply)
    record_event(reply.suggestion, actor=request.user, action="pdf_export", internal=True,
                 object_label=str(reply))
    return pdf_response(pdf, reply.pdf_filename(), inline=request.GET.get("download") != "1")

