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

from . import cose, qrtext
from .clock import china_date, format_instant
from .credential import Credential, decode_payload
from .display import date_zh, level_zh
from .errors import CredentialFormatError
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
    ("key_status", "the key was not compromised by the issue date", "发证日期时签名密钥未被注销"),
    ("registration", "the organization was registered and active on the issue date", "发证日期时机构已备案且状态正常"),
    (
        "scope",
        "the occupation and level were in the organization's scope on the issue date",
        "发证日期时职业与等级在机构备案范围内",
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

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "outcome": self.outcome.value, "detail": self.detail, "detail_zh": self.detail_zh}


@dataclass(frozen=True)
class Verdict:
    status: Status
    checks: tuple[Check, ...]
    at: datetime
    credential: Credential | None = None
    signer: SigningKey | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return self.status is Status.VALID

    @property
    def failed_check(self) -> str | None:
        return next((c.name for c in self.checks if c.outcome is Outcome.FAILED), None)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status.value,
            "failed_check": self.failed_check,
            "at": self.at.isoformat(),
            "checks": [c.to_json() for c in self.checks],
            "credential": self.credential.to_json() if self.credential else None,
            "organization": None,
        }
        if self.signer is not None:
            org = self.signer.organization
            out["organization"] = {"code": org.code, "name": org.name, "kid": self.signer.entry.kid.hex()}
        return out


class _Failed(Exception):
    def __init__(self, detail: str, detail_zh: str) -> None:
        self.detail, self.detail_zh = detail, detail_zh


def _check_chain(key: SigningKey, cred: Credential, trust: TrustStore, at: datetime) -> None:
    cert = key.certificate
    if not trust.chains_to_root(key):
        raise _Failed("the organization certificate is not signed by the root", "机构证书不是由根证书签发的")
    if not cert.is_signing_certificate():
        raise _Failed(
            "the organization certificate is not an end-entity signing certificate", "机构证书不是用于签名的终端证书"
        )
    root = trust.root
    if not china_date(root.not_valid_before_utc) <= cred.issue_date <= china_date(root.not_valid_after_utc):
        raise _Failed(
            f"issue date {cred.issue_date} is outside the root certificate's validity",
            f"发证日期{cred.issue_date}不在根证书有效期内",
        )
    if not china_date(cert.not_before) <= cred.issue_date <= china_date(cert.not_after):
        raise _Failed(
            f"issue date {cred.issue_date} is outside the certificate's validity",
            f"发证日期{cred.issue_date}不在机构证书有效期内",
        )
    if cert.org_code != key.organization.code:
        raise _Failed("the certificate names another organization", "机构证书所属机构不一致")


def _check_key_status(key: SigningKey, cred: Credential, trust: TrustStore, at: datetime) -> None:
    entry = key.entry
    if entry.status == "compromised":
        when = china_date(entry.compromised_at) if entry.compromised_at else None
        if when is None or cred.issue_date >= when:
            shown = when.isoformat() if when else "an unknown date"
            raise _Failed(f"the key was revoked as compromised from {shown}", f"签名密钥已于{shown}起注销（泄露）")
    if entry.retired_at is not None and cred.issue_date > china_date(entry.retired_at):
        retired = china_date(entry.retired_at).isoformat()
        raise _Failed(
            f"the key was retired on {retired}; it signs nothing dated later",
            f"签名密钥已于{retired}停用，此后日期的证书无效",
        )


def _check_registration(key: SigningKey, cred: Credential, trust: TrustStore, at: datetime) -> None:
    org = key.organization
    if not org.registered_on(cred.issue_date):
        raise _Failed(
            f"the organization was not registered on {cred.issue_date}", f"{cred.issue_date}机构不在备案有效期内"
        )
    status = org.status_on(cred.issue_date)
    if status != "active":
        raise _Failed(
            f"the organization was {status or 'not registered'} on {cred.issue_date}",
            f"{cred.issue_date}机构状态为{ {'suspended': '暂停', 'cancelled': '撤销'}.get(status or '', '未备案') }",
        )


def _check_scope(key: SigningKey, cred: Credential, trust: TrustStore, at: datetime) -> None:
    if not key.organization.in_scope(
        cred.occupation, cred.occupation_edition, cred.level, cred.work_type, cred.issue_date
    ):
        work_en = f" ({cred.work_type})" if cred.work_type else ""
        work_zh = f"（{cred.work_type}）" if cred.work_type else ""
        raise _Failed(
            f"occupation {cred.occupation}{work_en} level {cred.level} was not in the organization's scope",
            f"职业{cred.occupation}{work_zh}{level_zh(cred.level)}不在机构备案范围内",
        )


