"""Issuing and re-issuing certificates: validation, numbering, signing and storage in one
transaction per request, or per group of one API key's requests that came together (group
commit, ``together``); a retry with the same Idempotency-Key replays the first answer.

Issuing is judged at the moment it happens, with the verifier's own rules (``core.policy``):
the organization must be registered, active and in scope now and at the instant the
credential states, with a key valid at both. One person holds at most one live certificate
per organization, occupation, 工种 and level: a second is refused (``already_certified``); the
way to correct one is to re-issue it (``replaces``), which revokes the old certificate as
``reissued`` and issues the new one in one transaction."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from issuer.core import cose, identity, policy, qrtext, trust
from issuer.core.assessment import Assessment, Placing, Result, judge
from issuer.core.catalogue import EDITION_2022
from issuer.core.credential import Credential, encode_payload
from issuer.core.errors import Conflict, Forbidden, InvalidInput
from issuer.core.formulas import refuse_formula
from issuer.core.numbering import CertificateNumber, OrganizationCode
from issuer.core.policy import IssueTime
from issuer.core.redaction import refuse_document_number
from issuer.core.statuslist import STATUS_LIST_BITS
from issuer.core.verify import verify_signed
from issuer.service import lifecycle
from issuer.service.certificates import visible
from issuer.service.context import Context
from issuer.service.idempotency import first_answer, keyed_fingerprint, remember, run_once
from issuer.service.numbering import allocate
from issuer.service.pictures import check_photo
from issuer.service.principal import Principal, Role, require_role
from issuer.service.publishing import Publishing, trust_entry
from issuer.service.revoking import REISSUED, Revoking
from issuer.service.sequencer import Sequencer
from issuer.service.together import Together, Waiting
from issuer.store.organizations import Lock
from issuer.store.records import CertificateRecord, KeyRecord, NewCertificate, OrganizationRecord
from issuer.store.uow import UnitOfWork

MAX_PHOTO_BYTES = 500 * 1024
MAX_PHOTO_PIXELS = 2000
GROUP_MOST = 64
"""Requests of one API key issued together in one transaction, at most (``together``)."""
VERIFIERS_KEPT = 256
"""Organizations whose trust store one process keeps for checking what it signs."""


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
    method: str | None = None
    """The assessment method (评价方式) by key, code or Chinese name; None: 考试考核."""
    passed_on: dict[str, date] = field(default_factory=dict)
    """The China date each score component was passed; one left out: the issue date."""
    placing: Placing | None = None
    """The competition result (竞赛选拔)."""
    edition: int | None = None
    """The 职业分类大典 edition ``occupation`` is a code of; None: 2022."""

    def fingerprint(self) -> str:
        """What makes two requests the same, for Idempotency-Key checks. What a request of
        the default method, with no dates and a 2022 code, leaves out is not part of it, so
        that such a request hashes as it always did."""
        extra: dict[str, Any] = {
            "method": self.method,
            "passed_on": {k: v.isoformat() for k, v in sorted(self.passed_on.items())} or None,
            "placing": dataclasses.asdict(self.placing) if self.placing else None,
            "edition": self.edition,
        }
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
            **{k: v for k, v in extra.items() if v is not None},
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


Prepared = tuple[str, dict[str, Any], Assessment]
"""The normalized document number, the credential's fields, the assessment as judged."""


