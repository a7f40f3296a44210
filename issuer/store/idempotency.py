"""Answers stored under an Idempotency-Key, in the transaction of the effects they answer,
and purged once their retention has passed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from issuer.store import models as m
from issuer.store.records import IdempotentAnswer

_PURGE = delete(m.IdempotencyRecord).where(m.IdempotencyRecord.created_at < bindparam("before"))
"""Run by every transaction that stores an answer: built once."""


class IdempotencyRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, principal: str, key: str, *, since: datetime) -> IdempotentAnswer | None:
        """The answer stored for ``key`` at or after ``since``; an older one has expired."""
        row = self._session.scalars(
            select(m.IdempotencyRecord).where(
                m.IdempotencyRecord.principal == principal,
                m.IdempotencyRecord.key == key,
                m.IdempotencyRecord.created_at >= since,
            )
        ).first()
        return None if row is None else IdempotentAnswer(row.request_hash, row.status_code, dict(row.response))

    def add(self, principal: str, key: str, answer: IdempotentAnswer, at: datetime) -> None:
        """Store the answer; a concurrent retry that stored first makes this transaction retry."""
        self._session.add(
            m.IdempotencyRecord(
                principal=principal,
                key=key,
                request_hash=answer.request_hash,
                status_code=answer.status_code,
                response=answer.response,
                created_at=at,
            )
        )
        self._session.flush()

    def purge(self, before: datetime) -> int:
        """Delete every answer stored before ``before``; returns how many."""
        result = self._session.connection().execute(_PURGE, {"before": before})
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
