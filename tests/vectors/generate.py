"""Produce the published test vectors: a trust bundle and QR texts with their expected
verdicts. Everything derives from fixed seeds and Ed25519 is deterministic, so running
this again must reproduce the committed files byte for byte (a test checks that).

These are the vectors of version-2 credentials (issued at an instant) and version-2 trust
lists (lifecycle events at instants). Five organizations live a normal life: a key rotated,
a suspension, a compromised key, a registration that ended (its status list now signed by
the root), and one whose status list in the bundle is broken — which makes only that
organization's credentials ``unknown``. The version-1 vectors of the first format are kept,
unchanged, in ``v1/``.

Run: ``make vectors`` (``python -m tests.vectors.generate``).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from issuer.core import cose, qrtext, trust
from issuer.core.credential import Credential, encode_payload
from issuer.core.numbering import CertificateNumber
from issuer.core.signing import Signer
from tests import factories as f

HERE = Path(__file__).parent
AT = "2026-11-30T00:00:00Z"
AFTER_MAX_AGE = "2026-12-02T00:00:01Z"
"""The status lists are signed at 2026-11-29T00:00:00Z with a maximum age of 72 hours."""
REVOKED_INDEX = 777

ORG_A, NAME_A = f.ORG_CODE, f.ORG_NAME
ORG_B, NAME_B = "S000044000002", "广东某某职业技能培训中心"
ORG_C, NAME_C = "Y000031000003", "上海某某汽车维修有限公司"
ORG_D, NAME_D = "S000037000004", "山东某某技工学校"
ORG_E, NAME_E = "Y000011000005", "北京某某信息技术有限公司"

ROTATED = f.china("2026-11-20 10:00")
SUSPENDED = f.china("2026-11-20 09:37")
COMPROMISED = f.china("2026-10-01 10:00")
AI_TRAINER_FROM = f.china("2026-11-25 14:00")
D_UNTIL = date(2026, 10, 31)


def _forge(signer: Signer, cred: Credential) -> str:
    """Sign without the signer's own consistency check, to make invalid vectors."""
    return qrtext.encode(cose.sign(encode_payload(cred), signer.key, signer.kid), f.HOST)


def _flip_signature(text: str) -> str:
    raw = bytearray(qrtext.decode(text))
    raw[-1] ^= 0x01
    return qrtext.encode(bytes(raw), f.HOST)


def _broken(signed: bytes) -> bytes:
    """A status list whose signature no longer matches (one bit of it flipped)."""
    raw = bytearray(signed)
    raw[-1] ^= 0x01
    return bytes(raw)


def _organizations(
    auth: f.Authority,
) -> tuple[dict[str, Signer], list[trust.OrganizationEntry]]:
    s = {
        "a_old": f.org_signer(auth, seed="org-a-2025", not_after=datetime(2030, 12, 31, tzinfo=UTC)),
        "a_new": f.org_signer(auth, seed="org-a-2026", not_before=ROTATED),
        "b": f.org_signer(auth, code=ORG_B, name=NAME_B, seed="org-b"),
        "c_old": f.org_signer(auth, code=ORG_C, name=NAME_C, seed="org-c-compromised"),
        "c_new": f.org_signer(auth, code=ORG_C, name=NAME_C, seed="org-c-2026", not_before=COMPROMISED),
        "d": f.org_signer(auth, code=ORG_D, name=NAME_D, seed="org-d", not_after=f.china("2026-11-01 00:00")),
        "e": f.org_signer(auth, code=ORG_E, name=NAME_E, seed="org-e"),
    }
    org_a = f.organization(
        [],
        scope=(
            trust.ScopeEntry("6-31-01-03", frozenset({5, 4, 3, 2, 1})),
            trust.ScopeEntry("6-18-02-04", frozenset({5, 4, 3}), ("电焊工", "气焊工")),
            trust.ScopeEntry("4-04-05-05", frozenset({4, 3}), valid_from=AI_TRAINER_FROM),
        ),
        keys=[
            trust.KeyEntry(s["a_old"].certificate.der, "retired", retired_at=ROTATED),
            trust.KeyEntry(s["a_new"].certificate.der),
        ],
    )
    org_b = f.organization(
        [s["b"]],
        code=ORG_B,
        name=NAME_B,
        scope=[trust.ScopeEntry("4-03-02-01", frozenset({5, 4, 3}))],
        status=[trust.StatusChange("active", f.REGISTERED), trust.StatusChange("suspended", SUSPENDED)],
    )
    org_c = f.organization(
        [],
        code=ORG_C,
        name=NAME_C,
        scope=[trust.ScopeEntry("4-12-01-01", frozenset({4, 3}))],
        keys=[
            trust.KeyEntry(s["c_old"].certificate.der, "compromised", COMPROMISED),
            trust.KeyEntry(s["c_new"].certificate.der),
        ],
    )
    org_d = replace(
        f.organization([s["d"]], code=ORG_D, name=NAME_D, scope=[trust.ScopeEntry("6-31-01-03", frozenset({5, 4}))]),
        registered_until=D_UNTIL,
    )
    org_e = f.organization([s["e"]], code=ORG_E, name=NAME_E)
    return s, [org_a, org_b, org_c, org_d, org_e]


