"""Issuing, re-issuing and revoking certificates: validation, numbering, signing and storage
in one transaction per request; retries with the same Idempotency-Key replay the first answer.

Issuing is judged at the moment it happens, with the verifier's own rules (``core.policy``):
the organization must be registered, active and in scope now and at the instant the
credential states, with a key valid at both. One person holds at most one live certificate
per organization, occupation, 工种 and level: a second is refused (``already_certified``); the
way to correct one is to re-issue it (``replaces``), which revokes the old certificate as
``reissued`` and issues the new one in one transaction."""

from __future__ import annotations

import hashlib
import json
import secrets
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.core import cose, identity, pki, policy, qrtext, trust
from issuer.core import transparency as log_format
from issuer.core.assessment import Component, require_pass
from issuer.core.catalogue import EDITION_2022
from issuer.core.credential import Credential, encode_payload
from issuer.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from issuer.core.numbering import CertificateNumber, OrganizationCode
from issuer.core.policy import IssueTime
from issuer.core.verify import verify_signed
from issuer.service import lifecycle, status_lists, transparency
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
REISSUED = "reissued"
"""The reason a re-issue records on the certificate it replaces (not one a clerk picks)."""
REISSUED_WORDS = ("replaced by a new certificate", "已换发新证")


def reason_words(reason: str | None) -> tuple[str, str]:
    """(English, Chinese) for a stored revocation reason."""
    if reason == REISSUED:
        return REISSUED_WORDS
    return REVOCATION_REASONS.get(reason or "", ("", ""))


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
    replaces: str | None = None
    """The number of a certificate of the same organization that this one replaces (换发)."""

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
            "replaces": self.replaces,
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def organization_of(session: Session, principal: Principal) -> m.Organization:
    org = session.get(m.Organization, principal.organization_id)
    if org is None:
        raise Forbidden("organization_unknown", "the API key's organization no longer exists", "密钥所属机构不存在")
    return org


def check_may_issue(
    org: trust.OrganizationEntry, occupation: str, level: int, work_type: str | None, *times: IssueTime
) -> None:
    """The verifier's rules for registration, status and scope, at each of ``times`` (now,
    and the instant the credential states), so that nothing is issued that a verifier
    would refuse. Raises ``policy.RuleBroken``."""
    for when in times:
        policy.check_registration(org, when)
        policy.check_scope(org, occupation, EDITION_2022, level, work_type, when)


Prepared = tuple[str, dict[str, Any], dict[Component, Decimal]]
"""The normalized document number, the credential's fields, the scores."""


def prepare(svc: Services, request: IssueRequest, now: datetime) -> Prepared:
    """Validate the holder, occupation, level, results and stated issue date (no database
    needed)."""
    when = lifecycle.issue_time(request.issue_date, now, max_backdate_days=svc.max_backdate_days)
    doc_type = svc.document_types.get(request.document_type)
    number = identity.validate_document(doc_type, request.document_number, today=when.day)
    occupation = svc.catalogue.issuable(request.occupation)
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
        "issue_date": when.day,
        "issued_at": when.instant,
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
    """Refuse, before a number is taken, what the certificate cannot print: a character no
    font has (a box would be printed), a value too long for its box, or data too long for a
    QR code that phones read (modules of at least 0.6 mm on every layout, ``render.qr``)."""
    from issuer.render import check_qr_text, default_renderer, load_layout, view_for

    number_text, fields, _ = prepared
    issue_date: date = fields["issue_date"]
    org_code = OrganizationCode.parse(imprint.organization_code, svc.catalogue)
    number = CertificateNumber(org_code, issue_date.year % 100, fields["level"], 1)
    sample = Credential(number=number, status_index=STATUS_LIST_SIZE - 1, **fields)
    check_qr_text(qrtext.encode(cose.sign(encode_payload(sample), _stand_in_key(), bytes(8)), svc.qr_host))
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


@cache
def _stand_in_key() -> Ed25519PrivateKey:
    """Signs the longest credential a request can give, to measure its QR text: a signature
    is 64 bytes whoever makes it, and the largest status index takes the most bytes."""
    return Ed25519PrivateKey.generate()


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
    replaced: m.Certificate | None = None


def qualification(svc: Services, document_number: str, fields: dict[str, Any]) -> str:
    """What one person may hold once per organization: their document (by its HMAC), the
    occupation, edition, 工种 and level."""
    parts = (
        svc.cipher.lookup_hash(document_number),
        fields["document_type"],
        fields["occupation"],
        fields.get("occupation_edition", EDITION_2022),
        unicodedata.normalize("NFC", fields["work_type"] or ""),
        fields["level"],
    )
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


def held_certificates(session: Session, org_id: int, wanted: set[str]) -> dict[str, str]:
    """Qualification → number of the live certificates of the organization among ``wanted``."""
    c = m.Certificate
    rows = session.execute(
        select(c.qualification, c.number).where(
            c.organization_id == org_id, c.qualification.in_(wanted), c.revoked_at.is_(None)
        )
    )
    return {qualification: number for qualification, number in rows}


def already_certified(number: str) -> Conflict:
    return Conflict(
        "already_certified",
        f"this person already holds certificate {number} for this occupation, work type and level "
        "(to correct it, re-issue it: replaces)",
        f"此人已持有本机构颁发的该职业（工种）等级证书{number}；如需更正，请换发",
        errors={"number": number},
    )


