"""Issuing and revoking certificates: validation, numbering, signing and storage in one
transaction per request; retries with the same Idempotency-Key replay the first answer."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.core import identity, qrtext, trust
from issuer.core import transparency as log_format
from issuer.core.assessment import Component, require_pass
from issuer.core.catalogue import EDITION_2022
from issuer.core.clock import china_date
from issuer.core.credential import Credential
from issuer.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from issuer.core.numbering import CertificateNumber, OrganizationCode
from issuer.service import status_lists, transparency
from issuer.service.context import Services
from issuer.service.idempotency import run_once
from issuer.service.numbering import allocate
from issuer.service.pictures import check_image
from issuer.service.principal import Principal, Role, require_role
from issuer.service.registry import trust_entry
from issuer.store import models as m

MAX_PHOTO_BYTES = 500 * 1024
STATUS_LIST_SIZE = 1 << 20
"""Status-list indexes are drawn at random from this range per organization, so that an
index reveals nothing about issue order."""

REVOCATION_REASONS = {
    "issued_in_error": ("issued in error", "错误签发"),
    "fraud": ("obtained by fraud or cheating", "弄虚作假取得"),
    "data_error": ("data on the certificate is wrong", "证书信息有误"),
    "duplicate": ("issued twice", "重复发证"),
    "organization_revoked": ("the organization's evaluation was revoked", "评价结果被撤销"),
    "other": ("other", "其他"),
}


@dataclass(frozen=True)
class IssueRequest:
    holder_name: str
    document_type: str | int
    document_number: str
    occupation: str
    level: int
    scores: dict[str, Decimal] = field(default_factory=dict)
    work_type: str | None = None
    issue_date: date | None = None
    photo: bytes | None = None

    def fingerprint(self) -> str:
        """What makes two requests the same, for Idempotency-Key checks."""
        body = {
            "holder_name": self.holder_name,
            "document_type": str(self.document_type),
            "document_number": identity.normalize_document_number(self.document_number),
            "occupation": self.occupation,
            "level": self.level,
            "scores": {k: str(v) for k, v in sorted(self.scores.items())},
            "work_type": self.work_type,
            "issue_date": self.issue_date.isoformat() if self.issue_date else None,
            "photo": hashlib.sha256(self.photo).hexdigest() if self.photo else None,
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def organization_of(session: Session, principal: Principal) -> m.Organization:
    org = session.get(m.Organization, principal.organization_id)
    if org is None:
        raise Forbidden("organization_unknown", "the API key's organization no longer exists", "密钥所属机构不存在")
    return org


def check_registered(org: trust.OrganizationEntry, on: date) -> None:
    if not org.registered_on(on):
        raise Forbidden(
            "outside_registration",
            f"the organization's registration does not cover {on}",
            f"{on}不在机构备案有效期内",
        )
    status = org.status_on(on)
    if status != "active":
        raise Forbidden(
            "organization_not_active",
            f"the organization is {status or 'not registered'} on {on}",
            f"机构在{on}的状态为{ {'suspended': '暂停', 'cancelled': '撤销'}.get(status or '', '未备案') }，不能发证",
        )


def check_scope(org: trust.OrganizationEntry, occupation: str, level: int, work_type: str | None, on: date) -> None:
    """The verifier's own rule (``OrganizationEntry.in_scope``), so that nothing is issued
    that an offline verifier would call out of scope."""
    if org.in_scope(occupation, EDITION_2022, level, work_type, on):
        return
    wt = f"（{work_type}）" if work_type else ""
    raise Forbidden(
        "out_of_scope",
        f"occupation {occupation}{f' ({work_type})' if work_type else ''} level {level} is not in the registered scope",
        f"职业{occupation}{wt}{level}级不在机构备案范围内（不得超范围评价）",
    )


Prepared = tuple[str, dict[str, Any], dict[Component, Decimal]]
"""The normalized document number, the credential's fields, the scores."""


