"""Reading certificates: an organization's own (in full), the authority's view, and
statistics without personal data (the public lookup answers from signed data: ``verifying``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from issuer.core import identity
from issuer.core.assessment import Method, Passed
from issuer.core.errors import InvalidInput, NotFound
from issuer.service.context import Context
from issuer.service.principal import Principal, Role, require_role
from issuer.store.records import CertificateFilter, CertificateRecord, DailyCount, Statistic
from issuer.store.uow import UnitOfWork

MAX_PAGE_SIZE = 100
MAX_PAGE = 100_000
"""The last page a search may ask for: past it the offset would overflow the database's integer."""


@dataclass(frozen=True)
class Search:
    number: str | None = None
    """A prefix of the certificate number."""
    name: str | None = None
    """Part of the holder's name."""
    document_number: str | None = None
    """The whole document number, or its last 1–4 characters (what the masked form shows)."""
    batch: str | None = None
    occupation: str | None = None
    level: int | None = None
    issued_from: date | None = None
    issued_until: date | None = None
    revoked: bool | None = None
    page: int = 1
    per_page: int = 20


@dataclass(frozen=True)
class Breakdown:
    """(issued, revoked) per key: organization code; month ``YYYY-MM``; (occupation, level)."""

    organizations: dict[str, tuple[int, int]]
    months: dict[str, tuple[int, int]]
    occupations: dict[tuple[str, int], tuple[int, int]]

    @classmethod
    def of(cls, counts: Sequence[DailyCount]) -> Breakdown:
        tables: tuple[dict[Any, list[int]], ...] = ({}, {}, {})
        for c in counts:
            keys = (c.organization, f"{c.day:%Y-%m}", (c.occupation, c.level))
            for table, key in zip(tables, keys, strict=True):
                sums = table.setdefault(key, [0, 0])
                sums[0] += c.issued
                sums[1] += c.revoked
        organizations, months, occupations = ({k: (v[0], v[1]) for k, v in sorted(t.items())} for t in tables)
        return cls(organizations, months, occupations)


DOCUMENT_TAIL = 4
"""Characters of a document number a search may give alone: its last ones, as masked forms
show them (``1101**********002X``); more than that, and the whole number is looked up."""


@dataclass(frozen=True)
class Page:
    items: list[CertificateRecord]
    total: int
    page: int
    per_page: int


def visible(uow: UnitOfWork, principal: Principal, number: str) -> CertificateRecord:
    """A certificate the principal may see: its own organization's, or any for the authority.
    Another organization's certificate is reported as not found, revealing nothing."""
    text = number.strip().upper()
    record = uow.certificates.get(text)
    if record is None or (principal.role is Role.ORG_ISSUER and record.organization_id != principal.organization_id):
        raise NotFound("certificate_not_found", f"no certificate {text}", f"没有证书{text}")
    return record


def document_number(ctx: Context, record: CertificateRecord) -> str:
    """The full document number (decrypted; the ciphertext is bound to the certificate number)."""
    return ctx.cipher.decrypt(record.document_number_encrypted, context=record.number.encode())


def assessment_of(ctx: Context, record: CertificateRecord) -> tuple[Method, tuple[Passed, ...]]:
    """The method a certificate was assessed by and each component as judged, with the date
    it was passed; a certificate from before these were kept passed its exams on its issue
    date."""
    method = ctx.methods.by_code(record.assessment_method) or ctx.methods.default
    if record.assessment:
        return method, tuple(Passed.from_json(r) for r in record.assessment)
    exams = (("theory", record.score_theory), ("practical", record.score_practical), ("review", record.score_review))
    return method, tuple(Passed(key, record.issue_date, score) for key, score in exams if score is not None)


class Certificates:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def search(self, principal: Principal | None, query: Search) -> Page:
        p = require_role(principal, Role.ORG_ISSUER)
        if not 1 <= query.per_page <= MAX_PAGE_SIZE or not 1 <= query.page <= MAX_PAGE:
            raise InvalidInput(
                "invalid_page", f"page 1-{MAX_PAGE} and per_page 1-100", f"页码应在1至{MAX_PAGE}之间，每页1至100条"
            )
        typed = identity.normalize_document_number(query.document_number or "")
        tail = typed if 0 < len(typed) <= DOCUMENT_TAIL else None
        where = CertificateFilter(
            number_prefix=query.number.strip().upper() if query.number else None,
            name_contains=query.name.strip() if query.name and query.name.strip() else None,
            document_number_hmac=self._ctx.cipher.lookup_hash(typed) if len(typed) > DOCUMENT_TAIL else None,
            document_tail=tail,
            batch_id=query.batch.strip().lower() if query.batch else None,
            occupation=query.occupation.strip() if query.occupation else None,
            level=query.level,
            issued_from=query.issued_from,
            issued_until=query.issued_until,
            revoked=query.revoked,
        )
        assert p.organization_id is not None
        with self._ctx.reading() as uow:
            found = uow.certificates.search(p.organization_id, where, page=query.page, per_page=query.per_page)
        return Page(found.items, found.total, query.page, query.per_page)

    def get(self, principal: Principal | None, number: str) -> CertificateRecord:
        p = require_role(principal, Role.ORG_ISSUER, Role.AUTHORITY_ADMIN)
        with self._ctx.reading() as uow:
            return visible(uow, p, number)

    def photo(self, principal: Principal | None, number: str) -> bytes | None:
        p = require_role(principal, Role.ORG_ISSUER, Role.AUTHORITY_ADMIN)
        with self._ctx.reading() as uow:
            return uow.certificates.photo(visible(uow, p, number).number)

    def holder_photo(self, number: str) -> bytes | None:
        """The photo for the public lookup, whose caller proved the holder's name and
        document number (``Verifying.lookup``); everyone else asks ``photo``."""
        with self._ctx.reading() as uow:
            return uow.certificates.photo(number)

    def document_number(self, record: CertificateRecord) -> str:
        return document_number(self._ctx, record)

    def by_number(self, number: str) -> CertificateRecord | None:
        with self._ctx.reading() as uow:
            return uow.certificates.get(number)

    def of_document(self, document_number_hmac: str, limit: int) -> list[CertificateRecord]:
        with self._ctx.reading() as uow:
            return uow.certificates.of_document(document_number_hmac, limit)

    def breakdown(self, principal: Principal | None) -> Breakdown:
        """Certificates issued and revoked per organization, per month and per occupation and
        level, for the authority (no personal data)."""
        require_role(principal, Role.AUDITOR, Role.AUTHORITY_ADMIN)
        with self._ctx.reading() as uow:
            counts = uow.certificates.daily_counts()
        return Breakdown.of(counts)

    def statistics(self, principal: Principal | None) -> list[Statistic]:
        """Counts per organization and level: no personal data."""
        require_role(principal, Role.AUDITOR, Role.AUTHORITY_ADMIN)
        with self._ctx.reading() as uow:
            return uow.certificates.statistics()
