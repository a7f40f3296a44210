"""Produce the published test vectors: a trust bundle and QR texts with their expected
verdicts. Everything derives from fixed seeds and Ed25519 is deterministic, so running
this again must reproduce the committed files byte for byte (a test checks that).

Run: ``make vectors`` (``python -m tests.vectors.generate``).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from issuer.core import cose, qrtext, trust
from issuer.core.credential import encode_payload
from issuer.core.numbering import CertificateNumber
from issuer.core.signing import Signer
from tests import factories as f

HERE = Path(__file__).parent
AT = "2026-11-30T00:00:00Z"
AFTER_MAX_AGE = "2026-12-02T00:00:01Z"
"""The status lists are signed at 2026-11-29T00:00:00Z with a maximum age of 72 hours."""
REVOKED_INDEX = 777

ORG_B = "S000044000002"
ORG_C = "Y000031000003"


def _forge(signer: Signer, cred: Any) -> str:
    """Sign without the signer's own consistency check, to make invalid vectors."""
    return qrtext.encode(cose.sign(encode_payload(cred), signer.key, signer.kid), f.HOST)


def _flip_signature(text: str) -> str:
    raw = bytearray(qrtext.decode(text))
    raw[-1] ^= 0x01
    return qrtext.encode(bytes(raw), f.HOST)


def build() -> tuple[str, list[dict[str, Any]]]:
    auth = f.authority()
    a_old = f.org_signer(auth, seed="org-a-2025", not_after=datetime(2026, 6, 30, tzinfo=UTC))
    a_new = f.org_signer(auth, seed="org-a-2026", not_before=datetime(2026, 6, 1, tzinfo=UTC))
    b = f.org_signer(auth, code=ORG_B, name="广东某某职业技能培训中心", seed="org-b")
    c_old = f.org_signer(auth, code=ORG_C, name="上海某某汽车维修有限公司", seed="org-c-compromised")
    c_new = f.org_signer(auth, code=ORG_C, name="上海某某汽车维修有限公司", seed="org-c-2026")
    stranger = f.org_signer(auth, seed="not-in-trust-list")

    org_a = f.organization(
        [],
        keys=[
            trust.KeyEntry(a_old.certificate.der, "retired", retired_at=datetime(2026, 6, 1, tzinfo=UTC)),
            trust.KeyEntry(a_new.certificate.der),
        ],
    )
    org_b = f.organization(
        [b],
        code=ORG_B,
        name="广东某某职业技能培训中心",
        scope=[trust.ScopeEntry("4-03-02-01", frozenset({5, 4, 3}))],
        status=[trust.StatusChange("active", date(2025, 1, 1)), trust.StatusChange("suspended", date(2026, 6, 1))],
    )
    org_c = f.organization(
        [],
        code=ORG_C,
        name="上海某某汽车维修有限公司",
        scope=[trust.ScopeEntry("4-12-01-01", frozenset({4, 3}))],
        keys=[
            trust.KeyEntry(c_old.certificate.der, "compromised", datetime(2026, 10, 1, 2, 0, tzinfo=UTC)),
            trust.KeyEntry(c_new.certificate.der),
        ],
    )
    tl = f.trust_list([org_a, org_b, org_c])
    revoked = f.credential(number="Y000123000001263000031", status_index=REVOKED_INDEX, name="王五")
    lists = [f.status_list(a_new, [REVOKED_INDEX]), f.status_list(b), f.status_list(c_new)]
    bundle = f.bundle_json(auth, tl, lists)

    typical = f.credential()
    c_cred = f.credential(number=f"{ORG_C}264000007", occupation="4-12-01-01", level=4, work_type=None, name="李四")

    def n(number: str) -> CertificateNumber:
        return CertificateNumber.parse(number)

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
                f.credential(number="Y000123000001261000042", level=1, work_type=None, name="欧阳娜娜"), f.HOST
            ),
            "valid",
            None,
            "no 工种, level 1 (一级/高级技师)",
        ),
        (
            "valid-retired-key",
            a_old.qr_text(f.credential(number="Y000123000001254000005", level=4, issue_date=date(2025, 3, 1)), f.HOST),
            "valid",
            None,
            "signed in 2025 by a key that has since been rotated out (retired)",
        ),
        (
            "retired-key-used-later",
            a_old.qr_text(f.credential(number="Y000123000001264000009", level=4, issue_date=date(2026, 6, 20)), f.HOST),
            "not_valid",
            "key_status",
            "signed by the key retired on 2026-06-01, dated 2026-06-20 (within its certificate's validity)",
        ),
        (
            "valid-before-compromise",
            c_old.qr_text(replace(c_cred, issue_date=date(2026, 9, 30)), f.HOST),
            "valid",
            None,
            "signed by a key revoked as compromised from 2026-10-01, dated before that",
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
            a_new.qr_text(f.credential(occupation="4-04-05-05", work_type=None), f.HOST),
            "not_valid",
            "scope",
            "人工智能训练师 is not in the organization's scope",
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
            "suspended-before-issue",
            b.qr_text(
                f.credential(number=f"{ORG_B}265000011", occupation="4-03-02-01", level=5, work_type=None), f.HOST
            ),
            "not_valid",
            "registration",
            "organization suspended from 2026-06-01, credential dated 2026-11-29",
        ),
        (
            "compromised-key",
            c_old.qr_text(c_cred, f.HOST),
            "not_valid",
            "key_status",
            "key revoked as compromised from 2026-10-01, credential dated 2026-11-29",
        ),
        (
            "future-issue-date",
            a_new.qr_text(f.credential(number="Y000123000001273000001", issue_date=date(2027, 1, 5)), f.HOST),
            "not_valid",
            "issue_date",
            "dated after the verification time",
        ),
        ("truncated", a_new.qr_text(typical, f.HOST)[:-20], "not_valid", "decodable", "the last 20 characters cut off"),
        (
            "revoked",
            a_new.qr_text(revoked, f.HOST),
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
