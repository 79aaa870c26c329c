"""Public verification of signed letters, and the bulk export screens for the congress office.

The export views only create a job and show its progress; the work runs in the task worker.
"""

from __future__ import annotations

import hmac
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from core.formatting import chinese_date, format_code
from core.http import pdf_response
from core.roles import Role, role_of
from replies.models import Reply
from suggestions.workflow import record_event

from .models import ExportJob
from .tasks import replies_for_job, run_export_job

CODE_ALPHABET = re.compile(r"[^A-Z0-9]")
# Refresh the progress page this often (seconds) while the export runs.
PROGRESS_REFRESH = 2


def normalize_code(raw: str) -> str:
    """'abcd-efgh jkmn' → 'ABCDEFGHJKMN'."""
    return CODE_ALPHABET.sub("", (raw or "").upper())[:20]


@require_GET
def verify_form(request: HttpRequest) -> HttpResponse:
    code = normalize_code(request.GET.get("code", ""))
    if code:
        return redirect("documents:verify", code=code)
    return render(request, "documents/verify_form.html", {"submitted": "code" in request.GET})


@require_GET
def verify(request: HttpRequest, code: str) -> HttpResponse:
    """What a QR code on a signed letter opens: the letter's identity and its fingerprint."""
    normalized = normalize_code(code)
    reply = (
        Reply.objects.signed()
        .select_related("suggestion__session", "issuing_unit")
        .filter(verification_code=normalized)
        .first()
        if normalized else None
    )
    if reply is None:
        return render(
            request, "documents/verify.html", {"code": code, "reply": None}, status=404
        )
    # A keyed fingerprint (HMAC-SHA256 with VERIFICATION_KEY) of everything this page shows.
    recomputed = reply.compute_hash()
    return render(request, "documents/verify.html", {
        "code": format_code(reply.verification_code),
        "reply": reply,
        "suggestion": reply.suggestion,
        "letter_date": chinese_date(reply.letter_date),
        "stored_hash": reply.content_hash,
        "recomputed_hash": recomputed,
        "genuine": bool(reply.content_hash)
        and hmac.compare_digest(recomputed.encode(), reply.content_hash.encode()),
        # A genuine letter may still have been replaced by a later signed version.
        "superseded_by": Reply.objects.superseding(reply),
    })


# --- One document as PDF (the letter and the record pages link here) ---

@login_required
def reply_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    from replies.views import visible_reply

    from .pdf import render_reply_pdf

    reply = visible_reply(request, pk)
    pdf = render_reply_pdf(reply)
    record_event(reply.suggestion, actor=request.user, action="pdf_export", internal=True,
                 object_label=str(reply))
    return pdf_response(pdf, reply.pdf_filename(), inline=request.GET.get("download") != "1")


@login_required
def consultation_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    from consultations.views import visible_record

    from .pdf import render_consultation_pdf

    record = visible_record(request, pk)
    pdf = render_consultation_pdf(record)
    record_event(record.suggestion, actor=request.user, action="pdf_export", internal=True,
                 object_label=f"面商记录表 {record.held_on:%Y-%m-%d}")
    filename = f"{record.suggestion.reference}面商记录表（{record.held_on:%Y-%m-%d}）.pdf"
    return pdf_response(pdf, filename, inline=request.GET.get("download") != "1")


# --- Bulk export ----------------------------------------------------------------------------

def can_export(user) -> bool:
    return role_of(user) in (Role.ADMIN, Role.OFFICE)


def require_exporter(request: HttpRequest) -> None:
    if not can_export(request.user):
        raise PermissionDenied(_("Only the congress office can export replies in bulk."))


def visible_job(request: HttpRequest, pk) -> ExportJob:
    """Superusers see every export; congress office users their own; anyone else nothing."""
    role = role_of(request.user)
    if role == Role.ADMIN:
        jobs = ExportJob.objects.all()
    elif role == Role.OFFICE:
        jobs = ExportJob.objects.filter(created_by=request.user)
    else:
        raise Http404
    return get_object_or_404(jobs, pk=pk)


def _filters_from(request: HttpRequest) -> dict[str, list[str]]:
    params = request.GET.copy()
    params.pop("page", None)
    filters = {key: [value for value in params.getlist(key) if value] for key in params}
    return {key: values for key, values in filters.items() if values}


def _describe(filterset) -> str:
    parts = []
    for name, field in filterset.form.fields.items():
        value = filterset.form.cleaned_data.get(name)
        if value not in (None, "", [], False):
            parts.append(f"{field.label}: {value}")
    return "; ".join(parts)


@login_required
@require_http_methods(["GET", "POST"])
def export_start(request: HttpRequest) -> HttpResponse:
    """GET: how many signed letters the list's filters select; POST: export them in a zip."""
    require_exporter(request)
    from suggestions.filters import SuggestionFilter
    from suggestions.models import Suggestion

    filters = _filters_from(request)
    filterset = SuggestionFilter(request.GET, queryset=Suggestion.objects.visible_to(request.user))
    if not filterset.is_valid():
        messages.error(request, _("Some filters were not valid; correct them and try again."))
        return redirect("suggestions:list")
    probe = ExportJob(created_by=request.user, filters=filters)
    count = replies_for_job(probe).count()
    if request.method == "GET":
        return render(request, "documents/export_start.html", {
            "count": count, "description": _describe(filterset), "query": request.GET.urlencode(),
        })
    if count == 0:
        messages.error(request, _("No signed replies match these filters; nothing to export."))
        return redirect(f"{_list_url()}?{request.GET.urlencode()}")
    job = ExportJob.objects.create(
        created_by=request.user, filters=filters, description=_describe(filterset), total=count
    )
    result = run_export_job.enqueue(str(job.pk))
    ExportJob.objects.filter(pk=job.pk).update(task_id=str(result.id)[:64])
    return redirect("documents:export_job", pk=job.pk)


def _list_url() -> str:
    from django.urls import reverse

    return reverse("suggestions:list")


@login_required
@require_GET
def export_job(request: HttpRequest, pk) -> HttpResponse:
    job = visible_job(request, pk)
    return render(request, "documents/export_job.html", {
        "job": job, "refresh": None if job.is_finished else PROGRESS_REFRESH,
    })


@login_required
@require_GET
def export_download(request: HttpRequest, pk) -> HttpResponse:
    job = visible_job(request, pk)
    path = job.path
    if job.status != ExportJob.Status.DONE or path is None or not path.is_file():
        raise Http404(_("This export is not ready."))
    filename = f"答复函导出-{job.created_at:%Y%m%d-%H%M}.zip"
    response = FileResponse(
        path.open("rb"), as_attachment=True, filename=filename, content_type="application/zip"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response

