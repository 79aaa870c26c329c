"""Consultation records: log, edit (optimistic locking), confirm online, attachments, PDF."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import rules
from core.forms import AlreadySubmitted, previous_submission, redirect_to_first, submit_once
from core.http import perform
from core.locking import StaleEdit
from core.rules import WorkflowError
from core.sanitize import html_to_text
from suggestions.views import visible_suggestion

from . import services
from .forms import AttachmentForm, ConfirmForm, ConsultationForm
from .models import Attachment, Consultation


def visible_record(request: HttpRequest, pk: int) -> Consultation:
    queryset = Consultation.objects.visible_to(request.user).select_related(
        "suggestion__session", "suggestion__lead_unit", "deputy"
    )
    return get_object_or_404(queryset, pk=pk)


def _form_data(form: ConsultationForm) -> dict:
    return {name: form.cleaned_data[name] for name in services.RECORD_FIELDS}


@login_required
def consultation_create(request: HttpRequest, suggestion_pk: int) -> HttpResponse:
    suggestion = visible_suggestion(request, suggestion_pk)
    try:
        rules.check(suggestion, "log_consultation", request.user)
    except WorkflowError as error:
        messages.error(request, error.message)
        return redirect("suggestions:detail", pk=suggestion.pk)
    initial = {
        "attendee_phone": getattr(request.user.staff_member, "phone", ""),
        "held_on": timezone.localdate(),
        "content_summary": html_to_text(suggestion.content),
    }
    form = ConsultationForm(request.POST or None, suggestion=suggestion, initial=initial)
    if request.method == "POST" and (first_url := previous_submission(request)):
        return redirect(first_url)
    if request.method == "POST" and form.is_valid():
        def create():
            record = services.consultation_create(
                suggestion=suggestion, user=request.user, data=_form_data(form)
            )
            return record, reverse("consultations:detail", args=[record.pk])

        try:
            record = submit_once(form, request.user, create)
        except AlreadySubmitted as first:
            return redirect_to_first(first, reverse("suggestions:detail", args=[suggestion.pk]))
        except WorkflowError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Consultation record saved."))
            return redirect("consultations:detail", pk=record.pk)
    return render(request, "consultations/form.html", {"form": form, "suggestion": suggestion})


@login_required
def consultation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = visible_record(request, pk)
    moves = rules.available_moves(record, request.user)
    return render(request, "consultations/detail.html", {
        "record": record,
        "suggestion": record.suggestion,
        "moves": moves,
        "attachments": record.attachments.all(),
        "attachment_form": AttachmentForm() if "attach" in moves else None,
        "confirm_form": ConfirmForm(),
    })


@login_required
def consultation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    record = visible_record(request, pk)
    suggestion = record.suggestion
    try:
        rules.check(record, "edit", request.user)
    except WorkflowError as error:
        messages.error(request, error.message)
        return redirect("consultations:detail", pk=pk)
    form = ConsultationForm(request.POST or None, instance=record, suggestion=suggestion)
    conflicts = None
    if request.method == "POST" and form.is_valid():
        expected = form.cleaned_data.get("lock_version")
        try:
            services.consultation_update(
                record=Consultation.objects.get(pk=pk), user=request.user,
                data=_form_data(form),
                expected_version=expected if expected is not None else -1,
            )
        except StaleEdit as error:
            # The saved record beside the user's text; saving again, having seen it, works.
            saved = Consultation.objects.get(pk=pk)
            conflicts = [
                (str(form.fields[name].label), services.field_text(saved, name),
                 services.field_text(form.instance, name))
                for name in services.RECORD_FIELDS
                if services.field_text(saved, name) != services.field_text(form.instance, name)
            ]
            data = request.POST.copy()
            data["lock_version"] = saved.lock_version
            form = ConsultationForm(data, instance=saved, suggestion=suggestion)
            form.is_valid()
            form.add_error(None, error.message)
        except WorkflowError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Consultation record saved."))
            return redirect("consultations:detail", pk=pk)
    return render(request, "consultations/form.html", {
        "form": form, "suggestion": suggestion, "record": record, "conflicts": conflicts,
    })


@login_required
@require_POST
def consultation_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    record = visible_record(request, pk)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Tick the box to confirm the record."))
        return redirect("consultations:detail", pk=pk)
    perform(
        request, _("Thank you: the record is confirmed."), services.consultation_confirm,
        record=record, user=request.user, opinion=form.cleaned_data["opinion"],
    )
    return redirect("consultations:detail", pk=pk)


@login_required
@require_POST
def attachment_upload(request: HttpRequest, pk: int) -> HttpResponse:
    record = visible_record(request, pk)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("consultations:detail", pk=pk)
    perform(
        request, _("File uploaded."), services.attachment_add,
        record=record, user=request.user, upload=form.cleaned_data["file"],
        kind=form.cleaned_data["kind"], content_type=form.content_type,
    )
    return redirect("consultations:detail", pk=pk)


@login_required
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    attachment = get_object_or_404(
        Attachment.objects.filter(consultation__in=Consultation.objects.visible_to(request.user)),
        pk=pk,
    )
    response = FileResponse(
        attachment.file.open("rb"), as_attachment=True, filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
