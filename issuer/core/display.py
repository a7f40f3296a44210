"""How people in China expect to read dates and levels."""

from __future__ import annotations

from datetime import date

from .catalogue import level


def date_zh(day: date) -> str:
    """``2026年11月29日`` (no leading zeros, as printed on certificates)."""
    return f"{day.year}年{day.month}月{day.day}日"


MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def date_en(day: date) -> str:
    """``29 November 2026``."""
    return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"


def level_zh(code: int) -> str:
    """``三级/高级工``."""
    return level(code).label_zh


def level_en(code: int) -> str:
    """``Level 3 / Senior Worker``."""
    return level(code).label_en