def _signing_key(
    org: m.Organization, entry: trust.OrganizationEntry, root: x509.Certificate, *times: IssueTime
) -> m.SigningKey:
    """The organization's active key, valid (its certificate and status) at each of ``times``."""
    key = next((k for k in org.keys if k.status == "active"), None)
    if key is None:
        raise Conflict("no_active_key", "the organization has no active signing key", "机构没有可用的签名密钥")
    certificate = pki.parse_organization_certificate(key.certificate)
    key_entry = next(k for k in entry.keys if k.certificate == key.certificate)
    for when in times:
        policy.check_key(key_entry, when)
        policy.check_certificate(certificate, root, chains=True, org_code=org.code, when=when)
    return key


def issue_in(
    svc: Services, session: Session, principal: Principal, items: Sequence[tuple[IssueRequest, Prepared]]
) -> list[Issued]:
    """Issue every item inside ``session``'s transaction, in order. Serials come as one
    contiguous block per (year, level), so a roster's certificates are numbered together."""
    now = svc.clock()
    at_now = IssueTime.at(lifecycle.to_second(now))
    org = organization_of(session, principal)
    entry = trust_entry(org)
    times = {}
    for position, (_, (_, fields, _)) in enumerate(items):
        when = IssueTime(fields["issue_date"], fields["issued_at"])
        check_may_issue(entry, fields["occupation"], fields["level"], fields["work_type"], at_now, when)
        times[position] = when
    root = svc.keystore.authority_certificate()
    key = _signing_key(org, entry, root, at_now, *set(times.values()))
    verifier = trust.TrustStore(root, trust.TrustList("", at_now.instant or now, 0, (entry,)), b"")
    replaced = {p: _replaced(session, principal, request.replaces) for p, (request, _) in enumerate(items)}
    wanted = {
        position: qualification(svc, number_text, fields)
        for position, (_, (number_text, fields, _)) in enumerate(items)
    }
    held = held_certificates(session, org.id, set(wanted.values()))
    for position, want in wanted.items():
        old = replaced[position]
        if want in held and (old is None or held[want] != old.number):
            raise already_certified(held[want])
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
        refuse_unless_it_verifies(verifier, signed, now)
        old = replaced[position]
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
            issued_at=credential.issued_at,
            qualification=wanted[position],
            score_theory=scores.get(Component.THEORY),
            score_practical=scores.get(Component.PRACTICAL),
            score_review=scores.get(Component.REVIEW),
            photo=request.photo,
            status_index=credential.status_index,
            credential=signed,
            created_at=now,
            created_by=principal.actor,
            replaces=old.number if old is not None else None,
        )
        issued.append(Issued(record, qrtext.encode(signed, svc.qr_host), old))
    for done in issued:
        if done.replaced is not None:
            _revoke(
                svc, session, done.replaced, now, principal, reason=REISSUED, note="", replaced_by=done.record.number
            )
    if any(done.replaced is not None for done in issued):
        session.flush()  # the old certificates leave the one-live-certificate index first
        status_lists.publish(svc, session, org)
    indexes = transparency.append(svc, session, [log_format.issue_entry(i.record.credential, now) for i in issued])
    for done, index in zip(issued, indexes, strict=True):
        done.record.log_index = index  # before the INSERT: one statement per certificate
        session.add(done.record)
    session.flush()
    return issued


def refuse_unless_it_verifies(store: trust.TrustStore, signed: bytes, at: datetime) -> None:
    """Check a signed credential with the offline verifier's own rules before it is stored:
    nothing is handed out that a verifier holding the published trust list would refuse.
    (Revocation status aside: a new credential is not revoked.)"""
    verdict = verify_signed(signed, store, at=at, check_status=False)
    check = verdict.deciding
    if check is None:
        return
    raise Forbidden(
        check.reason or "not_verifiable",
        f"the credential would not verify ({check.name}: {check.detail})",
        f"签发的证书无法通过验证（{check.name}：{check.detail_zh}），未发证",
    )


def _replaced(session: Session, principal: Principal, number: str | None) -> m.Certificate | None:
    """The certificate a request replaces: the principal's own, not yet revoked."""
    if number is None:
        return None
    old = find_certificate(session, principal, number)
    if old.replaced_by is not None:
        raise Conflict(
            "already_reissued",
            f"{old.number} was already replaced by {old.replaced_by}",
            f"证书{old.number}已换发为{old.replaced_by}",
            errors={"number": old.replaced_by},
        )
    if old.revoked_at is not None:
        raise Conflict(
            "already_revoked", f"{old.number} is revoked: it cannot be re-issued", f"证书{old.number}已撤销，不能换发"
        )
    return old


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
        ready = prepare(svc, request, svc.clock())
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

    def work(session: Session) -> m.Certificate:
        record = find_certificate(session, p, number)
        if record.revoked_at is not None:
            raise Conflict("already_revoked", f"{record.number} is already revoked", f"证书{record.number}已撤销")
        _revoke(svc, session, record, svc.clock(), p, reason=reason, note=note)
        status_lists.publish(svc, session, record.organization)
        return record

    return svc.retrying(work)


def _revoke(
    svc: Services,
    session: Session,
    record: m.Certificate,
    now: datetime,
    principal: Principal,
    *,
    reason: str,
    note: str,
    replaced_by: str | None = None,
) -> None:
    """Mark ``record`` revoked, log it and audit it (the caller republishes the status list)."""
    from issuer.service import audit

    record.revoked_at, record.revocation_reason = now, reason
    record.revocation_note, record.revoked_by, record.replaced_by = note, principal.actor, replaced_by
    _log_revocation(svc, session, record, now)
    details = {"reason": reason, "note": note} | ({"replaced_by": replaced_by} if replaced_by else {})
    audit.append(
        session,
        at=now,
        actor=principal.actor,
        action="certificate.reissue" if replaced_by else "certificate.revoke",
        target=record.number,
        details=details,
    )


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
