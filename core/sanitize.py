"""Suggestion content arrives as HTML from other systems: keep structure, drop anything active."""

import nh3

ALLOWED_TAGS = {"p", "br", "strong", "b", "em", "i", "u", "ol", "ul", "li", "span"}


def sanitize_html(value: str) -> str:
    # No attributes at all: style/class/on* are dropped, so nothing can run or restyle a page.
    return nh3.clean(value or "", tags=ALLOWED_TAGS, attributes={}, link_rel=None).strip()


def html_to_text(value: str) -> str:
    """Plain paragraphs for PDFs and exports: one line per block element."""
    import html
    import re

    text = re.sub(r"(?i)<br\s*/?>", "\n", value or "")
    text = re.sub(r"(?i)</(p|li)>", "\n", text)
    text = re.sub(r"<[^>]+>", "", text)
    lines = [html.unescape(line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)