def prepare(svc: Services, request: IssueRequest, today: date) -> Prepared:
    """Validate the holder, occupation, level and results (no database needed)."""
    doc_type = svc.document_types.get(request.document_type)
    number = identity.validate_document(doc_type, request.document_number, today=today)
    occupation = svc.catalogue.occupation(request.occupation)
    if request.level not in occupation.levels:
        raise InvalidInput(
            "level_not_in_standard",
            f"{occupation.name} has no level {request.level}",
            f"{occupation.name}没有{request.level}级",
        )
    work_type = (request.work_type or "").strip() or None
    if work_type == "--":
        work_type = None
    if occupation.work_types and work_type is not None:
        known = occupation.work_type(work_type)
        if known is None:
            raise InvalidInput(
                "unknown_work_type",
                f"{occupation.name} has no work type {work_type!r}",
                f"{occupation.name}没有工种/职业方向“{work_type}”",
            )
        if request.level not in known.levels:
            raise InvalidInput(
                "level_not_in_work_type",
                f"{work_type} has no level {request.level}",
                f"{work_type}没有{request.level}级",
            )
    issue_date = request.issue_date or today
    if issue_date > today:
        raise InvalidInput("future_issue_date", "the issue date is in the future", "发证日期不能晚于今天")
    try:
        scores = {Component(k): v for k, v in request.scores.items()}
    except ValueError:
        raise InvalidInput(
            "unknown_component", "scores are theory, practical and review", "成绩科目应为理论、技能操作和综合评审"
        ) from None
    require_pass(request.level, scores)
    if request.photo is not None:
        check_image(request.photo, what="photo", what_zh="照片", max_bytes=MAX_PHOTO_BYTES, max_pixels=2000)
    fields = {
        "holder_name": request.holder_name,
        "document_type": doc_type.code,
        "document_commitment": identity.commit(number),
        "occupation": occupation.code,
        "level": request.level,
        "issue_date": issue_date,
        "work_type": work_type,
    }
    return number, fields, scores


@dataclass(frozen=True)
class Imprint:
    """What an organization prints on its certificates besides the holder's data."""

    organization_code: str
    organization_name: str
    layout: str

    @classmethod
    def of(cls, org: m.Organization) -> Imprint:
        return cls(org.code, org.name, org.layout)


def check_printable(svc: Services, imprint: Imprint, prepared: Prepared, photo: bytes | None) -> None:
    """Refuse, before a number is taken, what the organization's certificate layout cannot
    print: a character no font has (a box would be printed) or a value too long for its box."""
    from issuer.render import default_renderer, load_layout, view_for

    number_text, fields, _ = prepared
    issue_date: date = fields["issue_date"]
    org_code = OrganizationCode.parse(imprint.organization_code, svc.catalogue)
    sample = Credential(number=CertificateNumber(org_code, issue_date.year % 100, fields["level"], 1), **fields)
    view = view_for(
        sample,
        qr_text="",
        organization_name=imprint.organization_name,
        document_number=number_text,
        photo=photo,
        english=load_layout(imprint.layout).english,
        catalogue=svc.catalogue,
        document_types=svc.document_types,
    )
    default_renderer().check(view, layout=imprint.layout)


def _status_indexes(session: Session, org_id: int, count: int) -> list[int]:
    """``count`` distinct random indexes that the organization does not use yet."""
    chosen: set[int] = set()
    while len(chosen) < count:
        candidates = {secrets.randbelow(STATUS_LIST_SIZE) for _ in range(count - len(chosen))} - chosen
        taken = set(
            session.scalars(
                select(m.Certificate.status_index).where(
                    m.Certificate.organization_id == org_id, m.Certificate.status_index.in_(candidates)
                )
            )
        )
        chosen |= candidates - taken
    return list(chosen)


@dataclass(frozen=True)
class Issued:
    record: m.Certificate
    qr_text: str
    replayed: bool = False


def issue_in(
    svc: Services, session: Session, principal: Principal, items: Sequence[tuple[IssueRequest, Prepared]]
) -> list[Issued]:
    """Issue every item inside ``session``'s transaction, in order. Serials come as one
    contiguous block per (year, level), so a roster's certificates are numbered together."""
    now = svc.clock()
    org = organization_of(session, principal)
    entry = trust_entry(org)
    for _, (_, fields, _) in items:
        check_registered(entry, fields["issue_date"])
        check_scope(entry, fields["occupation"], fields["level"], fields["work_type"], fields["issue_date"])
    key = next((k for k in org.keys if k.status == "active"), None)
    if key is None:
        raise Conflict("no_active_key", "the organization has no active signing key", "机构没有可用的签名密钥")
    signer = svc.signer(org.code, key.kid)
    org_code = OrganizationCode.parse(org.code, svc.catalogue)
    groups: dict[tuple[int, int], list[int]] = {}
    for position, (_, (_, fields, _)) in enumerate(items):
        groups.setdefault((fields["issue_date"].year % 100, fields["level"]), []).append(position)
    numbers: dict[int, CertificateNumber] = {}
    for (year, level), positions in groups.items():
        first = allocate(session, org.code, year, level, len(positions))
        for offset, position in enumerate(positions):
            numbers[position] = CertificateNumber(org_code, year, level, first + offset)
    indexes = _status_indexes(session, org.id, len(items))
    issued = []
    for position, (request, (number_text, fields, scores)) in enumerate(items):
        number = numbers[position]
        credential = Credential(number=number, status_index=indexes[position], **fields)
        signed = signer.sign(credential)
        record = m.Certificate(
            number=str(number),
            organization_id=org.id,
            signing_key_id=key.id,
            holder_name=credential.holder_name,
            document_type=credential.document_type,
            document_number_encrypted=svc.cipher.encrypt(number_text, context=str(number).encode()),
            document_number_hmac=svc.cipher.lookup_hash(number_text),
            document_number_masked=identity.mask(number_text),
            occupation=credential.occupation,
            occupation_edition=credential.occupation_edition,
            work_type=credential.work_type,
            level=credential.level,
            issue_date=credential.issue_date,
            score_theory=scores.get(Component.THEORY),
            score_practical=scores.get(Component.PRACTICAL),
            score_review=scores.get(Component.REVIEW),
            photo=request.photo,
            status_index=credential.status_index,
            credential=signed,
            created_at=now,
            created_by=principal.actor,
        )
        issued.append(Issued(record, qrtext.encode(signed, svc.qr_host)))
    indexes = transparency.append(svc, session, [log_format.issue_entry(i.record.credential, now) for i in issued])
    for done, index in zip(issued, indexes, strict=True):
        done.record.log_index = index  # before the INSERT: one statement per certificate
        session.add(done.record)
    session.flush()
    return issued


