"""The figures ``/metrics`` reads from the database when it is scraped: counts and instants
that every process of a deployment writes (web workers, ``issuer worker``), so the same
answer whichever process is asked. Read only, each a statement that an index answers or
that reads a small table, on one connection of the reading pool, no unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.exc import TimeoutError as PoolTimeout

from issuer.core.errors import Unavailable
from issuer.store import models as m
from issuer.store.db import Database


@dataclass(frozen=True)
class StoredFigures:
    certificates: int
    """Certificates issued, ever (none is deleted)."""
    revoked: int
    batches: dict[str, int]
    """Batches per status, for the statuses asked (0 for those with none)."""
    items_waiting: int
    """Certificates of batches being drawn whose files are not made yet."""
    items_drawn_since: int
    """Certificates drawn at or after ``since``."""
    last_drawn_at: datetime | None
    """The newest certificate drawn of a batch being drawn, or the end of the newest batch
    drawn to the end: when a drawing worker last finished something."""
    leases_held: int
    leases_expired: int
    """Validation leases whose holder stopped renewing them (a killed validation)."""
    oldest_status_list_at: datetime | None
    """When the least recently signed of the organizations' status lists was signed."""
    tree_head_at: datetime | None
    trust_list_at: datetime | None
    unlogged: int
    """Certificates issued whose issuance the log's sequencer has not appended yet."""
    oldest_unlogged_at: datetime | None


class MetricsReader:
    def __init__(self, database: Database) -> None:
        self._engine = database.read_engine

    def read(self, *, now: datetime, since: datetime, statuses: Sequence[str]) -> StoredFigures:
        """Raises ``Unavailable`` when no connection comes free in time."""
        try:
            with self._engine.connect() as c:
                issued, revoked = c.execute(select(func.count(), func.count(m.Certificate.revoked_at))).one()
                counted = dict(
                    c.execute(
                        select(m.Batch.status, func.count())
                        .where(m.Batch.status.in_(statuses))
                        .group_by(m.Batch.status)
                    ).all()
                )
                rendering = m.Batch.status == "rendering"
                waiting = c.scalar(_items().where(rendering, m.BatchItem.rendered_at.is_(None)))
                drawn = c.scalar(
                    _items().where(or_(rendering, m.Batch.finished_at >= since), m.BatchItem.rendered_at >= since)
                )
                in_progress = c.scalar(
                    select(func.max(m.BatchItem.rendered_at))
                    .join(m.Batch, m.Batch.id == m.BatchItem.batch_id)
                    .where(rendering)
                )
                finished = c.scalar(
                    select(func.max(m.Batch.finished_at)).where(m.Batch.status.in_(("done", "expired")))
                )
                held, expired = c.execute(
                    select(
                        func.count(case((m.ValidationLease.expires_at > now, 1))),
                        func.count(case((m.ValidationLease.expires_at <= now, 1))),
                    )
                ).one()
                oldest_list = c.scalar(select(func.min(m.StatusListRecord.issued_at)))
                head = c.scalar(select(m.TreeHeadRecord.timestamp).order_by(m.TreeHeadRecord.tree_size.desc()).limit(1))
                trust_list = c.scalar(
                    select(m.TrustListRecord.issued_at).order_by(m.TrustListRecord.sequence.desc()).limit(1)
                )
                unlogged, oldest_unlogged = c.execute(
                    select(func.count(), func.min(m.Certificate.created_at)).where(m.Certificate.log_index.is_(None))
                ).one()
        except PoolTimeout as exc:
            raise Unavailable.busy() from exc
        return StoredFigures(
            certificates=int(issued),
            revoked=int(revoked),
            batches={status: int(counted.get(status, 0)) for status in statuses},
            items_waiting=int(waiting or 0),
            items_drawn_since=int(drawn or 0),
            last_drawn_at=max((t for t in (in_progress, finished) if t is not None), default=None),
            leases_held=int(held),
            leases_expired=int(expired),
            oldest_status_list_at=oldest_list,
            tree_head_at=head,
            trust_list_at=trust_list,
            unlogged=int(unlogged),
            oldest_unlogged_at=oldest_unlogged,
        )


def _items() -> Select[Any]:
    """Counting batch items by their batch (``batch_items`` has no index on ``rendered_at``:
    the batches' status index picks the few batches that matter)."""
    return select(func.count()).select_from(m.BatchItem).join(m.Batch, m.Batch.id == m.BatchItem.batch_id)
