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
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from issuer.core import cose, qrtext, trust
from issuer.core.credential import Credential, encode_payload
from issuer.core.numbering import CertificateNumber
from issuer.core.signing import Signer
from issuer.core.statuslist import StatusList
from tests import factories as f
from tests.vectors import decided

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
ORG_F, NAME_F = "S000012000006", "天津某某职业培训学校"
ORG_G, NAME_G = "S000013000007", "河北某某技工学校"
ORG_H, NAME_H = "Y000014000008", "山西某某煤业有限公司"
ORG_J, NAME_J = "Y000015000009", "内蒙古某某能源有限公司"
ORG_K, NAME_K = "Y000021000010", "辽宁某某机械有限公司"

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


def _gzip_with_a_name(signer: Signer) -> bytes:
    """A status list whose gzip member names a file and a time (FNAME, MTIME): verifiers take
    any single gzip member, since they inflate and never recompress (§9)."""
    import gzip
    import io

    from issuer.core import cbor
    from issuer.core.statuslist import StatusList

    listed = StatusList.of(signer.org_code, set(), f.STATUS_AT)
    out = io.BytesIO()
    with gzip.GzipFile("status.bin", "wb", 9, out, mtime=1_795_000_000) as compressed:
        compressed.write(listed.bits)
    payload = {**listed.to_payload(), "list": out.getvalue()}
    return cose.sign(cbor.encode(payload), signer.key, signer.kid)


def _claims_with(cred: Credential, claims: dict[int, Any]) -> bytes:
    """The claims of ``cred`` with some replaced, encoded as they are (bypassing the checks)."""
    from issuer.core import cbor

    return cbor.encode({**cred.claims(), **claims})


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
        "f_old": f.org_signer(auth, code=ORG_F, name=NAME_F, seed="org-f-compromised"),
        "f_new": f.org_signer(auth, code=ORG_F, name=NAME_F, seed="org-f-2026"),
        "g": f.org_signer(auth, code=ORG_G, name=NAME_G, seed="org-g", not_after=f.china("2026-11-01 00:00")),
        "h": f.org_signer(auth, code=ORG_H, name=NAME_H, seed="org-h"),
        "j": f.org_signer(auth, code=ORG_J, name=NAME_J, seed="org-j"),
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
    org_f = f.organization(
        [],
        code=ORG_F,
        name=NAME_F,
        keys=[trust.KeyEntry(s["f_old"].certificate.der, "compromised"), trust.KeyEntry(s["f_new"].certificate.der)],
    )
    org_g = replace(f.organization([s["g"]], code=ORG_G, name=NAME_G), registered_until=D_UNTIL)
    org_h = f.organization([s["h"]], code=ORG_H, name=NAME_H)
    org_j = f.organization([s["j"]], code=ORG_J, name=NAME_J)
    org_k = f.organization([s["j"]], code=ORG_K, name=NAME_K)  # J's certificate again: one kid, two keys
    return s, [org_a, org_b, org_c, org_d, org_e, org_f, org_g, org_h, org_j, org_k]


REASONS = {
    "retired-key-at-rotation": "key_retired",
    "suspended-before-issue": "organization_suspended",
    "compromised-key": "key_compromised",
    "out-of-scope-before-scope-change": "out_of_scope",
    "expired-organization-after-its-registration": "certificate_not_valid_then",
    "broken-status-list": "status_list_unusable",
    "wrong-signature": "bad_signature",
    "unknown-key": "unknown_key",
    "out-of-scope-occupation": "out_of_scope",
    "out-of-scope-level": "out_of_scope",
    "out-of-scope-work-type": "out_of_scope",
    "number-not-of-signer": "number_not_of_signer",
    "number-year-mismatch": "number_year_mismatch",
    "future-issue-date": "issued_in_future",
    "truncated": "malformed",
    "revoked": "revoked",
    "not-white-space-before": "malformed",
    "name-assigned-after-unicode-14": "malformed_claims",
    "stale-list-still-says-revoked": "revoked",
    "list-trusted-for-a-week-at-most": "status_unknown",
    "list-of-a-key-compromised-at-an-unknown-time": "status_list_unusable",
    "list-signed-after-its-certificate-ended": "status_list_unusable",
    "two-keys-with-one-kid": "organization_unreadable",
    "older-status-list-slipped-in": "status_list_unusable",
    "status-list-too-old": "status_unknown",
}
"""The reason code (§8) of every vector that is not valid."""


