"""Create forms that are idempotent against double clicks and concurrent retries."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django import forms
from django.db import IntegrityError, transaction
from django.http import HttpResponseRedirect

from .models import SubmittedForm


class OnceMixin:
    """For a form class: a hidden one-time token, fresh each time the empty form is shown.

    Optional, so that a client without it (a script) still works, just without the guard.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["form_token"] = forms.UUIDField(
            widget=forms.HiddenInput, initial=uuid.uuid4, required=False
        )


class AlreadySubmitted(Exception):
    def __init__(self, url: str):
        super().__init__(url)
        self.url = url


def submit_once(form: forms.Form, user, create: Callable[[], tuple[object, str]]):
    """Run ``create`` (returning the new object and the URL to go to) at most once per token.

    The token is claimed in the same transaction as the create: if the create fails, the
    token is free again for the corrected form. A second submission of a used token raises
    AlreadySubmitted with the first one's URL; a concurrent one waits for the first to commit.
    """
    token = form.cleaned_data.get("form_token")
    if token is None:
        with transaction.atomic():
            return create()[0]
    with transaction.atomic():
        try:
            with transaction.atomic():
                claim = SubmittedForm.objects.create(token=token, user=user)
        except IntegrityError:
            first = SubmittedForm.objects.filter(token=token, user=user).first()
            raise AlreadySubmitted(first.result_url if first else "") from None
        obj, url = create()
        claim.result_url = url
        claim.save(update_fields=["result_url"])
    return obj


def previous_submission(request) -> str | None:
    """Where this form's token went, if the user already submitted it (a double click that
    arrives after the first one was saved), else None."""
    token = request.POST.get("form_token", "")
    try:
        token = uuid.UUID(token)
    except ValueError:
        return None
    first = SubmittedForm.objects.filter(token=token, user=request.user).first()
    return (first.result_url or None) if first else None


def redirect_to_first(error: AlreadySubmitted, fallback: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(error.url or fallback)
