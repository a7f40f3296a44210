"""Whether Redis answers (the job queue and the shared rate limit live there): a PING on a
connection of its own, closed after it, with a short timeout. Nothing is read or written."""

from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

TIMEOUT = 1.0
"""Seconds to connect, then to get the answer: a probe must answer before its caller gives up."""


class RedisProbe:
    def __init__(self, url: str, timeout: float = TIMEOUT) -> None:
        self._url = url
        self._timeout = timeout

    def ping(self) -> None:
        """Raises ``redis.RedisError`` (or ``OSError``) when Redis does not answer."""
        client = redis.Redis.from_url(
            self._url, socket_connect_timeout=self._timeout, socket_timeout=self._timeout, retry=Retry(NoBackoff(), 0)
        )
        with client:
            client.ping()
