"""The public's pages (no login) and the office's publication controls."""

from __future__ import annotations

import copy
import hashlib
from itertools import chain

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from core import rules
from core.formatting import body_blocks
from core.http import pdf_response, perform
from replies.models import Reply
from suggestions import search as text_search
from suggestions.models import CongressSession, HandlingUnit

from . import services
from .models import Publication, public_version


class PublicSearchForm(forms.Form):
    session = forms.ModelChoiceField(
        label=gettext_lazy("Session"), queryset=CongressSession.objects.all(), required=False,
        empty_label=gettext_lazy("All"),
    )
    unit = forms.ModelChoiceField(
        label=gettext_lazy("Handling unit"), queryset=HandlingUnit.objects.all(), required=False,
        empty_label=gettext_lazy("All"),
    )
    number = forms.IntegerField(label=gettext_lazy("Number"), required=False, min_value=1)
    q = forms.CharField(label=gettext_lazy("Full text"), required=False, max_length=100)


def published() -> object:
    return Publication.objects.public().select_related(
        "reply__suggestion__session", "reply__issuing_unit"
    )


# Counting every published letter reads the whole table (~30–60 ms at 10^5, on every page
# anyone opens): the count of a selection is kept until a publication changes (for an hour at
# most). The rows are always read live.
PUBLIC_COUNT_SECONDS = 3600


def public_count(found) -> int:
    sql, params = found.order_by().values("pk").query.sql_with_params()
    key = "public-count:" + hashlib.sha256(
        repr((sql, params, public_version())).encode()).hexdigest()
    count = cache.get(key)
    if count is None:
        count = found.order_by().count()
        cache.set(key, count, PUBLIC_COUNT_SECONDS)
    return count


@require_GET
def public_list(request: HttpRequest) -> HttpResponse:
    form = PublicSearchForm(request.GET or None)
    found = published().defer("public_text", "search_document")
    if form.is_valid():
        data = form.cleaned_data
        if data["session"]:
            found = found.filter(reply__suggestion__session=data["session"])
        if data["unit"]:
            found = found.filter(reply__issuing_unit=data["unit"])
        if data["number"]:
            found = found.filter(reply__suggestion__number=data["number"])
        # Only the published (redacted) words are in the search document: nothing removed
        # can be found. Every term must match; two-character words are an index lookup.
        terms = text_search.parse(data["q"] or "")
        condition = text_search.text_condition(
            found, chain.from_iterable(t.exact for t in terms),
            chain.from_iterable(t.prefixes for t in terms),
        ) if terms else None
        if condition is not None:
            found = found.filter(condition)
    paginator = Paginator(found.order_by("-publish_on", "-pk"), 20)
    paginator.count = public_count(found)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "publication/list.html", {
        "form": form, "page": page, "query": query.urlencode(),
    })


@require_GET
def public_detail(request: HttpRequest, pk: int) -> HttpResponse:
    publication = get_object_or_404(published(), pk=pk)
    letter = services.public_letter(publication)
    return render(request, "publication/detail.html", {
        "publication": publication, "reply": publication.reply, "letter": letter,
        "blocks": body_blocks(letter["body"]),
        "suggestion": publication.reply.suggestion,
    })


@require_GET
def public_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    from documents.pdf import render_reply_pdf

    publication = get_object_or_404(published(), pk=pk)
    # The letter as published: the same layout, the removed passages and contact details
    # replaced; never saved.
    letter = copy.copy(publication.reply)
    for name, value in services.public_letter(publication).items():
        setattr(letter, name, value)
    return pdf_response(render_reply_pdf(letter), publication.reply.pdf_filename(),
                        inline=request.GET.get("download") != "1")


def _office_action(request: HttpRequest, pk: int, name: str, done: str, **params) -> HttpResponse:
    reply = get_object_or_404(Reply.objects.visible_to(request.user), publication__pk=pk)
    perform(request, done, rules.run, reply.publication, name, user=request.user, **params)
    return redirect("replies:detail", pk=reply.pk)


@login_required
@require_POST
def withhold(request: HttpRequest, pk: int) -> HttpResponse:
    return _office_action(request, pk, "withhold", _("The reply is withheld from publication."),
                          note=request.POST.get("note", ""))


@login_required
@require_POST
def republish(request: HttpRequest, pk: int) -> HttpResponse:
    return _office_action(request, pk, "republish", _("The reply is published again."),
                          note=request.POST.get("note", ""))


@login_required
@require_POST
def redact(request: HttpRequest, pk: int) -> HttpResponse:
    return _office_action(request, pk, "redact", _("The passage is removed from the published letter."),
                          passage=request.POST.get("passage", ""))
