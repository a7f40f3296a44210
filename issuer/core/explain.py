"""What a verdict means for the person holding the phone: a headline, the reason in plain
words and what to do next, in Chinese and English.

The verdict itself (check names, reason codes, key ids) is for machines and auditors; an
employer needs to know whether the certificate is forged, issued by an organization that was
not allowed to issue it, revoked, replaced, or cannot be judged right now, and what to do.
Nothing here tells anyone to update a trust bundle: a service refreshes its own trust data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .clock import CST
from .display import date_zh
from .verify import Status, Verdict

_FORGED = frozenset(
    {
        "malformed",
        "bad_signature",
        "malformed_claims",
        "not_certified",
        "number_not_of_signer",
        "number_year_mismatch",
        "number_level_mismatch",
        "issued_in_future",
    }
)
"""Reasons that mean the code is damaged, altered or not what any registered organization signed."""

_PLAIN: dict[str, tuple[str, str, str, str]] = {
    # reason: headline zh, headline en, explanation zh, explanation en (None: the check's own words)
    "forged": (
        "证书无效：二维码内容未通过验证",
        "Not valid: the code failed verification",
        "二维码内容被改动、已损坏，或并非备案评价机构签发。",
        "The code was altered, is damaged, or was not signed by a registered organization.",
    ),
    "unknown_key": (
        "证书无效：签发者不在备案机构名单中",
        "Not valid: not signed by a registered organization",
        "签名所用的密钥不属于任何备案的评价机构。",
        "The key that signed it belongs to no registered evaluation organization.",
    ),
    "certificate_not_valid_then": (
        "证书无效：发证时机构签名证书不在有效期内",
        "Not valid: the organization's signing certificate was not valid when it was issued",
        "",
        "",
    ),
    "not_registered": (
        "证书无效：发证机构在发证日期未获备案",
        "Not valid: the organization was not registered when it was issued",
        "",
        "",
    ),
    "organization_suspended": (
        "证书无效：发证时机构已被暂停评价",
        "Not valid: issued while the organization was suspended",
        "",
        "",
    ),
    "organization_cancelled": (
        "证书无效：发证时机构已被撤销备案",
        "Not valid: issued after the organization's registration was cancelled",
        "",
        "",
    ),
    "out_of_scope": (
        "证书无效：发证机构无权评价该职业（工种）等级",
        "Not valid: the organization was not registered for this occupation and level",
        "",
        "",
    ),
    "key_compromised": (
        "证书无效：发证机构的签名密钥已注销",
        "Not valid: the organization's signing key was reported compromised",
        "",
        "",
    ),
    "key_retired": (
        "证书无效：签名密钥在发证时已停用",
        "Not valid: signed with a key already retired",
        "",
        "",
    ),
    "organization_unreadable": (
        "无法判断：发证机构的备案信息暂时无法核验",
        "Cannot tell: the organization's registration cannot be checked right now",
        "签名无法核对，因为发证机构的备案信息暂时无法读取。",
        "The signature cannot be checked because the organization's registration data cannot be read.",
    ),
    "status_list_unusable": (
        "无法判断：暂时无法确认证书是否被撤销",
        "Cannot tell: whether it was revoked cannot be checked right now",
        "签名有效，但发证机构的撤销名单暂时无法核验。",
        "The signature is valid, but the organization's revocation list cannot be checked right now.",
    ),
    "status_unknown": (
        "无法判断：暂时无法确认证书是否被撤销",
        "Cannot tell: whether it was revoked is not known",
        "",
        "",
    ),
}

_NOT_TRUSTED = (
    "请勿采信。可请持证人出示原件，或向发证机构核实。",
    "Do not rely on it. Ask the holder for the original, or check with the issuing organization.",
)
_ASK_ORGANIZATION = (
    "请勿采信。持证人可联系发证机构核实或换发证书。",
    "Do not rely on it. The holder may ask the issuing organization to check or replace it.",
)
_TRY_LATER = (
    "请稍后再查，或向发证机构核实。",
    "Check again later, or ask the issuing organization.",
)


@dataclass(frozen=True)
class Revocation:
    """What the service knows of a revocation beyond the status list's bit."""

    reason_zh: str
    reason_en: str
    revoked_at: datetime | None = None
    replaced_by: str | None = None


@dataclass(frozen=True)
class Explanation:
    kind: str
    """``valid``, ``revoked``, ``reissued``, ``not_valid`` or ``unknown``: the colour."""
    reason: str | None
    headline_zh: str
    headline_en: str
    detail_zh: str
    detail_en: str
    advice_zh: str
    advice_en: str

    def to_json(self) -> dict[str, str | None]:
        return {
            "kind": self.kind,
            "reason": self.reason,
            "headline": self.headline_en,
            "headline_zh": self.headline_zh,
            "explanation": self.detail_en,
            "explanation_zh": self.detail_zh,
            "advice": self.advice_en,
            "advice_zh": self.advice_zh,
        }


