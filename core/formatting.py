"""How pages and letters write things: dates, verification codes, the body's paragraphs.

Plain functions with no WeasyPrint import, so views can use them cheaply.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


def chinese_date(day: datetime.date | None) -> str:
    """2022年6月21日: Arabic numerals, no zero padding (GB/T 9704)."""
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


DISCLOSURE_LABELS = {
    "agreed": "同意公开",
    "active": "主动公开",
    "on_request": "依申请公开",
    "withheld": "不予公开",
}
# The deputy's satisfaction (suggestions.models.Rating) as the paper forms write it.
SATISFACTION_LABELS = {
    "satisfied": "满意",
    "basically": "基本满意",
    "unsatisfied": "不满意",
}
HEADING_NUMERALS = "一二三四五六七八九十"


def inline_markup(text: str) -> SafeString:
    """Escape ``text``; **text** becomes bold."""
    parts = escape(text).split("**")
    if len(parts) % 2 == 0:  # an unpaired ** is printed as written
        parts[-2:] = [parts[-2] + "**" + parts[-1]]
    html = "".join(f"<b>{part}</b>" if i % 2 else part for i, part in enumerate(parts) if part)
    return mark_safe(html)  # noqa: S308 (escaped above)


@dataclass
class Block:
    """One paragraph of a letter's body."""

    kind: str  # "heading" (一、 hei), "subheading" (（一） kai), "text"
    lead: SafeString  # the part in the heading face (empty for text)
    rest: SafeString


def _is_subheading(line: str) -> bool:
    for opening, closing in (("（", "）"), ("(", ")")):
        if line.startswith(opening):
            inner, found, _ = line[1:].partition(closing)
            if found and inner and all(c in HEADING_NUMERALS for c in inner.strip()):
                return True
    return False


def _is_heading(line: str) -> bool:
    head, found, _ = line.partition("、")
    return bool(found and head and len(head) <= 3 and all(c in HEADING_NUMERALS for c in head))


def body_blocks(body: str) -> list[Block]:
    """The stored body (one paragraph per line) as the letter's paragraphs.

    Lines starting with 一、 are headings in hei; lines starting with （一） or (一) are in kai:
    a short line wholly, a paragraph up to the end of its first sentence (。).
    """
    blocks = []
    for raw in body.splitlines():
        line = raw.strip()
        if not line:
            continue
        if _is_heading(line):
            blocks.append(Block("heading", inline_markup(line), mark_safe("")))
        elif _is_subheading(line):
            head, found, rest = line.partition("。")
            if found and rest.strip():
                blocks.append(Block("subheading", inline_markup(head + found),
                                    inline_markup(rest.strip())))
            else:
                blocks.append(Block("subheading", inline_markup(line), mark_safe("")))
        else:
            blocks.append(Block("text", mark_safe(""), inline_markup(line)))
    return blocks


def format_code(code: str) -> str:
    """ABCDEFGHJKMN → ABCD-EFGH-JKMN"""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))
