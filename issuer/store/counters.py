"""Serial counters: one row per (organization code, two-digit year, level) holding the last
serial used, advanced inside the transaction that stores the certificates. The update takes
a lock held until commit (a row lock on PostgreSQL; the database write lock on SQLite, taken
at ``BEGIN IMMEDIATE``), so serials have no gaps and no duplicates, and a rollback returns
them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from issuer.store.models import SerialCounter


class CounterRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def advance(self, org_code: str, year: int, level: int, count: int) -> int:
        """Add ``count`` to the counter and return its new value (the last serial reserved);
        the caller refuses (rolls back) a block past the last serial there is. One statement
        (``INSERT … ON CONFLICT DO UPDATE … RETURNING``, SQLite ≥ 3.35 and PostgreSQL) creates
        the counter or advances it, and locks it until the transaction ends."""
        dialect = self._session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(SerialCounter).values(org_code=org_code, year=year, level=level, last_serial=count)
        last: int = self._session.execute(
            statement.on_conflict_do_update(
                index_elements=["org_code", "year", "level"],
                set_={"last_serial": SerialCounter.last_serial + count},
            ).returning(SerialCounter.last_serial)
        ).scalar_one()
        return last

    def last(self, org_code: str, year: int, level: int) -> int:
        value = self._session.scalar(
            select(SerialCounter.last_serial).where(
                SerialCounter.org_code == org_code, SerialCounter.year == year, SerialCounter.level == level
            )
        )
        return int(value or 0)
