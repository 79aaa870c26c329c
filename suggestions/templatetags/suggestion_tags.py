from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext

from core.formatting import chinese_date
from core.sanitize import sanitize_html
from suggestions.models import AWAITING_REPLY, due_soon_horizon

register = template.Library()


@register.filter
def clean_html(value: str) -> str:
    """Content is sanitized on input; cleaning again on output keeps old or imported rows safe."""
    return mark_safe(sanitize_html(value))  # noqa: S308  (nh3 output has no active content)


@register.filter
def cn_date(value) -> str:
    """2022年6月21日: the written form used in documents, without zero padding."""
    return chinese_date(value)


@register.simple_tag
def todo_link(group, suggestion) -> str:
    """Where a to-do item's action is: the letter or record it concerns, else the suggestion."""
    from django.urls import reverse

    target_pk = getattr(suggestion, "target_pk", None)
    if group.target is not None and target_pk:
        model, _move = group.target
        return reverse(f"{model._meta.app_label}:detail", args=[target_pk])
    return reverse("suggestions:detail", args=[suggestion.pk])


@register.simple_tag(takes_context=True)
def days_left_tag(context, suggestion) -> str:
    """剩余N天 / 今天到期 / 超期N天 for a suggestion awaiting a reply (nothing otherwise),
    marked "soon" within the due-soon window of the list's filter and the reminders. A plain
    tag, not a template: the list and the to-do show it on every row."""
    if not suggestion.due_on or suggestion.status not in AWAITING_REPLY:
        return ""
    # Once per page: the window's end is a calendar lookup, and the day is the same all along.
    if "due_soon_horizon" not in context.render_context:
        context.render_context["due_soon_horizon"] = due_soon_horizon()
        context.render_context["today"] = timezone.localdate()
    days = (suggestion.due_on - context.render_context["today"]).days
    if days < 0:
        text, css = ngettext("%(counter)s day overdue", "%(counter)s days overdue", -days) % {
            "counter": -days}, "tag late"
    elif days == 0:
        text, css = gettext("due today"), "tag late"
    else:
        text = ngettext("%(counter)s day left", "%(counter)s days left", days) % {"counter": days}
        soon = suggestion.due_on <= context.render_context["due_soon_horizon"]
        css = "tag soon" if soon else "tag"
    return format_html('<span class="{}">{}</span>', css, text)


@register.simple_tag
def rate_cell(row: dict, key: str) -> str:
    return row[key]


@register.simple_tag
def rate_parts(row: dict, key: str) -> str:
    """numerator/denominator of a rate, e.g. 12/15."""
    from suggestions.report import RATE_BY_KEY

    rate = RATE_BY_KEY[key]
    return f"{row[rate.part]}/{row[rate.whole]}"
