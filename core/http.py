"""Small HTTP helpers shared by the apps."""

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header

from .rules import WorkflowError


def pdf_response(pdf: bytes, filename: str, *, inline: bool = True) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(not inline, filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def perform(request: HttpRequest, done: str, action: Callable, /, *args, **kwargs) -> bool:
    """Call a workflow service for a view: success shows ``done``, a refusal its reason.

    Returns whether the action went through, so the view can choose where to go next.
    """
    try:
        action(*args, **kwargs)
    except WorkflowError as error:
        messages.error(request, error.message)
        return False
    messages.success(request, done)
    return True
