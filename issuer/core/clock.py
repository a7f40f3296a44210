"""China Standard Time. Certificate dates and years are those of Asia/Shanghai; China
has no daylight saving time, so a fixed UTC+8 offset is exact and needs no tz database."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone

CST = timezone(timedelta(hours=8), "CST")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_UTC_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


def china_date(moment: datetime) -> date:
    """The calendar date in China of an aware ``moment``."""
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware")
    return moment.astimezone(CST).date()


def start_of_china_day(day: date) -> datetime:
    return datetime.combine(day, time(0), CST).astimezone(UTC)


def end_of_china_day(day: date) -> datetime:
    """The first instant after ``day`` in China (an exclusive bound)."""
    return start_of_china_day(day + timedelta(days=1))


def parse_instant(text: str) -> datetime:
    """ISO 8601 with an offset or ``Z``; a bare date means 00:00 in China."""
    value = text.strip()
    if len(value) == 10:
        return start_of_china_day(date.fromisoformat(value))
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("a time needs an offset, e.g. 2026-11-29T08:00:00+08:00")
    return moment.astimezone(UTC)


def parse_date(text: str) -> date:
    """Exactly ``YYYY-MM-DD`` (``date.fromisoformat`` also takes ``20261129`` and week dates)."""
    if not _DATE.fullmatch(text):
        raise ValueError(f"{text!r} is not a date YYYY-MM-DD")
    return date.fromisoformat(text)


def parse_utc_instant(text: str) -> datetime:
    """Exactly ``YYYY-MM-DDTHH:MM:SSZ``, as every signed structure writes instants."""
    if not _UTC_INSTANT.fullmatch(text):
        raise ValueError(f"{text!r} is not a UTC instant YYYY-MM-DDTHH:MM:SSZ")
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)


def format_instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
