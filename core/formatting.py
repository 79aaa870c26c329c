"""Formatting shared by pages and documents."""

from __future__ import annotations

import datetime


def chinese_date(day: datetime.date | None) -> str:
    """2022年6月21日: Arabic numerals, no zero padding (GB/T 9704)."""
    return f"{day.year}年{day.month}月{day.day}日" if day else ""
