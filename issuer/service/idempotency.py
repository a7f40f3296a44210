"""Retried requests: the answer to a request carrying an ``Idempotency-Key`` is stored in
the same transaction as its effects, so a retry replays it and changes nothing twice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from issuer.core.errors import Conflict, InvalidInput
from issuer.service.context import Services
from issuer.service.principal import Principal
from issuer.store import models as m

T = TypeVar("T")
ATTEMPTS = 3


def replay(svc: Services, principal: Principal, key: str, fingerprint: str) -> dict[str, Any] | None:
    """The stored answer for ``key``; ``Conflict`` if the key came with another request."""
    with svc.db.reading() as session:
        record = session.scalars(
            select(m.IdempotencyRecord).where(
                m.IdempotencyRecord.principal == principal.actor, m.IdempotencyRecord.key == key
            )
        ).first()
    if record is None:
        return None
    if record.request_hash != fingerprint:
        raise Conflict(
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request",
            "该Idempotency-Key已用于另一个不同的请求",
        )
    return dict(record.response)


def run_once(
    svc: Services,
    principal: Principal,
    key: str | None,
    fingerprint: str,
    *,
    prepare: Callable[[], T],
    work: Callable[[Session, T], dict[str, Any]],
) -> tuple[dict[str, Any], bool]:
    """Replay the answer stored for ``key``, or run ``prepare`` (outside any transaction)
    then ``work`` in a transaction that also stores its answer. A unique-key conflict is
    either a concurrent retry that won (replay its answer) or a lost race on a random
    value such as a status index (try again); a conflict (a duplicate certificate) may be
    the effect of a concurrent retry too. Returns the answer and whether it replayed."""
    if key is not None and not 1 <= len(key) <= 200:
        raise InvalidInput(
            "invalid_idempotency_key", "Idempotency-Key must be 1-200 characters", "Idempotency-Key应为1至200个字符"
        )
    if key:
        first = replay(svc, principal, key, fingerprint)
        if first is not None:
            return first, True
    prepared = prepare()
    for attempt in range(ATTEMPTS):
        try:
            with svc.transaction() as session:
                body = work(session, prepared)
                if key:
                    session.add(
                        m.IdempotencyRecord(
                            principal=principal.actor,
                            key=key,
                            request_hash=fingerprint,
                            status_code=201,
                            response=body,
                            created_at=svc.clock(),
                        )
                    )
                    session.flush()
                return body, False
        except (IntegrityError, Conflict) as exc:
            # A concurrent retry with the same key may have won meanwhile (its certificate
            # then makes ours a duplicate): its answer is the answer.
            if key:
                first = replay(svc, principal, key, fingerprint)
                if first is not None:
                    return first, True
            if isinstance(exc, Conflict) or attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")
