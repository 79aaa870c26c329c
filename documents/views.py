"""Public verification of signed letters, and the bulk export screens for the congress office.

The export views only create a job and show its progress; the work runs in the task worker.
"""

from __future__ import annotations

import hmac
import logging
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import storages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from core.formatting import chinese_date, format_code
from core.http import pdf_response
from core.roles import Role, role_of
from core.rules import WorkflowError
from replies.models import Reply
from suggestions.workflow import record_event

from . import letters
from .models import ExportJob, SignedLetter
from .tasks import replies_for_job, run_export_job

logger = logging.getLogger(__name__)
CODE_ALPHABET = re.compile(r"[^A-Z0-9]")
# Refresh the progress page this often (seconds) while the export runs.
PROGRESS_REFRESH = 2
# A letter uploaded for checking may come with this much multipart framing (and the CSRF
# token) around it before the declared length alone refuses it.
UPLOAD_OVERHEAD = 64 * 1024


def normalize_code(raw: str) -> str:
    """'abcd-efgh jkmn' → 'ABCDEFGHJKMN'."""
    return CODE_ALPHABET.sub("", (raw or "").upper())[:20]


@csrf_exempt  # checked below, once the upload handler is in place (Django's upload docs)
@require_http_methods(["GET", "POST"])
def verify_form(request: HttpRequest) -> HttpResponse:
    """GET: the form (a code, or a PDF to upload); a code goes to its page. POST: an uploaded
    PDF, checked against the stored signed letters."""
    if request.method == "POST":
        limit = letters.upload_limit()
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if declared.isdigit() and int(declared) > limit + UPLOAD_OVERHEAD:
            # Refused before a byte of the body is read.
            return _upload_refused(request, _too_large(limit), status=413)
        request.upload_handlers = [letters.DigestUploadHandler(request, limit)]
        return _verify_upload(request)
    code = normalize_code(request.GET.get("code", ""))
    if code:
        return redirect("documents:verify", code=code)
    return render(request, "documents/verify_form.html", {
        "submitted": "code" in request.GET, "upload_limit": letters.upload_limit(),
    })


def _too_large(limit: int) -> str:
    return _("The file is too large to be a reply letter; the limit is %(limit)s.") % {
        "limit": filesizeformat(limit)}


def _upload_refused(request: HttpRequest, error: str, *, status: int = 400) -> HttpResponse:
    return render(request, "documents/verify_form.html", {
        "upload_error": error, "upload_limit": letters.upload_limit(),
    }, status=status)


@csrf_protect
def _verify_upload(request: HttpRequest) -> HttpResponse:
    """Is the uploaded file byte for byte a signed letter on record? Nothing is stored."""
    handler = request.upload_handlers[0]
    upload = request.FILES.get("file")
    if getattr(handler, "too_large", False):
        return _upload_refused(request, _too_large(handler.limit), status=413)
    if upload is None:
        return _upload_refused(request, _("Choose the PDF file of the letter to check."))
    if upload.size == 0:
        return _upload_refused(request, _("The file is empty."))
    if not letters.looks_like_pdf(upload):
        return _upload_refused(request, _(
            "This file is not a PDF. Upload the PDF file of the reply letter as you received it."))
    letter = letters.find_by_digest(upload.sha256)
    context = {"upload": upload, "letter": letter}
    if letter is not None:
        reply = letter.reply
        context.update({
            "reply": reply, "suggestion": reply.suggestion,
            "letter_date": chinese_date(reply.letter_date),
            "code": format_code(reply.verification_code),
            "superseded_by": Reply.objects.superseding(reply),
        })
    return render(request, "documents/verify_upload.html", context)


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
        # The file stored at signing (None for a letter signed before files were kept, until
        # its first download).
        "letter": SignedLetter.objects.filter(reply=reply).first(),
    })


# --- One document as PDF (the letter and the record pages link here) ---

@login_required
def reply_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    from replies.views import visible_reply

    from .pdf import render_reply_pdf

    reply = visible_reply(request, pk)
    # A signed letter is served as stored at sign-off (one signed earlier is stored now, at
    # its first download); drafts are rendered as they stand.
    try:
        letter = letters.letter_for(reply)
    except WorkflowError as error:
        logger.error("Reply %s: the signed letter could not be stored: %s", reply.pk, error)
        letter = None
    if letter is not None:
        try:
            pdf = letters.read_letter(letter)
        except letters.LetterError as error:
            logger.error("Reply %s: %s", reply.pk, error)
            return HttpResponse(
                _("The stored file of this signed letter is missing or damaged; it is not "
                  "served. Tell the administrator."),
                status=500, content_type="text/plain; charset=utf-8",
            )
    else:
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
    storage = storages["exports"]
    if job.status != ExportJob.Status.DONE or not job.file_name or not storage.exists(job.file_name):
        raise Http404(_("This export is not ready."))
    filename = f"答复函导出-{job.created_at:%Y%m%d-%H%M}.zip"
    response = FileResponse(
        storage.open(job.file_name, "rb"), as_attachment=True, filename=filename,
        content_type="application/zip",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response