def prepare(ctx: Context, request: IssueRequest, now: datetime) -> Prepared:
    """Validate the holder, occupation (a code of ``request.edition``, translated to 2022),
    level, results by the assessment method's rule and stated issue date (no store needed).
    The photo is checked against the layout (``check_printable``)."""
    for refuse in (refuse_formula, refuse_document_number):
        refuse(request.holder_name, "holder_name", "holder name", "持证人姓名")
    when = lifecycle.issue_time(request.issue_date, now, max_backdate_days=ctx.max_backdate_days)
    doc_type = ctx.document_types.get(request.document_type)
    number = ctx.document_types.check(doc_type, request.document_number, on=when.day, min_age=ctx.min_holder_age)
    occupation = ctx.catalogue.issuable(ctx.catalogue.current(request.occupation, request.edition).code)
    if request.level not in occupation.levels:
        raise InvalidInput(
            "level_not_in_standard",
            f"{occupation.name} has no level {request.level}",
            f"{occupation.name}没有{request.level}级",
        )
    work_type = (request.work_type or "").strip() or None
    if work_type == "--":
        work_type = None
    if work_type is not None:
        for refuse in (refuse_formula, refuse_document_number):
            refuse(request.work_type or "", "work_type", "work type", "工种/职业方向")
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
    method = ctx.methods.get(request.method)
    results = {
        key: Result(request.scores.get(key), request.passed_on.get(key))
        for key in dict.fromkeys([*request.scores, *request.passed_on])
    }
    assessment = judge(request.level, results, issued_on=when.day, method=method, placing=request.placing)
    fields = {
        "holder_name": request.holder_name,
        "document_type": doc_type.code,
        "document_commitment": identity.commit(number),
        "occupation": occupation.code,
        "level": request.level,
        "issue_date": when.day,
        "issued_at": when.instant,
        "work_type": work_type,
        "assessment_method": method.code,
    }
    return number, fields, assessment


def check_may_issue(
    org: trust.OrganizationEntry, occupation: str, level: int, work_type: str | None, *times: IssueTime
) -> None:
    """The verifier's rules for registration, status and scope, at each of ``times`` (now,
    and the instant the credential states), so that nothing is issued that a verifier
    would refuse. Raises ``policy.RuleBroken``."""
    for when in times:
        policy.check_registration(org, when)
        policy.check_scope(org, occupation, EDITION_2022, level, work_type, when)


@dataclass(frozen=True)
class Imprint:
    """What an organization prints on its certificates besides the holder's data."""

    organization_code: str
    organization_name: str
    layout: str

    @classmethod
    def of(cls, org: OrganizationRecord) -> Imprint:
        return cls(org.code, org.name, org.layout)


def check_printable(
    ctx: Context,
    imprint: Imprint,
    prepared: Prepared,
    photo: bytes | None,
    *,
    photo_checked: bool = False,
) -> None:
    """Refuse, before a number is taken, what the certificate cannot print: no photo, or one
    too small or not portrait, for a layout with a photo box (``pictures.check_photo``;
    ``photo_checked``: the caller did that part for this imprint, as a roster's row check
    does); a character no font has (a box would be printed), a value too long for its box, or
    data too long for a QR code that phones read (``_check_qr_length``, once per length)."""
    from issuer.render import default_renderer, load_layout, view_for

    number_text, fields, _ = prepared
    layout = load_layout(imprint.layout)
    if not photo_checked:
        check_photo(photo, layout.photo_box, max_bytes=MAX_PHOTO_BYTES, max_pixels=MAX_PHOTO_PIXELS)
    sample = _sample(ctx, imprint, fields)
    _check_qr_length(ctx.qr_host, len(encode_payload(sample)))
    view = view_for(
        sample,
        qr_text="",
        organization_name=imprint.organization_name,
        document_number=number_text,
        photo=None,  # checked above (decoding it again would take as long as the rest)
        english=layout.english,
        catalogue=ctx.catalogue,
        document_types=ctx.document_types,
    )
    default_renderer().check(view, layout=layout)


def _sample(ctx: Context, imprint: Imprint, fields: dict[str, Any]) -> Credential:
    """The credential the fields would make, with the longest status index."""
    issue_date: date = fields["issue_date"]
    org_code = OrganizationCode.parse(imprint.organization_code, ctx.catalogue)
    number = CertificateNumber(org_code, issue_date.year % 100, fields["level"], 1)
    return Credential(number=number, status_index=STATUS_LIST_BITS - 1, **fields)


@lru_cache(maxsize=4096)
def _check_qr_length(host: str, payload_length: int) -> None:
    """Raise ``QrTooLarge`` if a credential whose payload is ``payload_length`` bytes makes a
    QR text too long for a shipped layout. The text's length, and so the QR version, is a
    function of the payload's length alone (a COSE_Sign1 of fixed headers and a 64-byte
    signature, in base32 after a fixed URL), so one signed stand-in per length answers for
    every payload of that length; a length refused is not remembered."""
    from issuer.render import check_qr_text

    check_qr_text(qrtext.encode(cose.sign(bytes(payload_length), _stand_in_key(), bytes(8)), host))