def build() -> tuple[str, str, list[dict[str, Any]], decided.Decided]:
    auth = f.authority()
    s, orgs = _organizations(auth)
    stranger = f.org_signer(auth, seed="not-in-trust-list")
    log_key, log = f.log_key()
    tl = f.trust_list(orgs, logs=[log])
    week_long = StatusList.of(ORG_C, set(), f.STATUS_AT, max_age=timedelta(days=30))
    current_a = f.status_list(s["a_new"], [REVOKED_INDEX])
    lists = [
        current_a,
        f.status_list(s["b"]),
        week_long.sign(s["c_new"].key, s["c_new"].kid),  # claims 30 days; trusted for 7 at most
        f.root_status_list(auth, ORG_D),  # D's registration ended: the authority signs its list
        _broken(f.status_list(s["e"])),
        f.status_list(s["f_old"]),  # signed by a key compromised at an unknown time: set aside
        f.status_list(s["g"]),  # signed on 2026-11-29 by a certificate that ended on 2026-11-01: set aside
        _gzip_with_a_name(s["h"]),
    ]
    bundle = f.bundle_json(auth, tl, lists, manifest_key=log_key)
    rolled_back = f.bundle_json(
        auth,
        tl,
        [f.status_list(s["a_new"], issued_at=f.STATUS_AT - timedelta(hours=1)), *lists[1:]],
        manifest_key=log_key,
        manifest_lists=lists,
    )

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
    with_instant = {"occupation": "6-31-01-03", "work_type": None}
    typical_text = a_new.qr_text(typical, f.HOST)
    vectors += [
        (
            "valid-with-surrounding-white-space",
            "\u3000" + typical_text + "\r\n",
            "valid",
            None,
            "an ideographic space before and CR LF after: White_Space around a QR text is removed (§1)",
        ),
        (
            "not-white-space-before",
            "\x1c" + typical_text,
            "not_valid",
            "decodable",
            "U+001C (FILE SEPARATOR) is not White_Space, though some languages strip it",
        ),
        (
            "name-assigned-after-unicode-14",
            qrtext.encode(cose.sign(_claims_with(typical, {-3: "张\U00031350"}), a_new.key, a_new.kid), f.HOST),
            "not_valid",
            "claims",
            "the holder name holds U+31350 (CJK Extension H, Unicode 15.0): unassigned in Unicode 14.0.0, refused",
        ),
        (
            "name-assigned-in-unicode-13",
            a_new.qr_text(f.credential(number="Y000123000001263000061", name="张\U00030000"), f.HOST),
            "valid",
            None,
            "the holder name holds U+30000 (CJK Extension G, Unicode 13.0): allowed",
        ),
        (
            "stale-list-still-says-revoked",
            a_new.qr_text(
                f.credential(number="Y000123000001263000031", status_index=REVOKED_INDEX, name="王五"), f.HOST
            ),
            "revoked",
            "status",
            "checked after the list's maximum age: a set bit still means revoked (revocation is final)",
        ),
        (
            "list-trusted-for-a-week-at-most",
            s["c_new"].qr_text(cred(f"{ORG_C}264000010", "2026-11-20 09:00", **c_cred), f.HOST),
            "unknown",
            None,
            "the list claims 30 days; eight days after it was signed it no longer vouches (7-day cap)",
        ),
        (
            "list-of-a-key-compromised-at-an-unknown-time",
            s["f_new"].qr_text(f.credential(number=f"{ORG_F}263000001", **with_instant), f.HOST),
            "unknown",
            None,
            "the organization's only list is signed by a key compromised at an unknown time: set aside",
        ),
        (
            "list-signed-after-its-certificate-ended",
            s["g"].qr_text(cred(f"{ORG_G}263000001", "2026-10-20 10:00", **with_instant), f.HOST),
            "unknown",
            None,
            "the list was signed on 2026-11-29 by a certificate that ended on 2026-11-01: set aside",
        ),
        (
            "list-with-other-gzip-header-fields",
            s["h"].qr_text(f.credential(number=f"{ORG_H}263000001", **with_instant), f.HOST),
            "valid",
            None,
            "the status list's gzip member carries a file name and a time: any single gzip member is read",
        ),
        (
            "two-keys-with-one-kid",
            s["j"].qr_text(f.credential(number=f"{ORG_J}263000001", **with_instant), f.HOST),
            "unknown",
            None,
            "two organizations list the same certificate: which one signed cannot be told",
        ),
    ]
    stale_at = {
        "stale-list-still-says-revoked": AFTER_MAX_AGE,
        "list-trusted-for-a-week-at-most": "2026-12-07T00:00:01Z",
    }
    manifest = [
        {
            "name": name,
            "qr_text": text,
            "at": stale_at.get(name, AT),
            "status": status,
            "failed_check": failed,
            "reason": REASONS.get(name),
            "description": why,
        }
        for name, text, status, failed, why in vectors
    ]
    manifest.append(
        {
            "name": "older-status-list-slipped-in",
            "bundle": "bundle-rolled-back.json",
            "qr_text": a_new.qr_text(
                f.credential(number="Y000123000001263000031", status_index=REVOKED_INDEX, name="王五"), f.HOST
            ),
            "at": AT,
            "status": "unknown",
            "failed_check": None,
            "reason": REASONS["older-status-list-slipped-in"],
            "description": "the current bundle but the organization's list from before the revocation: the manifest "
            "names the newer list, so the older one is set aside and the revoked credential is never valid",
        }
    )
    manifest.append(
        {
            "name": "status-list-too-old",
            "qr_text": a_new.qr_text(typical, f.HOST),
            "at": AFTER_MAX_AGE,
            "status": "unknown",
            "failed_check": None,
            "reason": REASONS["status-list-too-old"],
            "description": "a valid signature, checked after the status list's maximum age: status unknown",
        }
    )
    assert all((v["status"] == "valid") == (v["reason"] is None) for v in manifest), "a reason for each"
    texts = {v["name"]: v["qr_text"] for v in manifest}
    rules = decided.build(auth, s, {o.code: o for o in orgs}, log_key, log, texts, AT, REVOKED_INDEX)
    return bundle, rolled_back, manifest + rules.vectors + _method_vectors(a_new, typical), rules


