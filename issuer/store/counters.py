"""Serial counters: one row per (organization code, two-digit year, level) holding the last
serial used, advanced inside the transaction that stores the certificates. The update takes
a lock held until commit (a row lock on PostgreSQL; the database write lock on SQLite, taken
at ``BEGIN IMMEDIATE``), so serials have no gaps and no duplicates, and a rollback returns
them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from issuer.store.models import SerialCounter


def _advance(insert: Any) -> Any:
    """Create the counter at ``count`` or add ``count`` to it, returning its new value."""
    count = bindparam("count")
    return (
        insert(SerialCounter)
        .values(org_code=bindparam("org_code"), year=bindparam("year"), level=bindparam("level"), last_serial=count)
        .on_conflict_do_update(
            index_elements=["org_code", "year", "level"], set_={"last_serial": SerialCounter.last_serial + count}
        )
        .returning(SerialCounter.last_serial)
    )


_ADVANCE = {False: _advance(sqlite_insert), True: _advance(pg_insert)}
"""Built once per dialect (SQLite, PostgreSQL)."""


class CounterRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def advance(self, org_code: str, year: int, level: int, count: int) -> int:
        """Add ``count`` to the counter and return its new value (the last serial reserved);
        the caller refuses (rolls back) a block past the last serial there is. One statement
        (``INSERT … ON CONFLICT DO UPDATE … RETURNING``, SQLite ≥ 3.35 and PostgreSQL) creates
        the counter or advances it, and locks it until the transaction ends."""
        statement = _ADVANCE[self._session.get_bind().dialect.name == "postgresql"]
        params = {"org_code": org_code, "year": year, "level": level, "count": count}
        last: int = self._session.connection().execute(statement, params).scalar_one()
        return last

    def last(self, org_code: str, year: int, level: int) -> int:
        value = self._session.scalar(
            select(SerialCounter.last_serial).where(
                SerialCounter.org_code == org_code, SerialCounter.year == year, SerialCounter.level == level
            )
        )
        return int(value or 0)
