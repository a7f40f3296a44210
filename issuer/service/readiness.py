"""Whether this process can serve: the database answers, the keys it signs and verifies with
can be read, and a trust list is published (without one nothing verifies). What a load
balancer asks before sending traffic (``GET /readyz``); ``/healthz`` only says the process
is up."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from issuer.service.context import Context

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Problem:
    part: str
    """``database``, ``keys`` or ``trust_list``."""
    message: str
    message_zh: str


class Readiness:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def problems(self) -> list[Problem]:
        """Everything that stops this process from serving; empty when it is ready."""
        found = [*self._keys()]
        sequence = self._published()
        if isinstance(sequence, Problem):
            found.append(sequence)
        elif sequence == 0:
            found.append(Problem("trust_list", "no trust list is published yet", "尚未发布信任列表"))
        return found

    def _keys(self) -> list[Problem]:
        try:
            self._ctx.keys.root_certificate()
            self._ctx.keys.log_key()
        # A probe reports any failure as a reason, never as a 500: a missing file, a wrong
        # passphrase and a damaged key all mean the same here.
        except Exception as exc:
            log.warning("readiness: the keys cannot be read: %s", exc)
            problem = Problem(
                "keys", "the authority's certificate or the log key cannot be read", "无法读取根证书或日志密钥"
            )
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