def _method_vectors(signer: Signer, typical: Credential) -> list[dict[str, Any]]:
    """Claim -12, the assessment method (§3, version 3), added after every earlier vector so
    that those stay as they were published."""
    champion = f.credential(number="Y000123000001262000071", level=2, work_type=None, name="技能状元")

    def forged(claims: dict[int, Any]) -> str:
        return qrtext.encode(cose.sign(_claims_with(typical, claims), signer.key, signer.kid), f.HOST)

    cases = [
        (
            "valid-competition-method",
            signer.qr_text(replace(champion, assessment_method=4), f.HOST),
            "valid",
            None,
            None,
            "version 3: claim -12 says 4, 竞赛选拔 (selection by competition); a verifier shows the method",
        ),
        (
            "method-claim-in-version-2",
            forged({-12: 4}),
            "not_valid",
            "claims",
            "malformed_claims",
            "claim -12 in a version-2 credential: only version 3 carries it",
        ),
        (
            "default-method-written-in-version-3",
            forged({-1: 3, -12: 1}),
            "not_valid",
            "claims",
            "malformed_claims",
            "version 3 with claim -12 = 1, the default: such a credential is version 2 without the claim",
        ),
    ]
    return [
        {
            "name": name,
            "qr_text": text,
            "at": AT,
            "status": status,
            "failed_check": failed,
            "reason": reason,
            "description": why,
        }
        for name, text, status, failed, reason, why in cases
    ]


def render() -> dict[str, bytes]:
    bundle, rolled_back, manifest, rules = build()
    listed = {
        "at": AT,
        "bundle": "bundle.json",
        "vectors": manifest,
        "unusable_bundles": rules.unusable,
    }
    return {
        "bundle.json": (bundle + "\n").encode("utf-8"),
        "bundle-rolled-back.json": (rolled_back + "\n").encode("utf-8"),
        **rules.files,
        "manifest.json": (json.dumps(listed, ensure_ascii=False, indent=1) + "\n").encode("utf-8"),
    }


def main() -> None:
    for name, data in render().items():
        (HERE / name).write_bytes(data)
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
