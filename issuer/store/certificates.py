"""Issued certificates: stored once, revoked at most once, searched by their organization."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import cast

from sqlalchemy import Select, Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from issuer.store import models as m
from issuer.store.records import (
    CertificateFilter,
    CertificateRecord,
    DailyCount,
    NewCertificate,
    Page,
    Revocation,
    Statistic,
    UnloggedCertificate,
)

COLUMNS = (
    m.Certificate.id,
    m.Certificate.number,
    m.Certificate.organization_id,
    m.Organization.code.label("organization_code"),
    m.Organization.name.label("organization_name"),
    m.Certificate.signing_key_id,
    m.Certificate.holder_name,
    m.Certificate.document_type,
    m.Certificate.document_number_encrypted,
    m.Certificate.document_number_hmac,
    m.Certificate.document_number_masked,
    m.Certificate.occupation,
    m.Certificate.occupation_edition,
    m.Certificate.work_type,
    m.Certificate.level,
    m.Certificate.issue_date,
    m.Certificate.issued_at,
    m.Certificate.qualification,
    m.Certificate.score_theory,
    m.Certificate.score_practical,
    m.Certificate.score_review,
    m.Certificate.photo.is_not(None).label("has_photo"),
    m.Certificate.status_index,
    m.Certificate.credential,
    m.Certificate.created_at,
    m.Certificate.created_by,
    m.Certificate.revoked_at,
    m.Certificate.revocation_reason,
    m.Certificate.revocation_note,
    m.Certificate.revoked_by,
    m.Certificate.log_index,
    m.Certificate.replaces,
    m.Certificate.replaced_by,
    m.Certificate.assessment_method,
    m.Certificate.assessment,
)


def _select() -> Select[tuple[object, ...]]:
    return select(*COLUMNS).join(m.Organization, m.Organization.id == m.Certificate.organization_id)


def _records(rows: Iterable[object]) -> list[CertificateRecord]:
    return [CertificateRecord(**row._mapping) for row in rows]  # type: ignore[attr-defined]


_HELD = select(m.Certificate.qualification, m.Certificate.number).where(
    m.Certificate.organization_id == bindparam("org"),
    m.Certificate.qualification.in_(bindparam("wanted", expanding=True)),
    m.Certificate.revoked_at.is_(None),
)
_INDEXES_TAKEN = select(m.Certificate.status_index).where(
    m.Certificate.organization_id == bindparam("org"),
    m.Certificate.status_index.in_(bindparam("wanted", expanding=True)),
)
_BY_NUMBER = _select().where(m.Certificate.number == bindparam("number"))
"""Statements every issuance or verification runs, built once."""
_CERTIFICATES = cast(Table, m.Certificate.__table__)
_ADD = insert(_CERTIFICATES).returning(_CERTIFICATES.c.id, sort_by_parameter_order=True)
_SET_LOG_INDEX = (
    update(_CERTIFICATES).where(_CERTIFICATES.c.id == bindparam("certificate")).values(log_index=bindparam("index"))
)
"""Both through the table: the ORM would take a list of rows for its bulk path."""
_UNLOGGED = (
    select(_CERTIFICATES.c.id, _CERTIFICATES.c.credential, _CERTIFICATES.c.created_at)
    .where(_CERTIFICATES.c.log_index.is_(None))
    .order_by(_CERTIFICATES.c.id)
)


class CertificateRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, number: str) -> CertificateRecord | None:
        # Core, not the ORM: public verification reads this on every request.
        found = _records(self._session.connection().execute(_BY_NUMBER, {"number": number}))
        return found[0] if found else None

    def of_document(self, document_number_hmac: str, limit: int) -> list[CertificateRecord]:
        """Every organization's certificates of one document number (by its HMAC), the
        latest issued first, at most ``limit``."""
        c = m.Certificate
        query = _select().where(c.document_number_hmac == document_number_hmac)
        return _records(self._session.execute(query.order_by(c.issued_at.desc(), c.id.desc()).limit(limit)))

    def after(self, after_id: int, limit: int) -> list[CertificateRecord]:
        """Every organization's certificates with an id above ``after_id``, in id order (a page)."""
        query = _select().where(m.Certificate.id > after_id).order_by(m.Certificate.id).limit(limit)
        return _records(self._session.execute(query))

    def photo(self, number: str) -> bytes | None:
        return self._session.scalar(select(m.Certificate.photo).where(m.Certificate.number == number))

    def held(self, organization_id: int, qualifications: Iterable[str]) -> dict[str, str]:
        """Qualification → number of the organization's live certificates among ``qualifications``."""
        rows = self._session.connection().execute(
            _HELD, {"org": organization_id, "wanted": sorted(set(qualifications))}
        )
        return {qualification: number for qualification, number in rows}

    def status_indexes_taken(self, organization_id: int, candidates: Iterable[int]) -> set[int]:
        return set(
            self._session.connection().scalars(
                _INDEXES_TAKEN, {"org": organization_id, "wanted": sorted(set(candidates))}
            )
        )

    def revoked_indexes(self, organization_id: int) -> set[int]:
        return set(
            self._session.scalars(
                select(m.Certificate.status_index).where(
                    m.Certificate.organization_id == organization_id, m.Certificate.revoked_at.is_not(None)
                )
            )
        )

    def add_many(self, certificates: Sequence[NewCertificate]) -> list[int]:
        """Insert the certificates (one statement, through the table: not the ORM's bulk
        path); returns their ids, in order."""
        if not certificates:
            return []
        rows = [vars(c) for c in certificates]  # flat records: no need for asdict's deep copy
        ids = self._session.connection().scalars(_ADD, rows)
        return list(ids)

    def unlogged(self, limit: int | None = None) -> list[UnloggedCertificate]:
        """Certificates stored without a log index, in the order they were stored (by id),
        the first ``limit`` of them (``None``: all)."""
        query = _UNLOGGED if limit is None else _UNLOGGED.limit(limit)
        return [UnloggedCertificate(*row) for row in self._session.connection().execute(query)]

    def set_log_indexes(self, indexes: Sequence[tuple[int, int]]) -> None:
        """Give certificates stored without a log index theirs: (certificate id, index)."""
        if indexes:
            self._session.connection().execute(_SET_LOG_INDEX, [{"certificate": c, "index": i} for c, i in indexes])

    def revoke(self, number: str, revocation: Revocation) -> None:
        self._session.execute(
            update(m.Certificate)
            .where(m.Certificate.number == number)
            .values(
                revoked_at=revocation.at,
                revocation_reason=revocation.reason,
                revocation_note=revocation.note,
                revoked_by=revocation.by,
                replaced_by=revocation.replaced_by,
            )
        )

    def search(self, organization_id: int, where: CertificateFilter, *, page: int, per_page: int) -> Page:
        query = _select().where(m.Certificate.organization_id == organization_id)
        c = m.Certificate
        if where.number_prefix:
            query = query.where(c.number.startswith(where.number_prefix, autoescape=True))
        if where.name_contains:
            query = query.where(c.holder_name.contains(where.name_contains, autoescape=True))
        if where.document_number_hmac:
            query = query.where(c.document_number_hmac == where.document_number_hmac)
        if where.document_tail:
            query = query.where(c.document_number_masked.endswith(where.document_tail, autoescape=True))
        if where.batch_id:
            items = select(m.BatchItem.certificate_id).where(m.BatchItem.batch_id == where.batch_id)
            query = query.where(c.id.in_(items))
        if where.occupation:
            query = query.where(c.occupation == where.occupation)
        if where.level is not None:
            query = query.where(c.level == where.level)
        if where.issued_from:
            query = query.where(c.issue_date >= where.issued_from)
        if where.issued_until:
            query = query.where(c.issue_date <= where.issued_until)
        if where.revoked is not None:
            query = query.where(c.revoked_at.is_not(None) if where.revoked else c.revoked_at.is_(None))
        total = self._session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self._session.execute(query.order_by(c.id.desc()).offset((page - 1) * per_page).limit(per_page))
        return Page(_records(rows), total)

    def log_index(self, number: str) -> int | None:
        return self._session.scalar(select(m.Certificate.log_index).where(m.Certificate.number == number))

    def daily_counts(self) -> list[DailyCount]:
        """Counts per organization, occupation, level and issue day (no personal data)."""
        c = m.Certificate
        rows = self._session.execute(
            select(m.Organization.code, c.occupation, c.level, c.issue_date, func.count(c.id), func.count(c.revoked_at))
            .join(m.Organization, m.Organization.id == c.organization_id)
            .group_by(m.Organization.code, c.occupation, c.level, c.issue_date)
        )
        return [DailyCount(*row) for row in rows]

    def statistics(self) -> list[Statistic]:
        rows = self._session.execute(
            select(
                m.Organization.code,
                m.Certificate.level,
                func.count(m.Certificate.id),
                func.count(m.Certificate.revoked_at),
            )
            .join(m.Organization, m.Organization.id == m.Certificate.organization_id)
            .group_by(m.Organization.code, m.Certificate.level)
            .order_by(m.Organization.code, m.Certificate.level)
        )
        return [Statistic(code, level, issued, revoked) for code, level, issued, revoked in rows]
