"""``{% calendar_warning %}``: tells the congress office when the working calendar lacks this
year's or next year's holidays (deadlines there count weekends only)."""

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from core import calendar
from core.roles import is_coordinator

register = template.Library()


@register.simple_tag(takes_context=True)
def calendar_warning(context) -> str:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not is_coordinator(user):
        return ""
    missing = calendar.missing_years()
    if not missing:
        return ""
    years = "、".join(str(year) for year in missing)
    text = _(
        "The working calendar has no holidays for %(years)s yet: deadlines there count "
        "weekends only. An administrator enters that year's holidays and make-up working days "
        "in the administration and marks the year complete."
    ) % {"years": years}
    link = ""
    if user.has_perm("core.change_calendarday"):
        link = format_html(' <a href="{}">{}</a>', reverse("admin:core_calendarday_changelist"),
                           _("Working calendar"))
    return format_html('<p class="msg msg-warning calendar-warning" role="status">{}{}</p>', text, link)
