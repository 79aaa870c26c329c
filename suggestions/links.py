"""Links the congress office makes between suggestions: similar (相似) or merged handling (并案).

``link`` and ``unlink`` are moves of the suggestion's machine (office and administrators, in
any status), so the rule engine decides who may; each writes an event on both suggestions,
naming the other one.
"""

from __future__ import annotations

from django import forms
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.rules import Move, WorkflowError

from .models import CongressSession, Suggestion, SuggestionLink
from .workflow import ALL_STATUSES, COORDINATORS, MACHINE, record_event


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def _line(kind: str, other: Suggestion, comment: str = "") -> str:
    text = f"{SuggestionLink.Kind(kind).label}：{other.reference}"
    return f"{text}\n{comment}" if comment else text


def _check_link(suggestion: Suggestion, user, params: dict) -> None:
    other = params.get("other")
    if other is None:
        raise WorkflowError(_("Choose the suggestion to link."))
    if other.pk == suggestion.pk:
        raise WorkflowError(_("A suggestion cannot be linked to itself."))
    if params.get("kind") not in SuggestionLink.Kind.values:
        raise WorkflowError(_("Choose how the suggestions are linked."))
    first, second = _pair(suggestion.pk, other.pk)
    if SuggestionLink.objects.filter(first_id=first, second_id=second).exists():
        raise WorkflowError(_("These suggestions are already linked."))


def _apply_link(suggestion: Suggestion, user, params: dict) -> SuggestionLink:
    other, kind = params["other"], params["kind"]
    comment = (params.get("comment") or "").strip()
    first, second = _pair(suggestion.pk, other.pk)
    try:
        with transaction.atomic():
            link = SuggestionLink.objects.create(
                first_id=first, second_id=second, kind=kind, note=comment, created_by=user
            )
    except IntegrityError:  # linked meanwhile by someone else
        raise WorkflowError(_("These suggestions are already linked.")) from None
    params["label"] = other.reference
    params["changes"] = _line(kind, other, comment)
    record_event(other, actor=user, action="link", note=_line(kind, suggestion, comment),
                 object_label=suggestion.reference, internal=True)
    return link


def _link_of(suggestion: Suggestion, params: dict) -> SuggestionLink | None:
    return (
        SuggestionLink.objects.filter(Q(first=suggestion) | Q(second=suggestion))
        .filter(pk=params.get("link_id")).select_related("first__session", "second__session")
        .first()
    )


def _check_unlink(suggestion: Suggestion, user, params: dict) -> None:
    if _link_of(suggestion, params) is None:
        raise WorkflowError(_("This link does not exist (any more)."))


def _apply_unlink(suggestion: Suggestion, user, params: dict) -> None:
    link = _link_of(suggestion, params)
    if link is None:
        raise WorkflowError(_("This link does not exist (any more)."))
    other = link.second if link.first_id == suggestion.pk else link.first
    comment = (params.get("comment") or "").strip()
    link.delete()
    params["label"] = other.reference
    params["changes"] = _line(link.kind, other, comment)
    record_event(other, actor=user, action="unlink", note=_line(link.kind, suggestion, comment),
                 object_label=suggestion.reference, internal=True)


MACHINE.add(
    Move("link", gettext_lazy("Link to another suggestion"), ALL_STATUSES, None, COORDINATORS,
         checks=(_check_link,), effects=(_apply_link,), internal=True, ui="", save_fields=()),
    Move("unlink", gettext_lazy("Remove a link between suggestions"), ALL_STATUSES, None,
         COORDINATORS, checks=(_check_unlink,), effects=(_apply_unlink,), internal=True, ui="",
         save_fields=()),
)


def links_of(suggestion: Suggestion) -> list[SuggestionLink]:
    """The suggestion's links, whichever side it is on; each with ``.other_suggestion``."""
    links = list(
        SuggestionLink.objects.filter(Q(first=suggestion) | Q(second=suggestion))
        .select_related("first__session", "second__session").order_by("created_at", "pk")
    )
    for link in links:
        link.other_suggestion = link.second if link.first_id == suggestion.pk else link.first
    return links


class LinkForm(forms.Form):
    """The suggestion to link: ``other`` (an id, from the similar list) or session and number."""

    other = forms.IntegerField(required=False, widget=forms.HiddenInput)
    session = forms.ModelChoiceField(
        label=gettext_lazy("Session"), queryset=CongressSession.objects.all(), required=False
    )
    number = forms.IntegerField(label=gettext_lazy("Number"), min_value=1, required=False)
    kind = forms.ChoiceField(label=gettext_lazy("Link as"), choices=SuggestionLink.Kind.choices,
                             initial=SuggestionLink.Kind.SIMILAR)
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=500)

    def __init__(self, *args, suggestions=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.suggestions = suggestions if suggestions is not None else Suggestion.objects.all()

    def clean(self):
        data = super().clean()
        found = self.suggestions.select_related("session")
        if data.get("other"):
            target = found.filter(pk=data["other"]).first()
        elif data.get("session") and data.get("number"):
            target = found.filter(session=data["session"], number=data["number"]).first()
        else:
            raise forms.ValidationError(_("Give the session and number of the suggestion to link."))
        if target is None:
            raise forms.ValidationError(_("There is no such suggestion."))
        data["target"] = target
        return data


SIMILAR_CACHE_SECONDS = 600


def detail_context(suggestion: Suggestion, moves: dict) -> dict:
    """The office's section of a suggestion's page: its links, and similar ones to link."""
    if "link" not in moves:
        return {}
    from .search import similar_to, with_similarity

    linked = links_of(suggestion)
    taken = {link.other_suggestion.pk for link in linked}
    limit = 5 + len(taken)
    # The ranking reads the search index and scores up to MAX_CANDIDATES texts (~30 ms at
    # 100,000): kept until this suggestion changes or another one is registered, and for
    # SIMILAR_CACHE_SECONDS at most (an edit of another suggestion's text).
    newest = Suggestion.objects.aggregate(top=Max("pk"))["top"]
    key = f"similar:{suggestion.pk}:{suggestion.updated_at.isoformat()}:{newest}:{limit}"
    scores = cache.get(key)
    if scores is None:
        scores = [(s.pk, s.similarity) for s in similar_to(
            suggestion.title, suggestion.content, session=suggestion.session,
            exclude_pk=suggestion.pk, limit=limit)]
        cache.set(key, scores, SIMILAR_CACHE_SECONDS)
    similar = with_similarity(scores)
    return {
        "links": linked,
        "similar": [s for s in similar if s.pk not in taken][:5],
        "link_form": LinkForm(initial={"session": suggestion.session_id}),
    }


def intake_check(form_class, data) -> tuple[forms.Form, list[Suggestion]]:
    """The register form again as typed (unbound, so no "required" errors yet), and the
    suggestions of the same and earlier sessions like its title and content."""
    from .search import similar_to

    initial = {}
    for name, field in form_class().fields.items():
        if getattr(field.widget, "allow_multiple_selected", False):
            initial[name] = data.getlist(name)
        elif name in data:
            initial[name] = data.get(name)
    raw_session = data.get("session", "")
    session = (CongressSession.objects.filter(pk=raw_session).first()
               if raw_session.isdigit() else None)
    return form_class(initial=initial), similar_to(
        data.get("title", ""), data.get("content", ""), session=session
    )
