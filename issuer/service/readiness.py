"""Whether this process can serve: the database answers, the keys it signs and verifies with
can be read, a trust list is published (without one nothing verifies), and Redis answers
when one is configured (the job queue, the shared rate limit). What a load balancer asks
before sending traffic (``GET /readyz``); ``/healthz`` only says the process is up.

Asking changes nothing: the log key, made on first use elsewhere, is only read here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from issuer.service.context import Context

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Problem:
    part: str
    """``database``, ``keys``, ``trust_list`` or ``redis``."""
    message: str
    message_zh: str


class Readiness:
    def __init__(self, ctx: Context, redis: Callable[[], None] | None = None) -> None:
        """``redis``: pings Redis, raising when it does not answer; ``None``: none configured."""
        self._ctx = ctx
        self._redis = redis

    def problems(self) -> list[Problem]:
        """Everything that stops this process from serving; empty when it is ready."""
        found: list[Problem] = []
        sequence = self._published()
        if isinstance(sequence, Problem):
            found.append(sequence)
        elif sequence == 0:
            found.append(Problem("trust_list", "no trust list is published yet", "尚未发布信任列表"))
        # The log key is made with the first trust list (which carries its public key):
        # missing before that is expected, missing after it is lost.
        found += self._keys(log_key_needed=isinstance(sequence, int) and sequence > 0)
        found += self._redis_problems()
        return found

    def _keys(self, *, log_key_needed: bool) -> list[Problem]:
        problem = Problem(
            "keys", "the authority's certificate or the log key cannot be read", "无法读取根证书或日志密钥"
        )
        try:
            self._ctx.keys.root_certificate()
            log_key = self._ctx.keys.existing_log_key()
        # A probe reports any failure as a reason, never as a 500: a missing file, a wrong
        # passphrase and a damaged key all mean the same here.
        except Exception as exc:
            log.warning("readiness: the keys cannot be read: %s", exc)
            return [problem]
        if log_key is None and log_key_needed:
            log.warning("readiness: a trust list is published but the log key is missing")
            return [problem]
        return []

    def _published(self) -> int | Problem:
        """The latest trust list's sequence number (0: none), or why the database did not say."""
        try:
            with self._ctx.reading() as uow:
                return uow.trust_lists.latest_sequence()
        except Exception as exc:  # unreachable, not migrated, no connection free: not ready
            log.warning("readiness: the database cannot be read: %s", exc)
            return Problem("database", "the database cannot be read", "无法读取数据库")

    def _redis_problems(self) -> list[Problem]:
        if self._redis is None:
            return []
        try:
            self._redis()
        except Exception as exc:  # refused, timed out, wrong password: the queue cannot be used
            log.warning("readiness: Redis does not answer: %s", exc)
            return [Problem("redis", "Redis does not answer (ISSUER_REDIS_URL)", "Redis无响应（ISSUER_REDIS_URL）")]
        return []
