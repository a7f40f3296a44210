"""Registered organizations: their status history, scope and keys.

Reading an organization whole takes four statements (it and its three kinds of children);
issuing reads it in every transaction. So a process keeps the records it read
(``KnownOrganizations``, one per database) under the organization's ``revision``, which
every writer here sets to a new random value in the same transaction: a transaction reads
the revision (one row, locked when asked) and reuses the record read at that revision.
A change that rolled back leaves a revision that no later change repeats."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.orm import Session

from issuer.store import models as m
from issuer.store.records import (
    KeyRecord,
    OrganizationRecord,
    ScopeRecord,
    StatusChangeRecord,
)

_ORGANIZATION = (
    m.Organization.revision,
    m.Organization.id,
    m.Organization.code,
    m.Organization.name,
    m.Organization.registered_from,
    m.Organization.registered_until,
    m.Organization.status,
    m.Organization.created_at,
    m.Organization.layout,
    m.Organization.background.is_not(None).label("has_background"),
    m.Organization.logo.is_not(None).label("has_logo"),
    m.Organization.seal.is_not(None).label("has_seal"),
)


def _children(owner: Any, *columns: Any) -> Select[Any]:
    """Rows of an organization's children (owner id first), for the organizations bound to
    ``ids``, in id order. Statements are built once: building one costs more than running it."""
    return select(owner, *columns).where(owner.in_(bindparam("ids", expanding=True))).order_by(owner, columns[0])


_HISTORY = _children(
    m.StatusChange.organization_id, m.StatusChange.id, m.StatusChange.status, m.StatusChange.since, m.StatusChange.note
)
_SCOPE = _children(
    m.ScopeEntry.organization_id,
    m.ScopeEntry.id,
    m.ScopeEntry.occupation,
    m.ScopeEntry.edition,
    m.ScopeEntry.levels,
    m.ScopeEntry.work_types,
    m.ScopeEntry.valid_from,
    m.ScopeEntry.valid_until,
)
_KEYS = _children(
    m.SigningKey.organization_id,
    m.SigningKey.id,
    m.SigningKey.kid,
    m.SigningKey.certificate,
    m.SigningKey.status,
    m.SigningKey.created_at,
    m.SigningKey.retired_at,
    m.SigningKey.compromised_at,
)
_BY_ID = select(*_ORGANIZATION).where(m.Organization.id == bindparam("key"))
_BY_CODE = select(*_ORGANIZATION).where(m.Organization.code == bindparam("key"))
_ALL = select(*_ORGANIZATION).order_by(m.Organization.code)
_REVISION = {
    "id": select(m.Organization.id, m.Organization.revision).where(m.Organization.id == bindparam("key")),
    "code": select(m.Organization.id, m.Organization.revision).where(m.Organization.code == bindparam("key")),
}


class Lock(Enum):
    """How a read locks the organization's row until the transaction ends (PostgreSQL; a
    SQLite writer holds the database lock anyway). ``SHARE``: the organization cannot change
    meanwhile, but other ``SHARE`` holders (issuers) go on; ``UPDATE``: for changing it."""

    NONE = "none"
    SHARE = "share"
    UPDATE = "update"


_REVISION_LOCKED = {
    Lock.NONE: _REVISION,
    Lock.SHARE: {by: q.with_for_update(read=True, of=m.Organization) for by, q in _REVISION.items()},
    Lock.UPDATE: {by: q.with_for_update(of=m.Organization) for by, q in _REVISION.items()},
}
_WHOLE = {"id": _BY_ID, "code": _BY_CODE}
KEPT = 1024
"""Organization records a process keeps."""


def new_revision() -> int:
    return secrets.randbits(62) + 1


class KnownOrganizations:
    """Records a process has read, by organization id, with the revision read with them."""

    def __init__(self, limit: int = KEPT) -> None:
        self._limit = limit
        self._records: dict[int, tuple[int, OrganizationRecord]] = {}
        self._lock = threading.Lock()

    def get(self, organization_id: int, revision: int) -> OrganizationRecord | None:
        found = self._records.get(organization_id)
        return found[1] if found is not None and found[0] == revision else None

    def keep(self, revision: int, record: OrganizationRecord) -> None:
        with self._lock:
            if len(self._records) >= self._limit:
                self._records.clear()
            self._records[record.id] = (revision, record)


_IMPRINT = select(m.Organization.code, m.Organization.name, m.Organization.layout).where(
    m.Organization.id == bindparam("key")
)


def _by_organization(session: Session, query: Select[Any], ids: list[int]) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {i: [] for i in ids}
    if ids:
        for row in session.connection().execute(query, {"ids": ids}):
            found[row[0]].append(row[1:])
    return found


def _records(
    session: Session, query: Select[Any], params: dict[str, Any] | None = None
) -> list[tuple[int, OrganizationRecord]]:
    """The organizations ``query`` selects (from ``_ORGANIZATION``) with their history,
    scope and keys, each with its revision: plain rows read afresh from the database (no
    ORM objects), so that what this transaction changed shows in every record and nothing
    else is loaded (not the images)."""
    orgs = session.connection().execute(query, params).all()
    ids = [o.id for o in orgs]
    history, scope, keys = (_by_organization(session, q, ids) for q in (_HISTORY, _SCOPE, _KEYS))
    return [
        (
            o.revision,
            OrganizationRecord(
                id=o.id,
                code=o.code,
                name=o.name,
                registered_from=o.registered_from,
                registered_until=o.registered_until,
                status=o.status,
                created_at=o.created_at,
                layout=o.layout,
                has_background=bool(o.has_background),
                has_logo=bool(o.has_logo),
                has_seal=bool(o.has_seal),
                status_history=tuple(
                    StatusChangeRecord(status, since, note) for _, status, since, note in history[o.id]
                ),
                scope=tuple(
                    ScopeRecord(i, occupation, edition, tuple(levels), tuple(work_types), valid_from, valid_until)
                    for i, occupation, edition, levels, work_types, valid_from, valid_until in scope[o.id]
                ),
                keys=tuple(KeyRecord(*key) for key in keys[o.id]),
            ),
        )
        for o in orgs
    ]


class OrganizationRepository:
    def __init__(self, session: Session, known: KnownOrganizations) -> None:
        self._session = session
        self._known = known

    def _row(self, organization_id: int) -> m.Organization:
        org = self._session.get(m.Organization, organization_id)
        assert org is not None, organization_id
        return org

    def get(self, code: str, *, lock: Lock = Lock.NONE) -> OrganizationRecord | None:
        """The organization; with ``lock``, its row stays locked until the transaction ends:
        issuing (``SHARE``) and changing an organization (``UPDATE``) then happen one after
        the other, so no certificate is issued under a state that a concurrent change is
        about to end, while issuers do not wait for one another here."""
        return self._one("code", code, lock)

    def get_by_id(self, organization_id: int, *, lock: Lock = Lock.NONE) -> OrganizationRecord | None:
        return self._one("id", organization_id, lock)

    def _one(self, by: str, key: object, lock: Lock) -> OrganizationRecord | None:
        connection = self._session.connection()
        row = connection.execute(_REVISION_LOCKED[lock][by], {"key": key}).first()
        if row is None:
            return None
        known = self._known.get(row.id, row.revision)
        if known is not None:
            return known
        found = _records(self._session, _WHOLE[by], {"key": key})
        if not found:
            return None
        revision, record = found[0]
        self._known.keep(revision, record)
        return record

    def _touch(self, organization_id: int) -> None:
        """A new revision: what any process kept of the organization is stale."""
        self._session.execute(
            update(m.Organization).where(m.Organization.id == organization_id).values(revision=new_revision())
        )

    def imprint(self, organization_id: int) -> tuple[str, str, str] | None:
        """The code, name and layout the organization prints on its certificates."""
        row = self._session.execute(_IMPRINT, {"key": organization_id}).first()
        return None if row is None else (row.code, row.name, row.layout)

    def all(self) -> list[OrganizationRecord]:
        return [record for _, record in _records(self._session, _ALL)]

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
            revision=new_revision(),
        )
        self._session.add(org)
        self._session.flush()
        return org.id

    def add_status_change(
        self, organization_id: int, status: str, since: datetime, note: str, created_at: datetime
    ) -> None:
        org = self._row(organization_id)
        org.status, org.revision = status, new_revision()
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
        org.revision = new_revision()
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
        self._touch(entry.organization_id)

    def kid_taken(self, kid: str) -> bool:
        """Whether a key of any organization has ``kid`` (hex)."""
        return self._session.scalar(select(m.SigningKey.id).where(m.SigningKey.kid == kid).limit(1)) is not None

    def add_key(self, organization_id: int, kid: str, certificate: bytes, created_at: datetime) -> KeyRecord:
        key = m.SigningKey(
            organization_id=organization_id, kid=kid, certificate=certificate, status="active", created_at=created_at
        )
        self._session.add(key)
        self._session.flush()
        self._touch(organization_id)
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
        self._touch(key.organization_id)

    def set_appearance(
        self, organization_id: int, layout: str, background: bytes | None, logo: bytes | None, seal: bytes | None
    ) -> None:
        org = self._row(organization_id)
        org.layout, org.background, org.logo, org.seal = layout, background, logo, seal
        org.revision = new_revision()
        self._session.flush()

    def images(self, organization_id: int) -> tuple[bytes | None, bytes | None, bytes | None]:
        """The background, logo and seal its certificates print with."""
        row = self._session.execute(
            select(m.Organization.background, m.Organization.logo, m.Organization.seal).where(
                m.Organization.id == organization_id
            )
        ).one()
        return row.background, row.logo, row.seal