@cache
def _stand_in_key() -> Ed25519PrivateKey:
    """Signs the longest credential a request can give, to measure its QR text: a signature
    is 64 bytes whoever makes it, and the largest status index takes the most bytes."""
    return Ed25519PrivateKey.generate()


def qualification(document_hmac: str, fields: dict[str, Any]) -> str:
    """What one person may hold once per organization: their document (by its HMAC,
    ``DocumentCipher.lookup_hash``), the occupation, edition, 工种 and level."""
    parts = (
        document_hmac,
        fields["document_type"],
        fields["occupation"],
        fields.get("occupation_edition", EDITION_2022),
        unicodedata.normalize("NFC", fields["work_type"] or ""),
        fields["level"],
    )
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


def already_certified(number: str) -> Conflict:
    return Conflict(
        "already_certified",
        f"this person already holds certificate {number} for this occupation, work type and level "
        "(to correct it, re-issue it: replaces)",
        f"此人已持有本机构颁发的该职业（工种）等级证书{number}；如需更正，请换发",
        errors={"number": number},
    )


def organization_of(uow: UnitOfWork, principal: Principal, *, lock: Lock = Lock.NONE) -> OrganizationRecord:
    assert principal.organization_id is not None
    org = uow.organizations.get_by_id(principal.organization_id, lock=lock)
    if org is None:
        raise _organization_unknown()
    return org


def _organization_unknown() -> Forbidden:
    return Forbidden("organization_unknown", "the API key's organization no longer exists", "密钥所属机构不存在")


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


def _signing_key(org: OrganizationRecord, verifier: trust.TrustStore, *times: IssueTime) -> KeyRecord:
    """The organization's active key, valid (its certificate and status) at each of ``times``."""
    key = org.active_key
    if key is None:
        raise Conflict("no_active_key", "the organization has no active signing key", "机构没有可用的签名密钥")
    known = verifier.key(bytes.fromhex(key.kid))
    if known is None:
        raise Conflict("no_active_key", "the organization's active key cannot be used", "机构的签名密钥无法使用")
    for when in times:
        policy.check_key(known.entry, when)
        policy.check_certificate(known.certificate, verifier.root_validity, chains=True, org_code=org.code, when=when)
    return key


def _status_indexes(uow: UnitOfWork, org_id: int, count: int) -> list[int]:
    """``count`` distinct random indexes that the organization does not use yet, so that an
    index reveals nothing about issue order."""
    chosen: set[int] = set()
    while len(chosen) < count:
        candidates = {secrets.randbelow(STATUS_LIST_BITS) for _ in range(count - len(chosen))} - chosen
        chosen |= candidates - uow.certificates.status_indexes_taken(org_id, candidates)
    return list(chosen)


def _refuse_replacing_twice(numbers: Sequence[str]) -> None:
    """Two items of one transaction that re-issue one certificate (requests of a group
    commit): refused, so that the group is issued one by one and the second is told
    ``already_reissued``."""
    seen: set[str] = set()
    for number in numbers:
        if number in seen:
            raise Conflict(
                "reissued_twice",
                f"{number} is re-issued twice in one transaction",
                f"证书{number}在同一事务中被换发两次",
            )
        seen.add(number)


class _Waiting(Waiting):
    """One issuance handed to the group commit, and what became of it."""

    def __init__(
        self,
        principal: Principal,
        request: IssueRequest,
        ready: Prepared,
        imprint: Imprint,
        key: str | None,
        fingerprint: str,
    ) -> None:
        super().__init__()
        self.principal, self.request, self.ready, self.imprint = principal, request, ready, imprint
        self.key, self.fingerprint = key, fingerprint
        self.record: CertificateRecord | None = None
        self.replayed: dict[str, Any] | None = None
        """The answer stored for its Idempotency-Key by a request that came first."""
        self.error: Exception | None = None


