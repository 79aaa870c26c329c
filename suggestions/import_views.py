"""The office's import of an assignment list (交办清单): upload, preview, commit, template.

The uploaded file is kept server-side (``MEDIA_ROOT/imports/<uuid>``, its name in the
uploader's session) between the preview and the commit; the commit posts only that id, and
the rows are read again from the stored file, never from the browser. The id is also the
commit's one-time token (``core.forms.submit_once``), so a double click imports once and the
second click is sent where the first one went.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from core.forms import AlreadySubmitted, previous_submission, redirect_to_first, submit_once

from . import importing
from .views import require_coordinator

SESSION_KEY = "suggestion_imports"
KEEP_SECONDS = 24 * 3600  # a preview left without committing is forgotten after a day
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Assignment list (.xlsx or .csv)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if refusal := importing.too_large(upload.size):
            raise forms.ValidationError(refusal)  # before reading it into memory
        data = upload.read()
        try:
            importing.sniff(data, upload.name)
        except importing.ImportFileError as error:
            raise forms.ValidationError(error.message) from None
        self.data_bytes = data
        return upload


class CommitForm(forms.Form):
    form_token = forms.UUIDField(widget=forms.HiddenInput)


def _folder() -> Path:
    return Path(settings.MEDIA_ROOT) / "imports"


def _path(upload_id: uuid.UUID) -> Path:
    return _folder() / upload_id.hex


def _store(request: HttpRequest, data: bytes, name: str) -> uuid.UUID:
    _prune()
    upload_id = uuid.uuid4()
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    _path(upload_id).write_bytes(data)
    uploads = request.session.get(SESSION_KEY, {})
    uploads[upload_id.hex] = {"name": name[:200], "at": time.time()}
    request.session[SESSION_KEY] = uploads
    return upload_id


def _stored(request: HttpRequest, token: str) -> tuple[uuid.UUID, str, bytes] | None:
    """The upload ``token`` names, if this user's session holds it and its file is there."""
    try:
        upload_id = uuid.UUID(token)
    except (TypeError, ValueError):
        return None
    entry = request.session.get(SESSION_KEY, {}).get(upload_id.hex)
    if entry is None:
        return None
    try:
        return upload_id, entry["name"], _path(upload_id).read_bytes()
    except OSError:
        return None


def _forget(request: HttpRequest, upload_id: uuid.UUID) -> None:
    uploads = request.session.get(SESSION_KEY, {})
    if uploads.pop(upload_id.hex, None) is not None:
        request.session[SESSION_KEY] = uploads
    _path(upload_id).unlink(missing_ok=True)


def _prune() -> None:
    folder = _folder()
    if not folder.is_dir():
        return
    limit = time.time() - KEEP_SECONDS
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < limit:
                path.unlink()
        except OSError:
            pass  # another process removed it first


def _preview(request: HttpRequest, plan: importing.Plan, upload_id: uuid.UUID | None) -> HttpResponse:
    # The hook for "similar suggestions" (suggestions.search.similar_to): each new row's
    # ``similar`` is filled when that function exists, and stays [] otherwise.
    similar = importing.add_similar(plan)
    return render(request, "suggestions/import_preview.html", {
        "plan": plan, "counts": plan.counts, "similar": similar,
        "commit_form": CommitForm(initial={"form_token": upload_id}) if upload_id else None,
        "headings": importing.HEADING, "due_months": settings.REPLY_DUE_MONTHS,
    })


@login_required
def suggestion_import(request: HttpRequest) -> HttpResponse:
    """GET: the upload form. POST with a file: the preview. POST with a token: the commit."""
    require_coordinator(request)
    if request.method == "POST" and "form_token" in request.POST:
        return _commit(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        name = form.cleaned_data["file"].name
        try:
            plan = importing.plan(form.data_bytes, name)
        except importing.ImportFileError as error:
            form.add_error("file", error.message)
        else:
            upload_id = _store(request, form.data_bytes, name) if plan.ok and plan.writes else None
            return _preview(request, plan, upload_id)
    return render(request, "suggestions/import.html", {
        "form": form, "limit": settings.UPLOAD_MAX_BYTES, "headings": importing.HEADING,
        "required": [importing.HEADING[key] for key in importing.REQUIRED],
    })


def _commit(request: HttpRequest) -> HttpResponse:
    if first_url := previous_submission(request):
        return redirect(first_url)  # a double click, arriving after the first one finished
    form = CommitForm(request.POST)
    stored = _stored(request, request.POST.get("form_token", "")) if form.is_valid() else None
    if stored is None:
        messages.error(request, _("This preview has expired or was already imported; "
                                  "upload the file again."))
        return redirect("suggestions:import")
    upload_id, name, data = stored

    def create():
        result = importing.commit(data, name, user=request.user)
        sessions = {row.session.pk for row in result.rows if row.session is not None}
        url = reverse("suggestions:list")
        if len(sessions) == 1:
            url += f"?session={sessions.pop()}"
        return result, url

    try:
        result = submit_once(form, request.user, create)
    except AlreadySubmitted as first:
        return redirect_to_first(first, reverse("suggestions:list"))
    except importing.ImportRefused as refused:
        messages.error(request, _("The suggestions changed since the preview; nothing was "
                                  "imported. Correct the file and upload it again."))
        _forget(request, upload_id)
        return _preview(request, refused.plan, None)
    except importing.ImportFileError as error:
        messages.error(request, error.message)
        _forget(request, upload_id)
        return redirect("suggestions:import")
    except importing.ImportConflict as conflict:
        messages.error(request, conflict.message)
        return redirect("suggestions:import")
    except IntegrityError:
        messages.error(request, _("Some of these numbers were registered at the same time by "
                                  "someone else; nothing was imported. Upload the file again."))
        return redirect("suggestions:import")
    _forget(request, upload_id)
    counts = result.counts
    messages.success(request, _("Imported %(name)s: %(create)d created, %(assign)d assigned, "
                                "%(unchanged)d unchanged.") % dict(counts, name=name))
    return redirect(previous_submission(request) or reverse("suggestions:list"))


@login_required
@require_GET
def import_template(request: HttpRequest) -> HttpResponse:
    require_coordinator(request)
    response = HttpResponse(importing.template_workbook(), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, "交办清单模板.xlsx")
    return response