def explain(verdict: Verdict, revocation: Revocation | None = None) -> Explanation:
    """The plain-language reading of ``verdict``; ``revocation`` when the caller knows more
    about a revoked certificate than a status list tells (the service does)."""
    if revocation is not None and verdict.status in (Status.VALID, Status.REVOKED):
        return _revoked(revocation)
    if verdict.status is Status.VALID:
        org = verdict.signer.organization.name if verdict.signer else ""
        return Explanation(
            "valid",
            None,
            "证书有效",
            "Certificate valid",
            f"由备案评价机构{org}签发，签名有效，未被撤销。",
            f"Signed by the registered organization {org}; not revoked.",
            "请核对持证人身份证件与证书信息是否一致。",
            "Check that the holder's identity document matches the certificate.",
        )
    if verdict.status is Status.REVOKED:
        return _revoked(Revocation("", ""))
    check = verdict.deciding
    reason = check.reason if check is not None else None
    key = "forged" if reason in _FORGED else reason or "forged"
    if key == "certificate_not_valid_then" and _outside_registration(verdict):
        key = "not_registered"  # the certificate ended with the registration: say the cause
    head_zh, head_en, plain_zh, plain_en = _PLAIN.get(key, _PLAIN["forged"])
    detail_zh = plain_zh or (check.detail_zh if check else "")
    detail_en = plain_en or (check.detail if check else "")
    if verdict.status is Status.UNKNOWN:
        return Explanation("unknown", reason, head_zh, head_en, detail_zh, detail_en, *_TRY_LATER)
    advice = _NOT_TRUSTED if key in ("forged", "unknown_key") else _ASK_ORGANIZATION
    return Explanation("not_valid", reason, head_zh, head_en, detail_zh, detail_en, *advice)


RECORD_DAMAGED = "record_damaged"
"""The service's own reason (never an offline verifier's): its stored record of a certificate
disagrees with the signed credential or status list it holds, so it was changed outside the
service."""


def record_damaged() -> Explanation:
    """What the service says of a certificate whose stored record disagrees with its signed data."""
    return Explanation(
        "not_valid",
        RECORD_DAMAGED,
        "证书无效：记录已损坏",
        "Not valid: record damaged",
        "发证服务保存的证书记录与签名数据不一致，记录可能已被篡改。",
        "The service's record of this certificate disagrees with its signed data; it may have been tampered with.",
        "请勿采信，请向发证机构或人社部门核实。",
        "Do not rely on it; check with the issuing organization or the authority.",
    )


def status_unusable() -> Explanation:
    """The organization's signed status list cannot be read: whether it was revoked is not known."""
    head_zh, head_en, plain_zh, plain_en = _PLAIN["status_list_unusable"]
    return Explanation("unknown", "status_list_unusable", head_zh, head_en, plain_zh, plain_en, *_TRY_LATER)


def _outside_registration(verdict: Verdict) -> bool:
    signer, cred = verdict.signer, verdict.credential
    return signer is not None and cred is not None and not signer.organization.registered_on(cred.issue_date)


def _revoked(revocation: Revocation) -> Explanation:
    when_zh = when_en = ""
    if revocation.revoked_at is not None:
        local = revocation.revoked_at.astimezone(CST)
        when_zh, when_en = f"于{date_zh(local.date())}", f" on {local:%Y-%m-%d}"
    if revocation.replaced_by:
        new = revocation.replaced_by
        return Explanation(
            "reissued",
            "reissued",
            f"已换发新证 → {new}",
            f"Replaced by a new certificate → {new}",
            f"发证机构{when_zh}换发了新证书{new}，本证书不再有效。",
            f"The issuing organization replaced it{when_en} with certificate {new}; this one is no longer valid.",
            f"请查验新证书{new}。",
            f"Check the new certificate {new}.",
        )
    why_zh = f"，原因：{revocation.reason_zh}" if revocation.reason_zh else ""
    why_en = f" ({revocation.reason_en})" if revocation.reason_en else ""
    return Explanation(
        "revoked",
        "revoked",
        "证书已撤销",
        "Certificate revoked",
        f"发证机构{when_zh}撤销了该证书{why_zh}。",
        f"The issuing organization revoked it{when_en}{why_en}.",
        "不能作为有效凭证。",
        "It is no longer a valid certificate.",
    )
