"""The suggestion page's consultation section asks here, so suggestions never imports
consultations."""

from django import template

from ..models import Consultation

register = template.Library()


@register.simple_tag(takes_context=True)
def visible_consultations(context, suggestion) -> list[Consultation]:
    user = context["request"].user
    return list(
        Consultation.objects.visible_to(user).filter(suggestion=suggestion).select_related("deputy")
    )
