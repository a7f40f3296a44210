"""Who may issue what, and when: the rules of the trust list, in one place.

The offline verifier judges a credential by them (``verify``), and the issuer applies the
same functions before it takes a number, so that nothing is issued that a verifier would
refuse, and both say the same words. Each rule raises ``RuleBroken`` carrying the name of
the verifier check it belongs to and a stable reason code.

Time. A version-2 credential carries the instant it was issued; every lifecycle event
(status change, scope entry, key retirement or compromise) is an instant too, and applies
to credentials issued at or after it: a certificate issued at 09:36 is untouched by a
suspension at 09:37 the same day. A version-1 credential carries only a date and is judged
by the rules written for dates (``IssueTime.instant`` is ``None``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from .clock import CST, china_date
from .credential import Credential
from .display import date_zh, level_zh
from .errors import Forbidden
from .numbering import CertificateNumber
from .pki import OrganizationCertificate
from .trust import KeyEntry, OrganizationEntry

STATUS_ZH = {"active": "正常", "suspended": "暂停", "cancelled": "撤销备案"}


@dataclass(frozen=True)
class IssueTime:
    """When a credential was issued: its China date, and the instant when it carries one."""

    day: date
    instant: datetime | None = None

    @classmethod
    def of(cls, credential: Credential) -> IssueTime:
        return cls(credential.issue_date, credential.issued_at)

    @classmethod
    def at(cls, moment: datetime) -> IssueTime:
        return cls(china_date(moment), moment)

    @property
    def en(self) -> str:
        if self.instant is None:
            return f"on {self.day.isoformat()}"
        return f"at {self.instant.astimezone(CST):%Y-%m-%d %H:%M:%S} (China time)"

    @property
    def zh(self) -> str:
        if self.instant is None:
            return date_zh(self.day)
        return f"{date_zh(self.day)}{self.instant.astimezone(CST):%H:%M:%S}（北京时间）"


class RuleBroken(Forbidden):
    """A credential, or a request to issue one, that breaks a rule of the trust list."""

    def __init__(self, check: str, code: str, message: str, message_zh: str) -> None:
        super().__init__(code, message, message_zh)
        self.check = check


def check_certificate(
    cert: OrganizationCertificate,
    root_validity: tuple[datetime, datetime],
    *,
    chains: bool,
    org_code: str,
    when: IssueTime,
) -> None:
    """The organization certificate is a signing certificate the root issued, for this
    organization, valid when the credential was issued (and so is the root, valid from
    ``root_validity[0]`` to ``root_validity[1]``: ``TrustStore.root_validity``)."""

    def broken(code: str, en: str, zh: str) -> RuleBroken:
        return RuleBroken("certificate_chain", code, en, zh)

    if not chains:
        raise broken(
            "not_certified", "the organization certificate is not signed by the root", "机构证书不是由根证书签发的"
        )
    if not cert.is_signing_certificate():
        raise broken(
            "not_certified",
            "the organization certificate is not an end-entity signing certificate",
            "机构证书不是用于签名的终端证书",
        )
    if not _within(when, *root_validity):
        raise broken(
            "certificate_not_valid_then",
            f"issued {when.en}, outside the root certificate's validity",
            f"发证时间{when.zh}不在根证书有效期内",
        )
    if not _within(when, cert.not_before, cert.not_after):
        raise broken(
            "certificate_not_valid_then",
            f"issued {when.en}, outside the signing certificate's validity",
            f"发证时间{when.zh}不在机构签名证书有效期内",
        )
    if cert.org_code != org_code:
        raise broken("not_certified", "the certificate names another organization", "机构证书所属机构不一致")


def _within(when: IssueTime, start: datetime, end: datetime) -> bool:
    if when.instant is None:
        return china_date(start) <= when.day <= china_date(end)
    return start <= when.instant <= end


def check_key(entry: KeyEntry, when: IssueTime) -> None:
    """The key was neither compromised nor retired when the credential was issued. For a
    credential with a date only, the day of compromise itself is not trusted."""
    if entry.status == "compromised" and (
        entry.compromised_at is None or not _before(when, entry.compromised_at, day_counts=False)
    ):
        shown_en, shown_zh = _moment(entry.compromised_at)
        raise RuleBroken(
            "key_status",
            "key_compromised",
            f"the signing key was revoked as compromised from {shown_en}",
            f"签名密钥已于{shown_zh}起注销（泄露）",
        )
    if entry.retired_at is not None and not _before(when, entry.retired_at, day_counts=True):
        shown_en, shown_zh = _moment(entry.retired_at)
        raise RuleBroken(
            "key_status",
            "key_retired",
            f"the signing key was retired at {shown_en}; it signs nothing issued later",
            f"签名密钥已于{shown_zh}停用，此后签发的证书无效",
        )


def _before(when: IssueTime, event: datetime, *, day_counts: bool) -> bool:
    """Whether a credential issued ``when`` precedes ``event``. With a date only: the
    event's own day counts as before it when ``day_counts`` (retirement), not otherwise
    (compromise: a forger chooses the date)."""
    if when.instant is not None:
        return when.instant < event
    return when.day <= china_date(event) if day_counts else when.day < china_date(event)


def _moment(moment: datetime | None) -> tuple[str, str]:
    if moment is None:
        return "an unknown time", "未知时间"
    local = moment.astimezone(CST)
    return f"{local:%Y-%m-%d %H:%M:%S} (China time)", f"{date_zh(local.date())}{local:%H:%M:%S}"


def check_registration(org: OrganizationEntry, when: IssueTime) -> None:
    """The issue date lies within the registration period, and the organization was active
    when the credential was issued."""
    if not org.registered_on(when.day):
        raise RuleBroken(
            "registration",
            "not_registered",
            f"the organization's registration did not cover {when.day.isoformat()}",
            f"{date_zh(when.day)}不在机构备案有效期内",
        )
    status = org.status_at(when.instant) if when.instant is not None else org.status_on(when.day)
    if status != "active":
        code = {"suspended": "organization_suspended", "cancelled": "organization_cancelled"}.get(
            status or "", "not_registered"
        )
        raise RuleBroken(
            "registration",
            code,
            f"the organization was {status or 'not registered'} {when.en}",
            f"{when.zh}机构状态为{STATUS_ZH.get(status or '', '未备案')}",
        )


def check_scope(
    org: OrganizationEntry, occupation: str, edition: int, level: int, work_type: str | None, when: IssueTime
) -> None:
    """Some scope entry in force when the credential was issued names its occupation,
    edition, level and 工种 (超范围评价 is forbidden)."""
    if when.instant is not None:
        covered = org.in_scope_at(occupation, edition, level, work_type, when.instant)
    else:
        covered = org.in_scope_on(occupation, edition, level, work_type, when.day)
    if not covered:
        work_en = f" ({work_type})" if work_type else ""
        work_zh = f"（{work_type}）" if work_type else ""
        raise RuleBroken(
            "scope",
            "out_of_scope",
            f"occupation {occupation}{work_en} level {level} was not in the organization's scope {when.en}",
            f"{when.zh}职业{occupation}{work_zh}{level_zh(level)}不在机构备案范围内（不得超范围评价）",
        )


def check_number(number: CertificateNumber, signer_code: str, issue_date: date, level: int) -> None:
    """The number belongs to the signer, and its year and level are the credential's."""
    if str(number.org) != signer_code:
        raise RuleBroken(
            "number",
            "number_not_of_signer",
            f"number {number} does not belong to organization {signer_code}",
            f"证书编号{number}不属于机构{signer_code}",
        )
    if number.full_year != issue_date.year:
        raise RuleBroken(
            "number",
            "number_year_mismatch",
            f"the number's year {number.full_year} differs from the issue date {issue_date}",
            f"编号年份{number.full_year}与发证日期{date_zh(issue_date)}不一致",
        )
    if number.level != level:
        raise RuleBroken(
            "number",
            "number_level_mismatch",
            f"the number's level {number.level} differs from level {level}",
            f"编号等级{number.level}与证书等级{level}不一致",
        )


def check_issue_date(issue_date: date, at: datetime) -> None:
    if issue_date > china_date(at):
        raise RuleBroken(
            "issue_date",
            "issued_in_future",
            f"issue date {issue_date} is after {china_date(at)}",
            f"发证日期{date_zh(issue_date)}晚于验证日期",
        )
