"""The reply page's publication panel (office), so replies never imports publication."""

from django import template

from core import rules

from ..models import Publication

register = template.Library()


@register.inclusion_tag("publication/_panel.html", takes_context=True)
def publication_panel(context, reply) -> dict:
    user = context["request"].user
    publication = Publication.objects.filter(reply=reply).first()
    moves = rules.available_moves(publication, user) if publication else {}
    return {
        "publication": publication, "moves": moves, "csrf_token": context.get("csrf_token"),
        "is_public": publication.is_public if publication and moves else False,
    }