def build() -> tuple[str, list[dict[str, Any]]]:
    auth = f.authority()
    s, orgs = _organizations(auth)
    stranger = f.org_signer(auth, seed="not-in-trust-list")
    tl = f.trust_list(orgs)
    lists = [
        f.status_list(s["a_new"], [REVOKED_INDEX]),
        f.status_list(s["b"]),
        f.status_list(s["c_new"]),
        f.root_status_list(auth, ORG_D),  # D's registration ended: the authority signs its list
        _broken(f.status_list(s["e"])),
    ]
    bundle = f.bundle_json(auth, tl, lists)

    typical = f.credential()
    a_new, a_old = s["a_new"], s["a_old"]

    def n(number: str) -> CertificateNumber:
        return CertificateNumber.parse(number)

    def cred(number: str, when: str, **changes: Any) -> Credential:
        return f.credential(number=number, when=f.china(when), **changes)

    b_cred = {"occupation": "4-03-02-01", "level": 5, "work_type": None}
    c_cred = {"occupation": "4-12-01-01", "level": 4, "work_type": None, "name": "李四"}
    d_cred = {"occupation": "6-31-01-03", "level": 4, "work_type": None, "name": "赵六"}
    vectors: list[tuple[str, str, str, str | None, str]] = [
        ("valid-typical", a_new.qr_text(typical, f.HOST), "valid", None, "3-character name, 工种 present"),
        (
            "valid-lower-case",
            a_new.qr_text(typical, f.HOST).lower(),
            "valid",
            None,
            "the same text in lower case, as some scanners return it",
        ),
        (
            "valid-no-work-type-level-1",
            a_new.qr_text(
                cred("Y000123000001261000042", "2026-11-29 10:12", level=1, work_type=None, name="欧阳娜娜"), f.HOST
            ),
            "valid",
            None,
            "no 工种, level 1 (一级/高级技师)",
        ),
        (
            "valid-retired-key-before-rotation",
            a_old.qr_text(cred("Y000123000001264000005", "2026-11-20 09:59:59", level=4), f.HOST),
            "valid",
            None,
            "signed by the old key one second before it was retired at 2026-11-20 10:00 (China), the same day",
        ),
        (
            "retired-key-at-rotation",
            a_old.qr_text(cred("Y000123000001264000009", "2026-11-20 10:00", level=4), f.HOST),
            "not_valid",
            "key_status",
            "signed by the old key at the instant it was retired",
        ),
        (
            "valid-before-suspension",
            s["b"].qr_text(cred(f"{ORG_B}265000011", "2026-11-20 09:36", **b_cred), f.HOST),
            "valid",
            None,
            "issued at 09:36, the organization suspended at 09:37 the same day",
        ),
        (
            "suspended-before-issue",
            s["b"].qr_text(cred(f"{ORG_B}265000012", "2026-11-20 09:38", **b_cred), f.HOST),
            "not_valid",
            "registration",
            "issued at 09:38, after the suspension at 09:37 the same day",
        ),
        (
            "valid-before-compromise",
            s["c_old"].qr_text(cred(f"{ORG_C}264000007", "2026-10-01 09:59", **c_cred), f.HOST),
            "valid",
            None,
            "signed by a key revoked as compromised from 2026-10-01 10:00 (China), a minute before",
        ),
        (
            "compromised-key",
            s["c_old"].qr_text(cred(f"{ORG_C}264000008", "2026-10-01 10:00", **c_cred), f.HOST),
            "not_valid",
            "key_status",
            "signed at the instant the key was revoked as compromised",
        ),
        (
            "out-of-scope-before-scope-change",
            a_new.qr_text(
                cred("Y000123000001263000051", "2026-11-25 13:59", occupation="4-04-05-05", work_type=None), f.HOST
            ),
            "not_valid",
            "scope",
            "人工智能训练师 enters the scope at 2026-11-25 14:00 (China); issued a minute before",
        ),
        (
            "valid-after-scope-change",
            a_new.qr_text(
                cred("Y000123000001263000052", "2026-11-25 14:01", occupation="4-04-05-05", work_type=None), f.HOST
            ),
            "valid",
            None,
            "人工智能训练师, issued a minute after it entered the scope",
        ),
        (
            "valid-expired-organization-old-certificate",
            s["d"].qr_text(cred(f"{ORG_D}264000003", "2026-10-31 23:59", **d_cred), f.HOST),
            "valid",
            None,
            "issued in the last minute of a registration that ended on 2026-10-31; "
            "its status list is now signed by the root",
        ),
        (
            "expired-organization-after-its-registration",
            s["d"].qr_text(cred(f"{ORG_D}264000004", "2026-11-01 00:00:01", **d_cred), f.HOST),
            "not_valid",
            "certificate_chain",
            "issued after the registration (and the signing certificate) ended",
        ),
        (
            "broken-status-list",
            s["e"].qr_text(f.credential(number=f"{ORG_E}263000001"), f.HOST),
            "unknown",
            None,
            "this organization's status list in the bundle has a bad signature: its credentials alone are unknown",
        ),
        (
            "wrong-signature",
            _flip_signature(a_new.qr_text(typical, f.HOST)),
            "not_valid",
            "signature",
            "last signature bit flipped",
        ),
        (
            "unknown-key",
            stranger.qr_text(typical, f.HOST),
            "not_valid",
            "known_key",
            "signed by a key not in the trust list",
        ),
        (
            "out-of-scope-occupation",
            a_new.qr_text(f.credential(occupation="4-14-02-02", work_type=None), f.HOST),
            "not_valid",
            "scope",
            "健康管理师 is not in the organization's scope",
        ),
        (
            "valid-work-type-in-scope",
            a_new.qr_text(
                f.credential(number="Y000123000001263000002", occupation="6-18-02-04", work_type="电焊工"), f.HOST
            ),
            "valid",
            None,
            "焊工/电焊工 level 3 is in scope (control for the next vector)",
        ),
        (
            "out-of-scope-level",
            a_new.qr_text(
                f.credential(number="Y000123000001262000003", occupation="6-18-02-04", work_type="电焊工", level=2),
                f.HOST,
            ),
            "not_valid",
            "scope",
            "焊工 is in scope for levels 5-3 only; this is level 2",
        ),
        (
            "out-of-scope-work-type",
            a_new.qr_text(f.credential(occupation="6-18-02-04", work_type="钎焊工"), f.HOST),
            "not_valid",
            "scope",
            "焊工 is in scope only for 电焊工 and 气焊工",
        ),
        (
            "number-not-of-signer",
            _forge(a_new, replace(typical, number=n("Y000123000002263000001"))),
            "not_valid",
            "number",
            "the number's organization code is not the signer's",
        ),
        (
            "number-year-mismatch",
            _forge(a_new, replace(typical, number=n("Y000123000001253000001"))),
            "not_valid",
            "number",
            "number says 2025, issue date is 2026",
        ),
        (
            "future-issue-date",
            a_new.qr_text(cred("Y000123000001273000001", "2027-01-05 09:00"), f.HOST),
            "not_valid",
            "issue_date",
            "dated after the verification time",
        ),
        ("truncated", a_new.qr_text(typical, f.HOST)[:-20], "not_valid", "decodable", "the last 20 characters cut off"),
        (
            "revoked",
            a_new.qr_text(
                f.credential(number="Y000123000001263000031", status_index=REVOKED_INDEX, name="王五"), f.HOST
            ),
            "revoked",
            "status",
            f"bit {REVOKED_INDEX} of the organization's status list is set",
        ),
    ]
    manifest = [
        {"name": name, "qr_text": text, "at": AT, "status": status, "failed_check": failed, "description": why}
        for name, text, status, failed, why in vectors
    ]
    manifest.append(
        {
            "name": "status-list-too-old",
            "qr_text": a_new.qr_text(typical, f.HOST),
            "at": AFTER_MAX_AGE,
            "status": "unknown",
            "failed_check": None,
            "description": "a valid signature, checked after the status list's maximum age: status unknown",
        }
    )
    return bundle, manifest


def render() -> dict[str, str]:
    bundle, manifest = build()
    return {
        "bundle.json": bundle + "\n",
        "manifest.json": json.dumps(
            {"at": AT, "bundle": "bundle.json", "vectors": manifest}, ensure_ascii=False, indent=1
        )
        + "\n",
    }


def main() -> None:
    for name, text in render().items():
        (HERE / name).write_text(text, encoding="utf-8")
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
