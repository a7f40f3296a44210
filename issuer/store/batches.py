"""Batches: one roster issued in one transaction, its items drawn afterwards."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from issuer.store import models as m
from issuer.store.records import BatchLine, BatchRecord

PAGE = 500


def _record(batch: m.Batch, rendered: int) -> BatchRecord:
    return BatchRecord(
        id=batch.id,
        organization_id=batch.organization_id,
        created_at=batch.created_at,
        created_by=batch.created_by,
        roster_name=batch.roster_name,
        rows=batch.rows,
        issued=batch.issued,
        formats=tuple(f for f in batch.formats.split(",") if f),
        dpi=batch.dpi,
        status=batch.status,
        report=dict(batch.report),
        dispatched_at=batch.dispatched_at,
        finished_at=batch.finished_at,
        archive_bytes=batch.archive_bytes,
        archive_sha256=batch.archive_sha256,
        error=batch.error,
        rendered=rendered,
        checked=batch.checked,
        dry_run=batch.dry_run,
        valid_rows_only=batch.valid_rows_only,
        validation_holder=batch.validation_holder,
        validation_started_at=batch.validation_started_at,
        validation_attempts=batch.validation_attempts,
        refusal=dict(batch.refusal) if batch.refusal is not None else None,
    )


class BatchRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def _rendered(self, batch_id: str) -> int:
        return (
            self._session.scalar(
                select(func.count())
                .select_from(m.BatchItem)
                .where(m.BatchItem.batch_id == batch_id, m.BatchItem.rendered_at.is_not(None))
            )
            or 0
        )

    def get(self, batch_id: str) -> BatchRecord | None:
        batch = self._session.get(m.Batch, batch_id)
        return None if batch is None else _record(batch, self._rendered(batch.id))

    def recent(self, organization_id: int, limit: int) -> list[BatchRecord]:
        found = self._session.scalars(
            select(m.Batch)
            .where(m.Batch.organization_id == organization_id)
            .order_by(m.Batch.created_at.desc(), m.Batch.id)
            .limit(limit)
        )
        return [_record(b, self._rendered(b.id)) for b in found]

    def add(self, batch: BatchRecord) -> None:
        row = m.Batch(
            id=batch.id,
            organization_id=batch.organization_id,
            created_at=batch.created_at,
            created_by=batch.created_by,
            roster_name=batch.roster_name,
            rows=batch.rows,
            issued=batch.issued,
            formats=",".join(batch.formats),
            dpi=batch.dpi,
            status=batch.status,
            report=batch.report,
            checked=batch.checked,
            dry_run=batch.dry_run,
            valid_rows_only=batch.valid_rows_only,
            validation_holder=batch.validation_holder,
            dispatched_at=batch.dispatched_at,
        )
        self._session.add(row)
        self._session.flush()

    def add_items(self, batch_id: str, items: Sequence[tuple[int, int, int]]) -> None:
        """Items (position, roster row, certificate id)."""
        if items:
            self._session.execute(
                insert(m.BatchItem),
                [{"batch_id": batch_id, "position": p, "row": r, "certificate_id": c} for p, r, c in items],
            )

    def undrawn(self, batch_id: str, first: int, count: int) -> list[int]:
        return sorted(
            self._session.scalars(
                select(m.BatchItem.position).where(
                    m.BatchItem.batch_id == batch_id,
                    m.BatchItem.position >= first,
                    m.BatchItem.position < first + count,
                    m.BatchItem.rendered_at.is_(None),
                )
            )
        )

    def all_undrawn(self, batch_id: str) -> list[int]:
        return sorted(
            self._session.scalars(
                select(m.BatchItem.position).where(m.BatchItem.batch_id == batch_id, m.BatchItem.rendered_at.is_(None))
            )
        )

    def number_at(self, batch_id: str, position: int) -> str:
        number: str = self._session.execute(
            select(m.Certificate.number)
            .join(m.BatchItem, m.BatchItem.certificate_id == m.Certificate.id)
            .where(m.BatchItem.batch_id == batch_id, m.BatchItem.position == position)
        ).scalar_one()
        return number

    def live_numbers(self, batch_id: str, *, after: str = "", limit: int = PAGE) -> list[str]:
        """The numbers of the batch's certificates not revoked, in number order, those after
        ``after``: at most ``limit``, a page at a time."""
        c = m.Certificate
        return list(
            self._session.scalars(
                select(c.number)
                .join(m.BatchItem, m.BatchItem.certificate_id == c.id)
                .where(m.BatchItem.batch_id == batch_id, c.revoked_at.is_(None), c.number > after)
                .order_by(c.number)
                .limit(limit)
            )
        )

    def mark_drawn(self, batch_id: str, position: int, at: datetime) -> None:
        self._session.execute(
            update(m.BatchItem)
            .where(m.BatchItem.batch_id == batch_id, m.BatchItem.position == position)
            .values(rendered_at=at)
        )

    def update(
        self,
        batch_id: str,
        *,
        only_if_status: str | Sequence[str] | None = None,
        only_if_holder: str | None = None,
        **values: Any,
    ) -> bool:
        """Set ``values`` (``status``, ``finished_at``, ``archive_bytes``, …); with
        ``only_if_status``, only while the batch has that status (or one of them); with
        ``only_if_holder``, only while its validation runs under that holder. Whether a
        row changed."""
        query = update(m.Batch).where(m.Batch.id == batch_id)
        if only_if_status is not None:
            statuses = (only_if_status,) if isinstance(only_if_status, str) else tuple(only_if_status)
            query = query.where(m.Batch.status.in_(statuses))
        if only_if_holder is not None:
            query = query.where(m.Batch.validation_holder == only_if_holder)
        return bool(self._session.execute(query.values(**values)).rowcount)  # type: ignore[attr-defined]

    def claim_validation(self, batch_id: str, holder: str | None, new_holder: str, now: datetime) -> bool:
        """Make ``new_holder`` the holder of the batch's validation, if it is still being
        validated (or issued) under ``holder``: of two jobs that read the same holder, only
        one changes the row (PostgreSQL re-checks the condition on the row it locked;
        SQLite runs one writer at a time). Counts the attempt."""
        query = (
            update(m.Batch)
            .where(
                m.Batch.id == batch_id,
                m.Batch.status.in_(("validating", "issuing")),
                m.Batch.validation_holder.is_(None) if holder is None else m.Batch.validation_holder == holder,
            )
            .values(
                validation_holder=new_holder,
                validation_started_at=now,
                validation_attempts=m.Batch.validation_attempts + 1,
                status="validating",
                checked=0,
            )
        )
        return bool(self._session.execute(query).rowcount)  # type: ignore[attr-defined]

    def ids(self, *, status: str | Sequence[str], finished_before: datetime | None = None) -> list[str]:
        statuses = (status,) if isinstance(status, str) else tuple(status)
        query = select(m.Batch.id).where(m.Batch.status.in_(statuses)).order_by(m.Batch.created_at, m.Batch.id)
        if finished_before is not None:
            query = query.where(m.Batch.finished_at < finished_before)
        return list(self._session.scalars(query))

    def lines(self, batch_id: str) -> Iterator[BatchLine]:
        """The batch's issued rows in issue order, a page at a time (tens of thousands)."""
        last = -1
        c = m.Certificate
        while True:
            rows = self._session.execute(
                select(
                    m.BatchItem.position,
                    m.BatchItem.row,
                    c.number,
                    c.holder_name,
                    c.document_number_masked,
                    c.occupation,
                    c.work_type,
                    c.level,
                    c.issue_date,
                    c.revoked_at.is_not(None),
                )
                .join(c, c.id == m.BatchItem.certificate_id)
                .where(m.BatchItem.batch_id == batch_id, m.BatchItem.position > last)
                .order_by(m.BatchItem.position)
                .limit(PAGE)
            ).all()
            if not rows:
                return
            last = rows[-1][0]
            yield from (BatchLine(*row) for row in rows)
