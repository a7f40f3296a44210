"""Registered organizations: their status history, scope and keys."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from issuer.store import models as m
from issuer.store.records import (
    KeyRecord,
    OrganizationRecord,
    ScopeRecord,
    StatusChangeRecord,
)


def _record(org: m.Organization) -> OrganizationRecord:
    return OrganizationRecord(
        id=org.id,
        code=org.code,
        name=org.name,
        registered_from=org.registered_from,
        registered_until=org.registered_until,
        status=org.status,
        created_at=org.created_at,
        layout=org.layout,
        has_background=org.background is not None,
        has_logo=org.logo is not None,
        has_seal=org.seal is not None,
        status_history=tuple(StatusChangeRecord(c.status, c.since, c.note) for c in org.status_history),
        scope=tuple(
            ScopeRecord(
                s.id,
                s.occupation,
                s.edition,
                tuple(s.levels),
                tuple(s.work_types),
                s.valid_from,
                s.valid_until,
            )
            for s in org.scope
        ),
        keys=tuple(
            KeyRecord(k.id, k.kid, k.certificate, k.status, k.created_at, k.retired_at, k.compromised_at)
            for k in org.keys
        ),
    )


def _select() -> Select[tuple[m.Organization]]:
    """Organizations with their history, scope and keys, read afresh from the database
    (``populate_existing``): what this transaction changed shows in every record."""
    return select(m.Organization).options(*_loaded()).execution_options(populate_existing=True)


def _loaded() -> tuple[object, ...]:
    return (
        selectinload(m.Organization.status_history),
        selectinload(m.Organization.scope),
        selectinload(m.Organization.keys),
    )


class OrganizationRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def _row(self, organization_id: int) -> m.Organization:
        org = self._session.get(m.Organization, organization_id)
        assert org is not None, organization_id
        return org

    def get(self, code: str, *, lock: bool = False) -> OrganizationRecord | None:
        """The organization; with ``lock``, its row stays locked until the transaction ends
        (PostgreSQL ``FOR UPDATE``; SQLite writers hold the database lock anyway): issuing
        and changing an organization then happen one after the other, so no certificate is
        issued under a state that a concurrent change is about to end."""
        query = _select().where(m.Organization.code == code)
        org = self._session.scalars(query.with_for_update(of=m.Organization) if lock else query).first()
        return None if org is None else _record(org)

    def get_by_id(self, organization_id: int, *, lock: bool = False) -> OrganizationRecord | None:
        query = _select().where(m.Organization.id == organization_id)
        org = self._session.scalars(query.with_for_update(of=m.Organization) if lock else query).first()
        return None if org is None else _record(org)

    def all(self) -> list[OrganizationRecord]:
        found = self._session.scalars(_select().order_by(m.Organization.code))
        return [_record(o) for o in found]

    def exists(self, code: str) -> bool:
        return self._session.scalars(select(m.Organization.id).where(m.Organization.code == code)).first() is not None

    def add(
        self,
        *,
        code: str,
        name: str,
        registered_from: date,
        registered_until: date | None,
        created_at: datetime,
    ) -> int:
        org = m.Organization(
            code=code,
            name=name,
            registered_from=registered_from,
            registered_until=registered_until,
            status="active",
            created_at=created_at,
        )
        self._session.add(org)
        self._session.flush()
        return org.id

    def add_status_change(
        self, organization_id: int, status: str, since: datetime, note: str, created_at: datetime
    ) -> None:
        org = self._row(organization_id)
        org.status = status
        org.status_history.append(m.StatusChange(status=status, since=since, note=note, created_at=created_at))
        self._session.flush()

    def add_scope(
        self,
        organization_id: int,
        entries: Iterable[tuple[str, int, tuple[int, ...], tuple[str, ...]]],
        valid_from: datetime | None,
    ) -> None:
        """Scope entries (occupation, edition, levels, work types) in force from ``valid_from``."""
        org = self._row(organization_id)
        for occupation, edition, levels, work_types in entries:
            org.scope.append(
                m.ScopeEntry(
                    occupation=occupation,
                    edition=edition,
                    levels=list(levels),
                    work_types=list(work_types),
                    valid_from=valid_from,
                )
            )
        self._session.flush()

    def end_scope(self, entry_id: int, until: datetime) -> None:
        entry = self._session.get(m.ScopeEntry, entry_id)
        assert entry is not None
        entry.valid_until = until
        self._session.flush()

    def add_key(self, organization_id: int, kid: str, certificate: bytes, created_at: datetime) -> KeyRecord:
        key = m.SigningKey(
            organization_id=organization_id, kid=kid, certificate=certificate, status="active", created_at=created_at
        )
        self._session.add(key)
        self._session.flush()
        return KeyRecord(key.id, key.kid, key.certificate, key.status, key.created_at, None, None)

    def set_key_status(
        self, key_id: int, status: str, *, retired_at: datetime | None = None, compromised_at: datetime | None = None
    ) -> None:
        key = self._session.get(m.SigningKey, key_id)
        assert key is not None
        key.status = status
        if retired_at is not None:
            key.retired_at = retired_at
        if compromised_at is not None:
            key.compromised_at = compromised_at
        self._session.flush()

    def set_appearance(
        self, organization_id: int, layout: str, background: bytes | None, logo: bytes | None, seal: bytes | None
    ) -> None:
        org = self._row(organization_id)
        org.layout, org.background, org.logo, org.seal = layout, background, logo, seal
        self._session.flush()

    def images(self, organization_id: int) -> tuple[bytes | None, bytes | None, bytes | None]:
        """The background, logo and seal its certificates print with."""
        row = self._session.execute(
            select(m.Organization.background, m.Organization.logo, m.Organization.seal).where(
                m.Organization.id == organization_id
            )
        ).one()
        return row.background, row.logo, row.seal