class Issuing:
    def __init__(self, ctx: Context, sequencer: Sequencer, publishing: Publishing, revoking: Revoking) -> None:
        self._ctx = ctx
        self._sequencer = sequencer
        self._together: Together[_Waiting] = Together(self._issue_group, most=GROUP_MOST)
        self._publishing = publishing
        self._revoking = revoking
        self._imprints: dict[int, Imprint] = {}
        """The imprint each organization had when last read: a request is checked against
        it before its transaction, and again inside the transaction if it has changed."""
        self._verifiers: dict[trust.OrganizationEntry, trust.TrustStore] = {}

    @property
    def context(self) -> Context:
        return self._ctx

    def imprint(self, principal: Principal) -> Imprint:
        """What the principal's organization prints (three columns, not the whole record),
        as last seen by this process: ``issue_in`` checks it against the organization it
        reads in its transaction."""
        assert principal.organization_id is not None
        known = self._imprints.get(principal.organization_id)
        if known is not None:
            return known
        with self._ctx.reading() as uow:
            found = uow.organizations.imprint(principal.organization_id)
        if found is None:
            raise _organization_unknown()
        self._imprints[principal.organization_id] = Imprint(*found)
        return Imprint(*found)

    def issue(
        self, principal: Principal | None, request: IssueRequest, *, idempotency_key: str | None = None
    ) -> tuple[CertificateRecord, bool]:
        """Issue one certificate. Returns it and whether the answer was replayed (a retry of
        a request that issued it already). Requests of one API key that come while one of
        its transactions runs are issued together in the next (``together``): a request
        the group cannot issue (a duplicate, a lost race) makes each of them issued alone,
        so that each gets its own answer or error."""
        p = require_role(principal, Role.ORG_ISSUER)
        hashed = keyed_fingerprint(idempotency_key, request.fingerprint)
        first = first_answer(self._ctx, p, idempotency_key, hashed)
        if first is not None:
            return self._replayed(first), True
        ready = prepare(self._ctx, request, self._ctx.clock())
        imprint = self.imprint(p)
        check_printable(self._ctx, imprint, ready, request.photo)
        waiting = _Waiting(p, request, ready, imprint, idempotency_key, hashed)
        self._together.submit(p, waiting)
        if waiting.error is not None:
            raise waiting.error
        if waiting.replayed is not None:
            return self._replayed(waiting.replayed), True
        assert waiting.record is not None
        return waiting.record, False

    def _replayed(self, answer: dict[str, Any]) -> CertificateRecord:
        with self._ctx.reading() as uow:
            record = uow.certificates.get(answer["number"])
        assert record is not None
        return record

    def _issue_group(self, group: Sequence[_Waiting]) -> None:
        """Issue ``group`` (one principal's requests) in one transaction, or, if that fails
        or the group is one, each alone with its own retries; then have them logged."""
        made: list[CertificateRecord] = []
        if len(group) > 1:
            try:
                made = self._together_in_one(group)
            except Exception:  # each alone says which, if any, cannot be issued
                made = []
        if made:
            for waiting, record in zip(group, made, strict=True):
                waiting.record = record
        else:
            for waiting in group:
                self._alone(waiting)
        logged = self._sequencer.issued() if any(w.record is not None for w in group) else {}
        for waiting in group:
            if waiting.record is not None:
                waiting.record = dataclasses.replace(waiting.record, log_index=logged.get(waiting.record.id))

    def _together_in_one(self, group: Sequence[_Waiting]) -> list[CertificateRecord]:
        principal, imprints = group[0].principal, {w.imprint for w in group}
        with self._ctx.units() as uow:
            made = self.issue_in(
                uow,
                principal,
                [(w.request, w.ready) for w in group],
                checked_for=imprints.pop() if len(imprints) == 1 else None,
            )
            for waiting, record in zip(group, made, strict=True):
                if waiting.key:
                    remember(uow, self._ctx, principal, waiting.key, waiting.fingerprint, {"number": record.number})
            uow.commit()
        return made

    def _alone(self, waiting: _Waiting) -> None:
        made: list[CertificateRecord] = []

        def work(uow: UnitOfWork, ready: Prepared) -> dict[str, Any]:
            made[:] = self.issue_in(uow, waiting.principal, [(waiting.request, ready)], checked_for=waiting.imprint)
            return {"number": made[0].number}

        try:
            answer, replayed = run_once(
                self._ctx,
                waiting.principal,
                waiting.key,
                waiting.fingerprint,
                prepare=lambda: waiting.ready,
                work=work,
            )
        except Exception as exc:  # handed to the request's own thread, which raises it
            waiting.error = exc
            return
        if replayed:
            waiting.replayed = answer
        else:
            waiting.record = made[0]

    def preview(self, principal: Principal | None, request: IssueRequest, *, dpi: int = 150) -> bytes:
        """The certificate ``request`` would make, as a PNG marked 样张 · 未签发 across and
        with a QR code that holds no credential: checked as issuing checks it (the person,
        the results, the organization's registration and scope now, printability), but
        nothing is numbered, signed or stored. Its number is the first of its year and level."""
        from issuer.render import default_renderer, load_layout, view_for
        from issuer.render.preview import mark_sample, preview_qr_text
        from issuer.render.view import Assets

        p = require_role(principal, Role.ORG_ISSUER)
        now = self._ctx.clock()
        ready = prepare(self._ctx, request, now)
        number_text, fields, _ = ready
        with self._ctx.reading() as uow:
            org = organization_of(uow, p)
            assets = uow.organizations.images(org.id)
        imprint = Imprint.of(org)
        check_printable(self._ctx, imprint, ready, request.photo)
        at_now = IssueTime.at(lifecycle.to_second(now))
        when = IssueTime(fields["issue_date"], fields["issued_at"])
        check_may_issue(trust_entry(org), fields["occupation"], fields["level"], fields["work_type"], at_now, when)
        layout = load_layout(imprint.layout)
        view = view_for(
            _sample(self._ctx, imprint, fields),
            qr_text=preview_qr_text(self._ctx.qr_host),
            organization_name=imprint.organization_name,
            document_number=number_text,
            photo=request.photo,
            english=layout.english,
            catalogue=self._ctx.catalogue,
            document_types=self._ctx.document_types,
        )
        png = default_renderer().encode(view, "png", layout=imprint.layout, assets=Assets(*assets), dpi=dpi)
        return mark_sample(png)

    def issue_in(
        self,
        uow: UnitOfWork,
        principal: Principal,
        items: Sequence[tuple[IssueRequest, Prepared]],
        *,
        checked_for: Imprint | None,
    ) -> list[CertificateRecord]:
        """Issue every item inside ``uow``'s transaction, in order. Serials come as one
        contiguous block per (year, level), so a roster's certificates are numbered together.
        The items were found printable for ``checked_for``; if the organization prints
        otherwise now (renamed, another layout), or they were not checked (``None``), they
        are checked here, before any number is taken.

        The certificates are stored without their log entries: once the transaction has
        committed, the caller tells the ``Sequencer`` (``issued``), which appends them."""
        ctx = self._ctx
        now = ctx.clock()
        at_now = IssueTime.at(lifecycle.to_second(now))
        org = organization_of(uow, principal, lock=Lock.SHARE)
        imprint = self._imprints[org.id] = Imprint.of(org)
        if imprint != checked_for:
            for request, ready in items:
                check_printable(ctx, imprint, ready, request.photo)
        entry = trust_entry(org)
        times = {}
        for position, (_, (_, fields, _)) in enumerate(items):
            when = IssueTime(fields["issue_date"], fields["issued_at"])
            check_may_issue(entry, fields["occupation"], fields["level"], fields["work_type"], at_now, when)
            times[position] = when
        verifier = self._verifier(entry)
        key = _signing_key(org, verifier, at_now, *set(times.values()))
        replaced = {p: self._replaced(uow, principal, request.replaces) for p, (request, _) in enumerate(items)}
        _refuse_replacing_twice([old.number for old in replaced.values() if old is not None])
        hmacs = [ctx.cipher.lookup_hash(number_text) for _, (number_text, _, _) in items]
        wanted = {
            position: qualification(hmacs[position], fields) for position, (_, (_, fields, _)) in enumerate(items)
        }
        held = uow.certificates.held(org.id, set(wanted.values()))
        for position, want in wanted.items():
            old = replaced[position]
            if want in held and (old is None or held[want] != old.number):
                raise already_certified(held[want])
        signer = ctx.keys.signer(org.code, key.kid)
        indexes = _status_indexes(uow, org.id, len(items))
        # From here to the commit the serial counters stay locked: only what needs the numbers.
        numbers = self._numbers(uow, org.code, [fields for _, (_, fields, _) in items])
        new: list[NewCertificate] = []
        for position, (request, (number_text, fields, assessment)) in enumerate(items):
            number = numbers[position]
            credential = Credential(number=number, status_index=indexes[position], **fields)
            signed = signer.sign(credential)
            refuse_unless_it_verifies(verifier, signed, now)
            old = replaced[position]
            new.append(
                NewCertificate(
                    number=str(number),
                    organization_id=org.id,
                    signing_key_id=key.id,
                    holder_name=credential.holder_name,
                    document_type=credential.document_type,
                    document_number_encrypted=ctx.cipher.encrypt(number_text, context=str(number).encode()),
                    document_number_hmac=hmacs[position],
                    document_number_masked=identity.mask(number_text),
                    occupation=credential.occupation,
                    occupation_edition=credential.occupation_edition,
                    work_type=credential.work_type,
                    level=credential.level,
                    issue_date=credential.issue_date,
                    issued_at=credential.issued_at,
                    qualification=wanted[position],
                    score_theory=assessment.score("theory"),
                    score_practical=assessment.score("practical"),
                    score_review=assessment.score("review"),
                    assessment_method=credential.assessment_method,
                    assessment=[r.to_json() for r in assessment.results],
                    photo=request.photo,
                    status_index=credential.status_index,
                    credential=signed,
                    created_at=now,
                    created_by=principal.actor,
                    log_index=None,
                    replaces=old.number if old is not None else None,
                )
            )
        for position, cert in enumerate(new):
            old = replaced[position]
            if old is not None:
                self._revoking.revoke_in(uow, old, now, principal, reason=REISSUED, note="", replaced_by=cert.number)
        if any(old is not None for old in replaced.values()):
            self._publishing.publish_status_list(uow, org)
        ids = uow.certificates.add_many(new)
        return [c.stored(i, org.code, org.name) for i, c in zip(ids, new, strict=True)]

    def _verifier(self, entry: trust.OrganizationEntry) -> trust.TrustStore:
        """A trust store holding only ``entry``, as a verifier holding the published trust
        list knows the organization: kept while the organization stays the same, so that
        its certificates are parsed and their chains checked once, not per certificate.
        (Its trust list's time matters only to status checks, which it is not used for.)"""
        root = self._ctx.keys.root_certificate()
        found = self._verifiers.get(entry)
        if found is None or found.root is not root:
            found = trust.TrustStore(root, trust.TrustList("", self._ctx.clock(), 0, (entry,)), b"")
            if len(self._verifiers) >= VERIFIERS_KEPT:
                self._verifiers.clear()
            self._verifiers[entry] = found
        return found

    @staticmethod
    def _numbers(uow: UnitOfWork, code: str, all_fields: list[dict[str, Any]]) -> list[CertificateNumber]:
        org_code = OrganizationCode.parse(code)
        groups: dict[tuple[int, int], list[int]] = {}
        for position, fields in enumerate(all_fields):
            groups.setdefault((fields["issue_date"].year % 100, fields["level"]), []).append(position)
        numbers: dict[int, CertificateNumber] = {}
        for (year, level), positions in groups.items():
            first = allocate(uow, code, year, level, len(positions))
            for offset, position in enumerate(positions):
                numbers[position] = CertificateNumber(org_code, year, level, first + offset)
        return [numbers[p] for p in range(len(all_fields))]

    @staticmethod
    def _replaced(uow: UnitOfWork, principal: Principal, number: str | None) -> CertificateRecord | None:
        """The certificate a request replaces: the principal's own, not yet revoked."""
        if number is None:
            return None
        old = visible(uow, principal, number)
        if old.replaced_by is not None:
            raise Conflict(
                "already_reissued",
                f"{old.number} was already replaced by {old.replaced_by}",
                f"证书{old.number}已换发为{old.replaced_by}",
                errors={"number": old.replaced_by},
            )
        if old.revoked_at is not None:
            raise Conflict(
                "already_revoked",
                f"{old.number} is revoked: it cannot be re-issued",
                f"证书{old.number}已撤销，不能换发",
            )
        return old
