"""An organization's certificates are found through an index that begins with the
organization, whatever the console filters by: the single-column indexes dropped by
migration 0015 (organization, name, occupation, level) were never needed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event, text

from issuer.store.db import Database
from issuer.store.records import CertificateFilter
from issuer.store.uow import UnitOfWork, sql_units
from tests.conftest import _empty_tables

FILTERS = (
    CertificateFilter(),
    CertificateFilter(occupation="6-31-01-03", level=3),
    CertificateFilter(name_contains="张"),
    CertificateFilter(number_prefix="Y0001230000012"),
    CertificateFilter(issued_from=date(2026, 1, 1), issued_until=date(2026, 12, 31), revoked=False),
)


@pytest.fixture()
def sqlite_database(database_url: str) -> Iterator[Database]:
    if not database_url.startswith("sqlite"):
        pytest.skip("query plans are read with SQLite's EXPLAIN QUERY PLAN")
    _empty_tables(database_url)
    database = Database(database_url)
    yield database
    database.dispose()


def _statements(database: Database, work: Callable[[UnitOfWork], Any]) -> list[tuple[str, Any]]:
    """The statements ``work`` runs on the reading engine, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(database.read_engine, "before_cursor_execute", record)
    try:
        with sql_units(database)(reading=True) as uow:
            work(uow)
    finally:
        event.remove(database.read_engine, "before_cursor_execute", record)
    return seen


def _plan(database: Database, statement: str, parameters: Any) -> list[str]:
    with database.read_engine.connect() as conn:
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    return [row[-1] for row in rows]


@pytest.mark.parametrize("where", FILTERS, ids=lambda f: ",".join(k for k, v in vars(f).items() if v) or "all")
def test_searching_an_organizations_certificates_never_scans_the_table(
    sqlite_database: Database, where: CertificateFilter
) -> None:
    statements = _statements(sqlite_database, lambda uow: uow.certificates.search(1, where, page=1, per_page=20))
    assert statements
    for statement, parameters in statements:
        plan = _plan(sqlite_database, statement, parameters)
        on_certificates = [step for step in plan if "certificates" in step]
        assert on_certificates, plan
        assert all(step.startswith("SEARCH") for step in on_certificates), plan  # not SCAN


def test_the_dropped_indexes_are_gone(sqlite_database: Database) -> None:
    with sqlite_database.engine.connect() as conn:
        names = set(conn.scalars(text("SELECT name FROM sqlite_master WHERE tbl_name = 'certificates'")))
    assert not names & {f"ix_certificates_{c}" for c in ("organization_id", "holder_name", "occupation", "level")}
    assert "ix_certificates_org_issue_date" in names
