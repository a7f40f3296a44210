"""The audit trail's rows: appended, never changed."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from issuer.store import models as m
from issuer.store.records import AuditEventRecord


def _record(e: m.AuditEvent) -> AuditEventRecord:
    return AuditEventRecord(e.id, e.at, e.actor, e.action, e.target, dict(e.details), e.prev_hash, e.hash)


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def last_hash(self, *, up_to: int | None = None) -> str | None:
        """The hash of the last event (of the last with id ≤ ``up_to``), None before the first."""
        query = select(m.AuditEvent.hash).order_by(m.AuditEvent.id.desc()).limit(1)
        if up_to is not None:
            query = query.where(m.AuditEvent.id <= up_to)
        return self._session.scalar(query)

    def count(self, *, up_to: int | None = None) -> int:
        """How many events the trail holds (with id ≤ ``up_to``)."""
        query = select(func.count()).select_from(m.AuditEvent)
        if up_to is not None:
            query = query.where(m.AuditEvent.id <= up_to)
        return self._session.scalar(query) or 0

    def add(self, event: AuditEventRecord) -> None:
        """Append; ``prev_hash`` is unique, so a concurrent append makes this transaction retry."""
        self._session.add(
            m.AuditEvent(
                at=event.at,
                actor=event.actor,
                action=event.action,
                target=event.target,
                details=event.details,
                prev_hash=event.prev_hash,
                hash=event.hash,
            )
        )
        self._session.flush()

    def after(self, after_id: int, limit: int) -> list[AuditEventRecord]:
        found = self._session.scalars(
            select(m.AuditEvent).where(m.AuditEvent.id > after_id).order_by(m.AuditEvent.id).limit(limit)
        )
        return [_record(e) for e in found]
