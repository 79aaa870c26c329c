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
