"""Retried requests: the answer to a request carrying an ``Idempotency-Key`` is stored in
the same transaction as its effects, so a retry replays it and changes nothing twice.

The answer stored is what the use case returns: references (certificate numbers, a batch
id and its report), never a rendered response, so that a replay is presented the way the
first answer was."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from issuer.core.errors import Conflict, InvalidInput
from issuer.service.context import Context
from issuer.service.principal import Principal
from issuer.store.records import IdempotentAnswer
from issuer.store.uow import ATTEMPTS, Contention, UnitOfWork

T = TypeVar("T")
Answer = dict[str, Any]


def _check_key(key: str | None) -> None:
    if key is not None and not 1 <= len(key) <= 200:
        raise InvalidInput(
            "invalid_idempotency_key", "Idempotency-Key must be 1-200 characters", "Idempotency-Key应为1至200个字符"
        )


def replay(ctx: Context, principal: Principal, key: str, fingerprint: str) -> Answer | None:
    """The stored answer for ``key``; ``Conflict`` if the key came with another request."""
    with ctx.reading() as uow:
        found = uow.idempotency.get(principal.actor, key)
    if found is None:
        return None
    if found.request_hash != fingerprint:
        raise Conflict(
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request",
            "该Idempotency-Key已用于另一个不同的请求",
        )
    return found.response


def run_once(
    ctx: Context,
    principal: Principal,
    key: str | None,
    fingerprint: str,
    *,
    prepare: Callable[[], T],
    work: Callable[[UnitOfWork, T], Answer],
) -> tuple[Answer, bool]:
    """Replay the answer stored for ``key``, or run ``prepare`` (outside any transaction)
    then ``work`` in a unit of work that also stores its answer and commits. A lost race
    is either a concurrent retry that won (replay its answer) or a race on a random value
    such as a status index (run again); a ``Conflict`` (a duplicate certificate) may be
    the effect of a concurrent retry too. Returns the answer and whether it replayed."""
    _check_key(key)
    if key:
        first = replay(ctx, principal, key, fingerprint)
        if first is not None:
            return first, True
    prepared = prepare()
    for attempt in range(ATTEMPTS):
        try:
            with ctx.units() as uow:
                answer = work(uow, prepared)
                if key:
                    uow.idempotency.add(principal.actor, key, IdempotentAnswer(fingerprint, 201, answer), ctx.clock())
                uow.commit()
                return answer, False
        except (Contention, Conflict) as exc:
            if key:
                first = replay(ctx, principal, key, fingerprint)
                if first is not None:
                    return first, True
            if isinstance(exc, Conflict) or attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")
