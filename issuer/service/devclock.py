"""A clock a person can move, for trying lifecycle rules on a development instance.

``ISSUER_CLOCK=2026-12-01T09:36:00+08:00`` starts the service's clock at that instant; it then
runs at the normal pace. The authority administrator can set it again while the service
runs (``PUT /api/v1/dev/clock``), e.g. to issue at 09:36, suspend at 09:37 and check at 09:38
without touching the database. Refused outside development (``config.check``)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from issuer.core.clock import parse_instant
from issuer.core.errors import InvalidInput


class SettableClock:
    """Now plus an offset that ``set`` changes; monotonic between settings."""

    def __init__(self, start: datetime) -> None:
        self._lock = threading.Lock()
        self._base = start
        self._since = time.monotonic()

    def __call__(self) -> datetime:
        with self._lock:
            return self._base + timedelta(seconds=time.monotonic() - self._since)

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise InvalidInput("invalid_time", "the time needs an offset", "时间需要注明时区")
        with self._lock:
            self._base, self._since = moment.astimezone(UTC), time.monotonic()


def from_setting(value: str) -> SettableClock:
    """The clock ``ISSUER_CLOCK`` names: a date (00:00 China time) or a time with an offset."""
    try:
        return SettableClock(parse_instant(value))
    except ValueError:
        raise InvalidInput(
            "invalid_clock", f"ISSUER_CLOCK {value!r} is not a time with an offset", "ISSUER_CLOCK不是带时区的时间"
        ) from None
