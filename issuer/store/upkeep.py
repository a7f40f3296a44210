"""The scheduled upkeep jobs' rows: one per job, taken by one statement that either inserts
it or takes it over when it is due (its last run started an interval ago or more) and no
one holds it (its lease expired), as ``leases`` takes validation slots: on PostgreSQL the
second insert of a name waits for the first and then does nothing, and an update re-checks
its ``WHERE`` on the row it locked; SQLite runs one writer at a time. So however many
schedulers tick at once, one of them runs each due job."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from issuer.store.models import UpkeepJob
from issuer.store.records import UpkeepRow


class UpkeepRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def take(self, name: str, holder: str, now: datetime, *, ran_before: datetime, expires_at: datetime) -> bool:
        """Hold job ``name`` until ``expires_at`` if it never ran, or its last run started
        at or before ``ran_before`` and nobody holds it; whether ``holder`` now does."""
        insert = pg_insert if self._session.get_bind().dialect.name == "postgresql" else sqlite_insert
        inserted = self._session.execute(
            insert(UpkeepJob)
            .values(name=name, holder=holder, expires_at=expires_at, ran_at=None)
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(UpkeepJob.name)
        ).first()
        if inserted is not None:
            return True
        taken = self._session.execute(
            update(UpkeepJob)
            .where(
                UpkeepJob.name == name,
                UpkeepJob.expires_at <= now,
                or_(UpkeepJob.ran_at.is_(None), UpkeepJob.ran_at <= ran_before),
            )
            .values(holder=holder, expires_at=expires_at)
            .returning(UpkeepJob.name)
        ).first()
        return taken is not None

    def finish(self, name: str, holder: str, started_at: datetime, now: datetime) -> None:
        """Record that ``holder``'s run started at ``started_at`` and let the job go."""
        self._session.execute(
            update(UpkeepJob)
            .where(UpkeepJob.name == name, UpkeepJob.holder == holder)
            .values(ran_at=started_at, expires_at=now)
        )

    def all(self) -> list[UpkeepRow]:
        rows = self._session.scalars(select(UpkeepJob).order_by(UpkeepJob.name))
        return [UpkeepRow(r.name, r.holder, r.expires_at, r.ran_at) for r in rows]