def _check_number(key: SigningKey, cred: Credential, trust: TrustStore, at: datetime) -> None:
    number = cred.number
    if str(number.org) != key.certificate.org_code:
        raise _Failed(
            f"number {number} does not belong to organization {key.certificate.org_code}",
            f"证书编号{number}不属于机构{key.certificate.org_code}",
        )
    if number.full_year != cred.issue_date.year:
        raise _Failed(
            f"the number's year {number.full_year} differs from the issue date {cred.issue_date}",
            f"编号年份{number.full_year}与发证日期{cred.issue_date}不一致",
        )
    if number.level != cred.level:
        raise _Failed(
            f"the number's level {number.level} differs from level {cred.level}",
            f"编号等级{number.level}与证书等级{cred.level}不一致",
        )


def _check_issue_date(key: SigningKey, cred: Credential, trust: TrustStore, at: datetime) -> None:
    if cred.issue_date > china_date(at):
        raise _Failed(
            f"issue date {cred.issue_date} is after {china_date(at)}", f"发证日期{cred.issue_date}晚于验证日期"
        )


_DatedCheck = Callable[[SigningKey, Credential, TrustStore, datetime], None]
_DATED_CHECKS: tuple[tuple[str, _DatedCheck], ...] = (
    ("certificate_chain", _check_chain),
    ("key_status", _check_key_status),
    ("registration", _check_registration),
    ("scope", _check_scope),
    ("number", _check_number),
    ("issue_date", _check_issue_date),
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
    done: list[Check] = []
    credential: Credential | None = None
    signer: SigningKey | None = None

    def finish(status: Status) -> Verdict:
        ran = {c.name for c in done}
        rest = tuple(Check(n, Outcome.NOT_RUN) for n in CHECK_NAMES if n not in ran)
        return Verdict(status, (*done, *rest), at, credential, signer)

    def passed(name: str) -> None:
        done.append(Check(name, Outcome.PASSED))

    def failed(name: str, detail: str, detail_zh: str) -> Verdict:
        done.append(Check(name, Outcome.FAILED, detail, detail_zh))
        return finish(Status.NOT_VALID)

    try:
        if isinstance(data, CredentialFormatError):
            raise data
        message = cose.parse(data)
    except CredentialFormatError as exc:
        return failed("decodable", exc.message, exc.message_zh)
    passed("decodable")

    signer = trust.key(message.kid)
    if signer is None:
        return failed(
            "known_key",
            f"no key {message.kid.hex()} in the trust list (update the trust bundle?)",
            f"信任列表中没有密钥{message.kid.hex()}（请更新信任包）",
        )
    passed("known_key")

    if not message.verify(signer.certificate.public_key):
        signer = None
        return failed("signature", "the signature does not match", "签名不匹配")
    passed("signature")

    try:
        credential = decode_payload(message.payload)
    except CredentialFormatError as exc:
        return failed("claims", exc.message, exc.message_zh)
    passed("claims")

    for name, step in _DATED_CHECKS:
        try:
            step(signer, credential, trust, at)
        except _Failed as exc:
            return failed(name, exc.detail, exc.detail_zh)
        passed(name)
    if not check_status:
        return finish(Status.VALID)
    status, check = _status(trust, signer, credential, at)
    done.append(check)
    return finish(status)


def _status(trust: TrustStore, signer: SigningKey, credential: Credential, at: datetime) -> tuple[Status, Check]:
    """Revocation is final: a list showing the credential revoked says so even when it is
    too old to vouch that a credential is not revoked."""
    current = trust.status_list(signer.organization.code)
    index = credential.status_index
    if current is not None and index is not None and index < current.size and current.revoked(index):
        return Status.REVOKED, Check(
            "status",
            Outcome.FAILED,
            f"revoked (status list of {format_instant(current.issued_at)})",
            f"已撤销（依据{date_zh(china_date(current.issued_at))}的状态列表）",
        )
    if current is None or not current.fresh_at(at):
        detail, detail_zh = describe_staleness(current)
        return Status.UNKNOWN, Check("status", Outcome.UNKNOWN, detail, detail_zh)
    if index is None or index >= current.size:
        return Status.UNKNOWN, Check(
            "status",
            Outcome.UNKNOWN,
            "the credential has no index in its organization's status list",
            "该证书在机构状态列表中没有索引，无法判断撤销状态",
        )
    return Status.VALID, Check("status", Outcome.PASSED)
