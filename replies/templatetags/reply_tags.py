"""The suggestion page's reply section asks here, so suggestions never imports replies."""

from django import template

from ..models import Reply

register = template.Library()


@register.simple_tag(takes_context=True)
def visible_replies(context, suggestion) -> list[Reply]:
    """The suggestion's replies the user may see, newest version first, with their ratings."""
    user = context["request"].user
    return list(
        Reply.objects.visible_to(user).filter(suggestion=suggestion).order_by("-version")
        .prefetch_related("evaluations__deputy")
    )
