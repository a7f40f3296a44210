"""The offline verifier: a QR text and a trust store in, a verdict out.

Verification is a fixed sequence of named checks evaluated at an explicit time ``at``.
The first failing check decides the verdict and the rest are reported as not run.
Nothing in the payload is read before the signature over it has been checked; only the
``kid`` of the protected header is used to find the key.

Dates: every date-based fact is judged on the issue date (a China calendar date). A key
revoked as compromised at time T invalidates credentials dated on or after the China
date of T: a forger holding the key chooses the date, so the day of compromise itself is
not trusted either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from . import cose, policy, qrtext
from .assessment import method_name
from .clock import china_date, format_instant
from .credential import DEFAULT_METHOD, Credential, decode_payload
from .display import date_zh
from .errors import CredentialFormatError
from .policy import IssueTime, RuleBroken
from .statuslist import describe_staleness
from .trust import SigningKey, TrustStore


class Status(StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    NOT_VALID = "not_valid"
    UNKNOWN = "unknown"


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    UNKNOWN = "unknown"
    NOT_RUN = "not_run"


CHECKS: tuple[tuple[str, str, str], ...] = (
    ("decodable", "the QR text holds a well-formed signed credential", "二维码内容是格式正确的签名凭证"),
    ("known_key", "the signing key is in the trust list", "签名密钥在信任列表中"),
    ("signature", "the signature is valid", "签名有效"),
    ("claims", "the signed claims are well-formed", "签名内容格式正确"),
    (
        "certificate_chain",
        "the organization certificate chains to the root and was valid on the issue date",
        "机构证书由根证书签发且在发证日期有效",
    ),
    ("key_status", "the key was neither compromised nor retired when issued", "发证时签名密钥未被注销或停用"),
    ("registration", "the organization was registered and active when issued", "发证时机构已备案且状态正常"),
    (
        "scope",
        "the occupation and level were in the organization's scope when issued",
        "发证时职业与等级在机构备案范围内",
    ),
    (
        "number",
        "the certificate number matches the signer, the issue year and the level",
        "证书编号与签发机构、发证年份和等级一致",
    ),
    ("issue_date", "the issue date is not in the future", "发证日期不晚于验证时间"),
    ("status", "not revoked, by a current status list of the organization", "未被撤销（依据机构有效期内的状态列表）"),
)
CHECK_NAMES = tuple(c[0] for c in CHECKS)


@dataclass(frozen=True)
class Check:
    name: str
    outcome: Outcome
    detail: str = ""
    detail_zh: str = ""
    reason: str = ""
    """Why it failed or could not tell, as a stable code (empty when passed or not run)."""

    def to_json(self) -> dict[str, str]:
        return {
            "name": self.name,
            "outcome": self.outcome.value,
            "reason": self.reason,
            "detail": self.detail,
            "detail_zh": self.detail_zh,
        }


@dataclass(frozen=True)
class Verdict:
    status: Status
    checks: tuple[Check, ...]
    at: datetime
    credential: Credential | None = None
    signer: SigningKey | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    suite: str | None = None
    """The signature suite checked, ``ed25519`` or ``sm2-sm3`` (the message's, once a key of
    the trust list was found for its kid); ``None`` when no signature was checked."""

    @property
    def valid(self) -> bool:
        return self.status is Status.VALID

    @property
    def failed_check(self) -> str | None:
        return next((c.name for c in self.checks if c.outcome is Outcome.FAILED), None)

    @property
    def deciding(self) -> Check | None:
        """The check that failed or could not tell; ``None`` for a valid credential."""
        return next((c for c in self.checks if c.outcome in (Outcome.FAILED, Outcome.UNKNOWN)), None)

    @property
    def reason(self) -> str | None:
        check = self.deciding
        return check.reason if check is not None else None

    @property
    def assessment_method(self) -> tuple[int, str, str] | None:
        """The assessment method the credential states (claim -12, version 3): its code and
        its Chinese and English names, to be shown beside the other fields; None for the
        default method (考试考核, which a credential does not state) or before ``claims``
        passed."""
        cred = self.credential
        if cred is None or cred.assessment_method == DEFAULT_METHOD:
            return None
        return (cred.assessment_method, *method_name(cred.assessment_method))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status.value,
            "failed_check": self.failed_check,
            "reason": self.reason,
            "at": self.at.isoformat(),
            "checks": [c.to_json() for c in self.checks],
            "credential": self.credential.to_json() if self.credential else None,
            "organization": None,
        }
        if self.signer is not None:
            org = self.signer.organization
            out["organization"] = {"code": org.code, "name": org.name, "kid": self.signer.entry.kid.hex()}
        return out


def _check_chain(key: SigningKey, cred: Credential, trust: TrustStore, when: IssueTime) -> None:
    policy.check_certificate(
        key.certificate,
        trust.root_validity,
        chains=trust.chains_to_root(key),
        org_code=key.organization.code,
        when=when,
    )


def _check_key_status(key: SigningKey, cred: Credential, trust: TrustStore, when: IssueTime) -> None:
    policy.check_key(key.entry, when)


def _check_registration(key: SigningKey, cred: Credential, trust: TrustStore, when: IssueTime) -> None:
    policy.check_registration(key.organization, when)


def _check_scope(key: SigningKey, cred: Credential, trust: TrustStore, when: IssueTime) -> None:
    policy.check_scope(key.organization, cred.occupation, cred.occupation_edition, cred.level, cred.work_type, when)


def _check_number(key: SigningKey, cred: Credential, trust: TrustStore, when: IssueTime) -> None:
    policy.check_number(cred.number, key.certificate.org_code, cred.issue_date, cred.level)


_PASSED = {name: Check(name, Outcome.PASSED) for name in CHECK_NAMES}
_ALL_PASSED = tuple(_PASSED[name] for name in CHECK_NAMES)
_NOT_RUN = tuple(Check(name, Outcome.NOT_RUN) for name in CHECK_NAMES)
"""Checks that passed or were not run carry nothing but their name, so each is made once."""
_UNLESS_STATUS = (*_ALL_PASSED[:-1], _NOT_RUN[-1])
"""The checks of a valid verdict whose caller did not ask for the status."""
_ORDER = {name: i for i, name in enumerate(CHECK_NAMES)}


def _decided_by(check: Check) -> tuple[Check, ...]:
    """The checks of a verdict that ``check`` decided: they run in the order of ``CHECKS``
    and the first that does not pass ends the run, so those before it passed and those
    after it were not run."""
    at = _ORDER[check.name]
    return (*_ALL_PASSED[:at], check, *_NOT_RUN[at + 1 :])


_DatedCheck = Callable[[SigningKey, Credential, TrustStore, IssueTime], None]
_DATED_CHECKS: tuple[tuple[str, _DatedCheck], ...] = (
    ("certificate_chain", _check_chain),
    ("key_status", _check_key_status),
    ("registration", _check_registration),
    ("scope", _check_scope),
    ("number", _check_number),
)


def verify(qr_text: str, trust: TrustStore, *, at: datetime, check_status: bool = True) -> Verdict:
    """Verify a QR text (or bare base32 payload) against ``trust`` at the aware time
    ``at``. Never raises on any input text; the verdict names the check that failed.

    The last check reads the organization's status list from ``trust``: revoked is
    ``REVOKED``; no list, or one older than its maximum age, is ``UNKNOWN`` ("signature
    valid, status unknown since …"), never valid. ``check_status=False`` leaves it not run,
    for callers that know the status otherwise (the service's own database, the auditor)."""
    try:
        data: bytes | CredentialFormatError = qrtext.decode(qr_text)
    except CredentialFormatError as exc:
        data = exc
    return verify_signed(data, trust, at=at, check_status=check_status)


def verify_signed(
    data: bytes | CredentialFormatError, trust: TrustStore, *, at: datetime, check_status: bool = True
) -> Verdict:
    """``verify`` on the signed credential's bytes (a log entry holds them, not a QR text);
    a ``CredentialFormatError`` stands for bytes that could not be extracted."""
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    credential: Credential | None = None
    signer: SigningKey | None = None
    suite: str | None = None

    def decided(check: Check, status: Status) -> Verdict:
        return Verdict(status, _decided_by(check), at, credential, signer, suite=suite)

    def failed(name: str, reason: str, detail: str, detail_zh: str) -> Verdict:
        return decided(Check(name, Outcome.FAILED, detail, detail_zh, reason), Status.NOT_VALID)

    try:
        if isinstance(data, CredentialFormatError):
            raise data
        message = cose.parse(data)
    except CredentialFormatError as exc:
        return failed("decodable", "malformed", exc.message, exc.message_zh)

    signer = trust.key(message.kid)
    if signer is None:
        unreadable = trust.unreadable(message.kid)
        if unreadable is not None:
            return decided(
                Check(
                    "known_key", Outcome.UNKNOWN, unreadable.message, unreadable.message_zh, "organization_unreadable"
                ),
                Status.UNKNOWN,
            )
        return failed(
            "known_key",
            "unknown_key",
            f"no key {message.kid.hex()} in the trust list",
            f"信任列表中没有密钥{message.kid.hex()}",
        )

    suite = message.suite.name
    if not message.verify(signer.certificate.public_key):
        signer = None
        return failed("signature", "bad_signature", "the signature does not match", "签名不匹配")

    try:
        credential = decode_payload(message.payload)
    except CredentialFormatError as exc:
        return failed("claims", "malformed_claims", exc.message, exc.message_zh)

    when = IssueTime.of(credential)
    for name, step in _DATED_CHECKS:
        try:
            step(signer, credential, trust, when)
        except RuleBroken as exc:
            return failed(name, exc.code, exc.message, exc.message_zh)
    try:
        policy.check_issue_date(credential.issue_date, at)
    except RuleBroken as exc:
        return failed("issue_date", exc.code, exc.message, exc.message_zh)
    if not check_status:
        return Verdict(Status.VALID, _UNLESS_STATUS, at, credential, signer, suite=suite)
    status, check = _status(trust, signer, credential, at)
    return decided(check, status)


def _status(trust: TrustStore, signer: SigningKey, credential: Credential, at: datetime) -> tuple[Status, Check]:
    """Revocation is final: a list showing the credential revoked says so even when it is
    too old to vouch that a credential is not revoked."""
    code = signer.organization.code
    current = trust.status_list(code)
    index = credential.status_index
    if current is not None and index is not None and index < current.size and current.revoked(index):
        return Status.REVOKED, Check(
            "status",
            Outcome.FAILED,
            f"revoked (status list of {format_instant(current.issued_at)})",
            f"已撤销（依据{date_zh(china_date(current.issued_at))}的状态列表）",
            "revoked",
        )
    if current is None and (problem := trust.status_list_problem(code)) is not None:
        return Status.UNKNOWN, Check(
            "status",
            Outcome.UNKNOWN,
            f"the organization's status list cannot be used: {problem.message}",
            f"机构的状态列表无法使用：{problem.message_zh}",
            "status_list_unusable",
        )
    if current is None or not current.fresh_at(at):
        detail, detail_zh = describe_staleness(current)
        return Status.UNKNOWN, Check("status", Outcome.UNKNOWN, detail, detail_zh, "status_unknown")
    if index is None or index >= current.size:
        return Status.UNKNOWN, Check(
            "status",
            Outcome.UNKNOWN,
            "the credential has no index in its organization's status list",
            "该证书在机构状态列表中没有索引，无法判断撤销状态",
            "status_unknown",
        )
    return Status.VALID, _PASSED["status"]
