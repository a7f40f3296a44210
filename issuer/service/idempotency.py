"""Retried requests: the answer to a request carrying an ``Idempotency-Key`` is stored in
the same transaction as its effects, so a retry replays it and changes nothing twice.

The answer stored is a reference to what the use case made (a certificate number, a batch
id), never a rendered response nor any personal data: a replay reads the result again and
the caller presents it the way it presented the first answer. Answers are kept for
``Context.idempotency_retention`` (``ISSUER_IDEMPOTENCY_HOURS``): an older one is never
replayed. A transaction that stores an answer deletes those that have expired first (so an
expired key may be used again), and ``purge_expired`` (the scheduler's ``idempotency`` job,
``issuer batch purge``) deletes them when no such transaction comes; a transaction without
a key runs no statement for them (one fewer per certificate issued)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from issuer.core.errors import Conflict, InvalidInput
from issuer.service.context import Context
from issuer.service.principal import Principal
from issuer.store.records import IdempotentAnswer
from issuer.store.uow import ATTEMPTS, Contention, UnitOfWork

T = TypeVar("T")
Reference = dict[str, Any]


def _check_key(key: str | None) -> None:
    if key is not None and not 1 <= len(key) <= 200:
        raise InvalidInput(
            "invalid_idempotency_key", "Idempotency-Key must be 1-200 characters", "Idempotency-Key应为1至200个字符"
        )


def keyed_fingerprint(key: str | None, of_request: Callable[[], str]) -> str:
    """What makes a request the same as the first one with ``key`` (``of_request()``, a hash
    of its fields and files); nothing without a key, the only use of it."""
    return of_request() if key else ""


def replay(ctx: Context, principal: Principal, key: str, fingerprint: str, *, since: datetime) -> Reference | None:
    """The reference stored for ``key`` at or after ``since``; ``Conflict`` if the key came
    with another request."""
    with ctx.reading() as uow:
        found = uow.idempotency.get(principal.actor, key, since=since)
    if found is None:
        return None
    if found.request_hash != fingerprint:
        raise Conflict(
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request",
            "该Idempotency-Key已用于另一个不同的请求",
        )
    return found.response


def first_answer(ctx: Context, principal: Principal, key: str | None, fingerprint: str) -> Reference | None:
    """The reference a request with ``key`` was answered with already (a retry), if any;
    ``InvalidInput`` for a key of the wrong length, ``Conflict`` for one used for another
    request."""
    _check_key(key)
    if not key:
        return None
    return replay(ctx, principal, key, fingerprint, since=ctx.clock() - ctx.idempotency_retention)


def remember(uow: UnitOfWork, ctx: Context, principal: Principal, key: str, fingerprint: str, ref: Reference) -> None:
    """Store the answer to a request with ``key`` in ``uow``'s transaction, after the work's
    own locks (serial counters), so that no two transactions wait on each other in
    opposite orders; the expired answers go first."""
    now = ctx.clock()
    uow.idempotency.purge(before=now - ctx.idempotency_retention)
    uow.idempotency.add(principal.actor, key, IdempotentAnswer(fingerprint, 201, ref), now)


def run_once(
    ctx: Context,
    principal: Principal,
    key: str | None,
    fingerprint: str,
    *,
    prepare: Callable[[], T],
    work: Callable[[UnitOfWork, T], Reference],
) -> tuple[Reference, bool]:
    """Replay the reference stored for ``key``, or run ``prepare`` (outside any transaction)
    then ``work`` in a unit of work that, given a key, also stores its reference
    (``remember``), and commits. A lost race is either a concurrent retry that won (replay
    its reference) or a race on a random value such as a status index (run again); a
    ``Conflict`` (a duplicate certificate) may be the effect of a concurrent retry too.
    Returns the reference and whether it was replayed."""
    first = first_answer(ctx, principal, key, fingerprint)
    if first is not None:
        return first, True
    since = ctx.clock() - ctx.idempotency_retention
    prepared = prepare()
    for attempt in range(ATTEMPTS):
        try:
            with ctx.units() as uow:
                reference = work(uow, prepared)
                if key:
                    remember(uow, ctx, principal, key, fingerprint, reference)
                uow.commit()
                return reference, False
        except (Contention, Conflict) as exc:
            if key:
                first = replay(ctx, principal, key, fingerprint, since=since)
                if first is not None:
                    return first, True
            if isinstance(exc, Conflict) or attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def purge_expired(ctx: Context) -> int:
    """Delete the answers past their retention, in a transaction of their own; returns how
    many."""

    def work(uow: UnitOfWork) -> int:
        purged = uow.idempotency.purge(before=ctx.clock() - ctx.idempotency_retention)
        uow.commit()
        return purged

    return ctx.run(work)
