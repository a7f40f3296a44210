"""Serial allocation: a counter row per (organization code, year, level), advanced inside
the transaction that stores the certificates. The row update takes a lock that is held
until commit (a row lock on PostgreSQL; the database write lock on SQLite, taken at
BEGIN IMMEDIATE), so serials have no gaps and no duplicates, and a rollback returns them."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from issuer.core.errors import Conflict
from issuer.core.numbering import MAX_SERIAL
from issuer.store.models import SerialCounter


def allocate(session: Session, org_code: str, year: int, level: int, count: int = 1) -> int:
    """Reserve ``count`` consecutive serials; returns the first. Raises ``Conflict`` when
    the block would pass 999999 (and reserves nothing)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(SerialCounter)
        .values(org_code=org_code, year=year, level=level, last_serial=0)
        .on_conflict_do_nothing(index_elements=["org_code", "year", "level"])
    )
    last = session.execute(
        update(SerialCounter)
        .where(SerialCounter.org_code == org_code, SerialCounter.year == year, SerialCounter.level == level)
        .values(last_serial=SerialCounter.last_serial + count)
        .returning(SerialCounter.last_serial)
    ).scalar_one()
    if last > MAX_SERIAL:
        raise Conflict(
            "serials_exhausted",
            f"serials for {org_code}, year {year:02d}, level {level} are exhausted (999999)",
            f"机构{org_code}在{year:02d}年{level}级的证书流水号已用尽（999999）",
        )
    return last - count + 1


def last_serial(session: Session, org_code: str, year: int, level: int) -> int:
    value = session.scalar(
        select(SerialCounter.last_serial).where(
            SerialCounter.org_code == org_code, SerialCounter.year == year, SerialCounter.level == level
        )
    )
    return int(value or 0)