def issue(
    svc: Services,
    principal: Principal | None,
    request: IssueRequest,
    *,
    idempotency_key: str | None = None,
    render: Callable[[Issued], dict[str, Any]],
) -> tuple[dict[str, Any], bool]:
    """Issue one certificate. Returns the response body (made by ``render`` inside the
    transaction, so that a retry can replay it) and whether it was replayed."""
    p = require_role(principal, Role.ORG_ISSUER)

    def prepared() -> Prepared:
        ready = prepare(svc, request, china_date(svc.clock()))
        with svc.db.reading() as session:
            imprint = Imprint.of(organization_of(session, p))
        check_printable(svc, imprint, ready, request.photo)
        return ready

    def work(session: Session, ready: Prepared) -> dict[str, Any]:
        [issued] = issue_in(svc, session, p, [(request, ready)])
        return render(issued)

    return run_once(svc, p, idempotency_key, request.fingerprint(), prepare=prepared, work=work)


def revoke(svc: Services, principal: Principal | None, number: str, *, reason: str, note: str = "") -> m.Certificate:
    p = require_role(principal, Role.ORG_ISSUER, Role.AUTHORITY_ADMIN)
    if reason not in REVOCATION_REASONS:
        raise InvalidInput(
            "invalid_reason",
            f"reason must be one of {', '.join(REVOCATION_REASONS)}",
            "撤销原因应为：" + "、".join(zh for _, zh in REVOCATION_REASONS.values()),
        )
    if len(note) > 1000:
        raise InvalidInput("note_too_long", "the note is limited to 1000 characters", "备注不能超过1000个字符")
    from issuer.service import audit

    def work(session: Session) -> m.Certificate:
        now = svc.clock()
        record = find_certificate(session, p, number)
        if record.revoked_at is not None:
            raise Conflict("already_revoked", f"{record.number} is already revoked", f"证书{record.number}已撤销")
        record.revoked_at, record.revocation_reason = now, reason
        record.revocation_note, record.revoked_by = note, p.actor
        _log_revocation(svc, session, record, now)
        status_lists.publish(svc, session, record.organization)
        audit.append(
            session,
            at=now,
            actor=p.actor,
            action="certificate.revoke",
            target=record.number,
            details={"reason": reason, "note": note},
        )
        return record

    return svc.retrying(work)


def _log_revocation(svc: Services, session: Session, record: m.Certificate, now: datetime) -> None:
    """The revocation in the transparency log, stated by a key of the issuing organization
    (the active one; the one that signed the certificate if none is active)."""
    keys = record.organization.keys
    key = next((k for k in keys if k.status == "active"), None) or next(
        k for k in keys if k.id == record.signing_key_id
    )
    signer = svc.signer(record.organization.code, key.kid)
    statement = log_format.revoke_statement(record.number, record.status_index, record.revocation_reason or "", now)
    transparency.append(svc, session, [log_format.signed_entry("revoke", statement, signer.key, signer.kid, now)])


def find_certificate(session: Session, principal: Principal, number: str) -> m.Certificate:
    """A certificate the principal may see: its own organization's, or any for the authority.
    Another organization's certificate is reported as not found, revealing nothing."""
    text = number.strip().upper()
    record = session.scalars(select(m.Certificate).where(m.Certificate.number == text)).first()
    if record is None or (principal.role is Role.ORG_ISSUER and record.organization_id != principal.organization_id):
        raise NotFound("certificate_not_found", f"no certificate {text}", f"没有证书{text}")
    _ = record.organization
    return record
