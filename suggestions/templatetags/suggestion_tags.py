from django import template
from django.utils.safestring import mark_safe

from core.formatting import chinese_date
from core.sanitize import sanitize_html

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


@register.inclusion_tag("suggestions/_days_left.html")
def days_left_tag(days: int | None) -> dict:
    """剩余N天 / 今天到期 / 超期N天, for a suggestion awaiting a reply."""
    return {"days": days, "overdue": days is not None and days < 0,
            "late": abs(days) if days is not None else None}


@register.simple_tag
def rate_cell(row: dict, key: str) -> str:
    return row[key]


@register.simple_tag
def rate_parts(row: dict, key: str) -> str:
    """numerator/denominator of a rate, e.g. 12/15."""
    from suggestions.report import RATE_BY_KEY

    rate = RATE_BY_KEY[key]
    return f"{row[rate.part]}/{row[rate.whole]}"
