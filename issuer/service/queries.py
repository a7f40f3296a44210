"""Reading certificates: an organization's own (full), the public lookup (masked)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from issuer.core.errors import InvalidInput, NotFound
from issuer.core.numbering import CertificateNumber
from issuer.service.context import Services
from issuer.service.issuance import find_certificate
from issuer.service.principal import Principal, Role, require_role
from issuer.store import models as m

MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Search:
    number: str | None = None
    name: str | None = None
    document_number: str | None = None
    occupation: str | None = None
    level: int | None = None
    issued_from: date | None = None
    issued_until: date | None = None
    revoked: bool | None = None
    page: int = 1
    per_page: int = 20


@dataclass(frozen=True)
class Page:
    items: list[m.Certificate]
    total: int
    page: int
    per_page: int


def search(svc: Services, principal: Principal | None, query: Search) -> Page:
    p = require_role(principal, Role.ORG_ISSUER)
    if not 1 <= query.per_page <= MAX_PAGE_SIZE or query.page < 1:
        raise InvalidInput("invalid_page", "page >= 1 and per_page 1-100", "页码应不小于1，每页1至100条")
    stmt = select(m.Certificate).where(m.Certificate.organization_id == p.organization_id)
    if query.number:
        stmt = stmt.where(m.Certificate.number.startswith(query.number.strip().upper(), autoescape=True))
    if query.name:
        stmt = stmt.where(m.Certificate.holder_name == query.name.strip())
    if query.document_number:
        stmt = stmt.where(m.Certificate.document_number_hmac == svc.cipher.lookup_hash(query.document_number))
    if query.occupation:
        stmt = stmt.where(m.Certificate.occupation == query.occupation.strip())
    if query.level is not None:
        stmt = stmt.where(m.Certificate.level == query.level)
    if query.issued_from:
        stmt = stmt.where(m.Certificate.issue_date >= query.issued_from)
    if query.issued_until:
        stmt = stmt.where(m.Certificate.issue_date <= query.issued_until)
    if query.revoked is not None:
        stmt = stmt.where(
            m.Certificate.revoked_at.is_not(None) if query.revoked else m.Certificate.revoked_at.is_(None)
        )
    with svc.db.reading() as session:
        total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        items = list(
            session.scalars(
                stmt.order_by(m.Certificate.id.desc()).offset((query.page - 1) * query.per_page).limit(query.per_page)
            )
        )
        for item in items:
            _ = item.organization
    return Page(items, total, query.page, query.per_page)


def get(svc: Services, principal: Principal | None, number: str) -> m.Certificate:
    p = require_role(principal, Role.ORG_ISSUER, Role.AUTHORITY_ADMIN)
    with svc.db.reading() as session:
        return find_certificate(session, p, number)


def document_number(svc: Services, record: m.Certificate) -> str:
    return svc.cipher.decrypt(record.document_number_encrypted, context=record.number.encode())


def lookup(svc: Services, number: str, name: str, document_number: str) -> m.Certificate:
    """The public lookup: all three must match; any mismatch is the same "not found"."""
    try:
        parsed = str(CertificateNumber.parse(number, svc.catalogue))
    except InvalidInput:
        raise _no_match() from None
    with svc.db.reading() as session:
        record = _by_number(session, parsed)
    if (
        record is None
        or record.holder_name != name.strip()
        or record.document_number_hmac != svc.cipher.lookup_hash(document_number)
    ):
        raise _no_match()
    return record


def _by_number(session: Session, number: str) -> m.Certificate | None:
    record = session.scalars(select(m.Certificate).where(m.Certificate.number == number)).first()
    if record is not None:
        _ = record.organization
    return record


def by_number(svc: Services, number: str) -> m.Certificate | None:
    with svc.db.reading() as session:
        return _by_number(session, number)


def _no_match() -> NotFound:
    return NotFound(
        "no_matching_certificate",
        "no certificate matches this number, name and document number",
        "未查到与该编号、姓名和证件号码相符的证书",
    )


def statistics(svc: Services, principal: Principal | None) -> list[dict[str, object]]:
    """Counts per organization, year and level: no personal data."""
    require_role(principal, Role.AUDITOR, Role.AUTHORITY_ADMIN)
    with svc.db.reading() as session:
        rows = session.execute(
            select(
                m.Organization.code,
                m.Certificate.level,
                func.count(m.Certificate.id),
                func.count(m.Certificate.revoked_at),
            )
            .join(m.Organization, m.Organization.id == m.Certificate.organization_id)
            .group_by(m.Organization.code, m.Certificate.level)
            .order_by(m.Organization.code, m.Certificate.level)
        ).all()
    return [{"organization": code, "level": lv, "issued": n, "revoked": r} for code, lv, n, r in rows]
