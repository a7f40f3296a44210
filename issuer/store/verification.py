"""The one statement a public verification runs: the latest trust list's sequence number,
the certificate row of a number and the latest signed status list of an organization, read
together so that they come from one snapshot of the database (PostgreSQL's READ COMMITTED
gives each statement of a transaction its own) at the cost of one round trip.

It runs outside a unit of work, on a connection of the reading pool, as its own
transaction (``db.one_statement``), so there is no BEGIN and no ROLLBACK (two round trips
more on PostgreSQL) and no ORM session (measured: 0.26 instead of 0.44 ms of CPU a
verification on PostgreSQL). Like a unit of work, it waits ``ISSUER_DATABASE_WAIT_MS`` at
most for a connection and then raises ``Unavailable`` (the request is shed with a 503)."""

from __future__ import annotations

from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import aliased

from issuer.core.errors import Unavailable
from issuer.store import models as m
from issuer.store.certificates import COLUMNS as CERTIFICATE_COLUMNS
from issuer.store.db import Database, one_statement
from issuer.store.records import CertificateRecord, StatusListRow, VerificationRead

_LATEST = select(func.max(m.TrustListRecord.sequence).label("trust_sequence")).subquery("latest")
_LISTED = aliased(m.Organization, name="listed")
"""The organization whose status list is read (the credential's; the row's may differ)."""
_LIST_COLUMNS = (
    m.StatusListRecord.organization_id.label("list_organization_id"),
    _LISTED.code.label("list_organization_code"),
    m.StatusListRecord.issued_at.label("list_issued_at"),
    m.StatusListRecord.signed.label("list_signed"),
)
_READ = select(_LATEST.c.trust_sequence, *CERTIFICATE_COLUMNS, *_LIST_COLUMNS).select_from(
    _LATEST.outerjoin(m.Certificate, m.Certificate.number == bindparam("number"))
    .outerjoin(m.Organization, m.Organization.id == m.Certificate.organization_id)
    .outerjoin(_LISTED, _LISTED.code == bindparam("organization"))
    .outerjoin(m.StatusListRecord, m.StatusListRecord.organization_id == _LISTED.id)
)
"""Always exactly one row: the sequence, then the certificate's columns and the list's
(``NULL`` when there is none, or when the number or organization is ``NULL``)."""
_CERTIFICATE_KEYS = tuple(c.key for c in CERTIFICATE_COLUMNS)


class VerificationReader:
    def __init__(self, database: Database) -> None:
        self._engine = database.read_engine

    def read(self, number: str | None, organization: str | None) -> VerificationRead:
        """The sequence, the row of ``number`` and ``organization``'s list; ``None`` asks
        for nothing (a credential that does not verify needs neither)."""
        try:
            with self._engine.connect() as connection:
                row = one_statement(connection).execute(_READ, {"number": number, "organization": organization}).one()
        except PoolTimeout as exc:
            raise Unavailable.busy() from exc
        return _record(row)


def _record(row: Row[tuple[object, ...]]) -> VerificationRead:
    values = row._mapping
    certificate = None
    if values["id"] is not None:
        certificate = CertificateRecord(**{key: values[key] for key in _CERTIFICATE_KEYS})
    listed = None
    if values["list_signed"] is not None:
        listed = StatusListRow(
            values["list_organization_id"],
            values["list_organization_code"],
            values["list_issued_at"],
            values["list_signed"],
        )
    return VerificationRead(int(values["trust_sequence"] or 0), certificate, listed)
