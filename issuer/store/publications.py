"""What the service publishes: every signed trust list, in order, each organization's
latest signed status list, and the bundle's manifest as last signed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from issuer.store import models as m
from issuer.store.records import ManifestRow, StatusListRow, TrustListRow

_LATEST_SEQUENCE = select(func.max(m.TrustListRecord.sequence))
_STATUS_LIST = (
    select(
        m.StatusListRecord.organization_id,
        m.Organization.code,
        m.StatusListRecord.issued_at,
        m.StatusListRecord.signed,
    )
    .join(m.Organization, m.Organization.id == m.StatusListRecord.organization_id)
    .where(m.Organization.code == bindparam("code"))
)
_MANIFEST = select(m.BundleManifestRecord.issued_at, m.BundleManifestRecord.signed).where(
    m.BundleManifestRecord.id == 1
)
_UPDATE_MANIFEST = (
    update(m.BundleManifestRecord)
    .where(m.BundleManifestRecord.id == 1)
    .values(issued_at=bindparam("issued_at"), signed=bindparam("signed"))
)
"""Statements every public verification or issuance runs, built once."""


class TrustListRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def latest(self) -> TrustListRow | None:
        row = self._session.scalars(
            select(m.TrustListRecord).order_by(m.TrustListRecord.sequence.desc()).limit(1)
        ).first()
        return None if row is None else TrustListRow(row.sequence, row.issued_at, row.signed)

    def latest_sequence(self) -> int:
        # Core, not the ORM: public verification reads this on every request.
        return int(self._session.connection().execute(_LATEST_SEQUENCE).scalar() or 0)

    def add(self, sequence: int, issued_at: datetime, signed: bytes) -> None:
        """A new list; a concurrent publisher of the same sequence makes this transaction retry."""
        self._session.add(m.TrustListRecord(sequence=sequence, issued_at=issued_at, signed=signed))
        self._session.flush()


class StatusListRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def all(self) -> list[StatusListRow]:
        rows = self._session.execute(
            select(
                m.StatusListRecord.organization_id,
                m.Organization.code,
                m.StatusListRecord.issued_at,
                m.StatusListRecord.signed,
            )
            .join(m.Organization, m.Organization.id == m.StatusListRecord.organization_id)
            .order_by(m.Organization.code)
        )
        return [StatusListRow(*row) for row in rows]

    def get(self, organization_code: str) -> StatusListRow | None:
        # Core, not the ORM: public verification reads this on every request.
        row = self._session.connection().execute(_STATUS_LIST, {"code": organization_code}).first()
        return None if row is None else StatusListRow(*row)

    def save(self, organization_id: int, issued_at: datetime, signed: bytes) -> None:
        row = self._session.get(m.StatusListRecord, organization_id)
        if row is None:
            self._session.add(m.StatusListRecord(organization_id=organization_id, issued_at=issued_at, signed=signed))
        else:
            row.issued_at, row.signed = issued_at, signed
        self._session.flush()


class ManifestRepository:
    """The one ``bundle_manifest`` row."""

    def __init__(self, session: Session) -> None:
        self._session = session

    # Core, not the ORM: every issuance reads and writes this row (and every GET reads it).

    def latest(self) -> ManifestRow | None:
        row = self._session.connection().execute(_MANIFEST).first()
        return None if row is None else ManifestRow(*row)

    def save(self, issued_at: datetime, signed: bytes) -> None:
        values = {"issued_at": issued_at, "signed": signed}
        if self._session.connection().execute(_UPDATE_MANIFEST, values).rowcount == 0:
            self._session.connection().execute(insert(m.BundleManifestRecord).values(id=1, **values))
