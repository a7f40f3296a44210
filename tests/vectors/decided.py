"""Vectors for the rules FORMAT.md decided after the independent verifier's comparison
(tests/independent/NOTES.md, D1–D9 and G1–G18): bundles, most of them small (one or a few
organizations and a cut catalogue), each pinning one rule, and the vectors verified against
them. ``unusable`` bundles are ones a verifier must refuse as a whole (§7 steps 1–3): no
credential gets a verdict with them.

Deterministic like the rest: ``generate.render()`` writes these files too, and the committed
ones must be what it writes.
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import cbor2
from cryptography import x509

from issuer.core import cbor, cose, pki, qrtext, trust
from issuer.core.catalogue import default_catalogue
from issuer.core.credential import Credential, encode_payload
from issuer.core.manifest import Manifest
from issuer.core.signing import Signer
from issuer.core.statuslist import StatusList
from tests import factories as f

Payload = dict[str, Any]

ORG_P, ORG_Q, ORG_R, ORG_S = "S000022000011", "Y000023000012", "S000032000013", "Y000033000014"
ORG_T, ORG_U, ORG_V, ORG_X = "S000034000015", "Y000035000016", "S000036000017", "Y000041000018"
ORG_Y, ORG_Z, ORG_W = "S000042000019", "Y000043000020", "S000045000021"
U_DAY = date(2026, 11, 27)
"""The day organization U changed its status twice (a version-1 credential is dated it)."""


@dataclass
class Decided:
    """The bundles and vectors of the decided rules."""

    files: dict[str, bytes] = field(default_factory=dict)
    vectors: list[dict[str, Any]] = field(default_factory=list)
    unusable: list[dict[str, str]] = field(default_factory=list)

    def vector(
        self,
        name: str,
        bundle: str,
        qr_text: str,
        at: str,
        status: str,
        failed: str | None,
        reason: str | None,
        why: str,
    ) -> None:
        self.vectors.append(
            {
                "name": name,
                "bundle": bundle,
                "qr_text": qr_text,
                "at": at,
                "status": status,
                "failed_check": failed,
                "reason": reason,
                "description": why,
            }
        )


def _json(bundle: dict[str, Any], **extra: Any) -> bytes:
    return (json.dumps({**bundle, **extra}, indent=1) + "\n").encode("utf-8")


def _signed_trust_list(auth: f.Authority, payload: Payload, *, raw: bool = False) -> bytes:
    """``payload`` signed by the root as it is; ``raw``: encoded by cbor2 itself, so that it
    may hold what ``cbor.encode`` refuses to write (a float, a tag)."""
    encoded = cbor2.dumps(payload, canonical=True) if raw else cbor.encode(payload)
    return cose.sign(encoded, auth.key, pki.kid_of(auth.root_der))


def _manifest(
    signed_tl: bytes, named: dict[str, bytes], log_key: Any, change: Callable[[Payload], None] | None
) -> bytes:
    payload = Manifest.of(f.STATUS_AT, signed_tl, None, named).to_payload()
    if change is not None:
        change(payload)
    log_kid = trust.LogKey("", log_key.public_key().public_bytes_raw()).kid
    return cose.sign(cbor.encode(payload), log_key, log_kid)


def _small(orgs: list[trust.OrganizationEntry], log: trust.LogKey) -> trust.TrustList:
    """A trust list of these organizations whose catalogue holds only the occupations they name."""
    names = trust.catalogue_names(default_catalogue())
    used = sorted({s.occupation for o in orgs for s in o.scope})
    return trust.TrustList(
        f.AUTHORITY, datetime(2026, 11, 1, tzinfo=UTC), 1, tuple(orgs), {c: names[c] for c in used}, logs=(log,)
    )


def _resigned(auth: f.Authority, der: bytes, old: bytes, new: bytes) -> bytes:
    """``der`` with ``old`` replaced by ``new`` (as long) in its TBS, signed again by the root."""
    tbs = x509.load_der_x509_certificate(der).tbs_certificate_bytes
    assert len(old) == len(new) and tbs.count(old) == 1, (old, new)
    changed = tbs.replace(old, new)
    return der.replace(tbs, changed)[:-64] + auth.key.sign(changed)


def _with_kid(key: Any, der: bytes, cred: Credential) -> str:
    return qrtext.encode(cose.sign(encode_payload(cred), key, pki.kid_of(der)), f.HOST)


def _gzip_with_header_crc(bits: bytes, *, correct: bool) -> bytes:
    """One gzip member with FHCRC set: the header's CRC-16, right or wrong (RFC 1952 §2.3.1)."""
    header = struct.pack("<BBBBIBB", 0x1F, 0x8B, 8, 2, 0, 2, 3)
    crc16 = zlib.crc32(header) & 0xFFFF
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = deflate.compress(bits) + deflate.flush()
    trailer = struct.pack("<II", zlib.crc32(bits), len(bits))
    return header + struct.pack("<H", crc16 if correct else crc16 ^ 0x5A5A) + body + trailer


def _list_with(listed: StatusList, key: Any, kid: bytes, **changes: Any) -> bytes:
    return cose.sign(cbor.encode({**listed.to_payload(), **changes}), key, kid)


def _unused_bits(text: str) -> str:
    """The same bytes in base64 whose last character before the padding has a non-zero unused bit."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    padding = len(text) - len(text.rstrip("="))
    assert padding, "no unused bits without padding"
    last = len(text) - padding - 1
    changed = text[:last] + alphabet[alphabet.index(text[last]) | 1] + text[last + 1 :]
    assert base64.b64decode(changed) == base64.b64decode(text) and changed != text
    return changed


def build(
    auth: f.Authority,
    s: dict[str, Signer],
    orgs: dict[str, trust.OrganizationEntry],
    log_key: Any,
    log: trust.LogKey,
    texts: dict[str, str],
    at: str,
    revoked_index: int,
) -> Decided:
    """``s``, ``orgs`` and ``texts``: the main vectors' signers, organizations (by code) and QR
    texts (by vector name), so that the same credentials meet the decided rules."""
    out = Decided()
    typical = texts["valid-typical"]
    stranger = texts["unknown-key"]
    a_list = f.status_list(s["a_new"], [revoked_index])

    def small_bundle(
        tl: trust.TrustList | Payload,
        lists: list[bytes],
        *,
        named: dict[str, bytes] | None = None,
        change_manifest: Callable[[Payload], None] | None = None,
        raw: bool = False,
    ) -> dict[str, Any]:
        payload = tl.to_payload() if isinstance(tl, trust.TrustList) else tl
        signed_tl = _signed_trust_list(auth, payload, raw=raw)
        manifest = _manifest(signed_tl, named if named is not None else {}, log_key, change_manifest)
        return trust.make_bundle(auth.root_der, signed_tl, lists, None, manifest)

    org_a = orgs[f.ORG_CODE]
    a_only = _small([org_a], log)
    a_bundle = small_bundle(a_only, [a_list], named={f.ORG_CODE: a_list})

    # --- §7 encoding and envelope (D1, D2, D3) ---------------------------------------------
    name = "bundle-with-a-byte-order-mark.json"
    out.files[name] = b"\xef\xbb\xbf" + _json(a_bundle)
    out.vector(
        name[7:-5],
        name,
        typical,
        at,
        "valid",
        None,
        None,
        "the bundle starts with a UTF-8 byte order mark (EF BB BF): one is ignored (§7)",
    )
    name = "bundle-version-written-2.0.json"
    out.files[name] = _json(a_bundle).replace(b'"version": 2', b'"version": 2.0', 1)
    out.vector(
        name[7:-5],
        name,
        typical,
        at,
        "valid",
        None,
        None,
        "the bundle's version is the JSON number 2.0, which is 2 (§7)",
    )
    name = "bundle-status-lists-not-an-array.json"
    out.files[name] = _json(a_bundle, status_lists={})
    out.vector(
        name[7:-5],
        name,
        typical,
        at,
        "unknown",
        None,
        "status_unknown",
        "status_lists is an object: set aside, the bundle loads without status lists (§7 step 5)",
    )
    for name, data, why in (
        ("bundle-version-true.json", _json(a_bundle, version=True), "the bundle's version is true, not a number (§7)"),
        (
            "bundle-utf-16.json",
            _json(a_bundle).decode("utf-8").encode("utf-16"),
            "the bundle in UTF-16 with its byte order mark: not UTF-8 (§7)",
        ),
        ("bundle-nan.json", _json(a_bundle, note=float("nan")), "the bundle holds NaN, which is not JSON (§7)"),
        (
            "bundle-not-utf-8.json",
            _json(a_bundle, note="X").replace(b'"note": "X"', b'"note": "\xe9"'),
            "a member nobody reads holds the byte E9 (Latin-1 \u00e9): not UTF-8 (§7)",
        ),
    ):
        out.files[name] = data
        out.unusable.append({"name": name[7:-5], "bundle": name, "description": why})

    # --- base64 with non-zero unused bits (§7) ------------------------------------------------
    name = "bundle-base64-unused-bits.json"
    padded = {
        k: _unused_bits(v)
        for k, v in a_bundle.items()
        if k in ("root_certificate", "trust_list", "manifest") and v.endswith("=")
    }
    lists = [_unused_bits(v) if v.endswith("=") else v for v in a_bundle["status_lists"]]
    assert padded or lists != a_bundle["status_lists"]
    out.files[name] = _json(a_bundle, **padded, status_lists=lists)
    out.vector(
        name[7:-5],
        name,
        typical,
        at,
        "valid",
        None,
        None,
        "every base64 value with padding has a non-zero unused bit in its last character: accepted, "
        "the bytes are the same (§7)",
    )

    # --- trust list envelope (D4, D5, Conventions) ---------------------------------------------
    def envelope(change: Callable[[Payload], None]) -> Payload:
        payload = a_only.to_payload()
        change(payload)
        return payload

    name = "bundle-logs-not-an-array.json"
    out.files[name] = _json(small_bundle(envelope(lambda p: p.update(logs={})), [a_list], named={f.ORG_CODE: a_list}))
    out.vector(
        name[7:-5],
        name,
        typical,
        at,
        "valid",
        None,
        None,
        "the trust list's logs is a map: no log is named (so the manifest is set aside) and the list is read (§6)",
    )
    nested: Any = 1
    for _ in range(15):
        nested = [nested]
    for name, payload, raw, why in (
        (
            "bundle-sequence-negative.json",
            envelope(lambda p: p.update(sequence=-1)),
            False,
            "the trust list's sequence is -1, not a uint: its envelope cannot be read (§6)",
        ),
        (
            "bundle-float-in-the-trust-list.json",
            envelope(lambda p: p.update(note=1.5)),
            True,
            "the trust list holds a float (1.5) under a key nobody reads: no signed map holds one (§2 rule 1)",
        ),
        (
            "bundle-tag-in-the-trust-list.json",
            envelope(lambda p: p.update(note=cbor2.CBORTag(0, "2026-11-01T00:00:00Z"))),
            True,
            "the trust list holds a tag (0, a date-time) under a key nobody reads: no signed map holds one (§2 rule 1)",
        ),
        (
            "bundle-seventeen-levels.json",
            envelope(lambda p: p.update(note=nested)),
            False,
            "the trust list holds 15 arrays around an integer under a key nobody reads: the integer is at "
            "level 17 (§2 rule 1)",
        ),
    ):
        out.files[name] = _json(small_bundle(payload, [a_list], named={f.ORG_CODE: a_list}, raw=raw))
        out.unusable.append({"name": name[7:-5], "bundle": name, "description": why})

    # --- the manifest's version (D9) -------------------------------------------------------------
    name = "bundle-manifest-version-true.json"
    older = f.status_list(s["a_new"], issued_at=f.STATUS_AT - timedelta(hours=1))
    out.files[name] = _json(
        small_bundle(a_only, [a_list], named={f.ORG_CODE: older}, change_manifest=lambda p: p.update(version=True))
    )
    out.vector(
        name[7:-5],
        name,
        typical,
        at,
        "valid",
        None,
        None,
        "the manifest's version is true, not the uint 1: it is set aside and binds nothing, so the list "
        "it does not name is kept (§7 step 4)",
    )

    # --- status lists (D8, §9 FHCRC, max_age range, §7 attribution) -------------------------
    name = "bundle-status-list-fields.json"
    codes = [f.ORG_CODE, "S000044000002", "Y000031000003", "S000037000004", "Y000011000005", "Y000014000008"]
    b, c, d, e, h = (orgs[code] for code in codes[1:])
    base = StatusList.of(f.ORG_CODE, {revoked_index}, f.STATUS_AT)
    plain = StatusList.of
    root_kid = pki.kid_of(auth.root_der)
    listed = {
        f.ORG_CODE: _list_with(
            base, s["a_new"].key, s["a_new"].kid, list=_gzip_with_header_crc(base.bits, correct=True)
        ),
        b.code: _list_with(plain(b.code, set(), f.STATUS_AT), s["b"].key, s["b"].kid, max_age=True),
        c.code: _list_with(plain(c.code, set(), f.STATUS_AT), s["c_new"].key, s["c_new"].kid, version=True),
        d.code: _list_with(plain(d.code, set(), f.STATUS_AT), auth.key, root_kid, max_age=2**64 - 1),
        e.code: _list_with(plain(e.code, set(), f.STATUS_AT), auth.key, root_kid, max_age=2**64),
        h.code: _list_with(
            plain(h.code, set(), f.STATUS_AT),
            s["h"].key,
            s["h"].kid,
            list=_gzip_with_header_crc(bytes(plain(h.code, set(), f.STATUS_AT).bits), correct=False),
        ),
    }
    out.files[name] = _json(small_bundle(_small([org_a, b, c, d, e, h], log), list(listed.values()), named=listed))
    for vector, text, status, reason, why in (
        (
            "list-with-a-header-crc",
            typical,
            "valid",
            None,
            "the organization's list is a gzip member with a correct header CRC (FHCRC): read (§9)",
        ),
        (
            "list-with-a-wrong-header-crc",
            texts["list-with-other-gzip-header-fields"],
            "unknown",
            "status_list_unusable",
            "the organization's list has a wrong header CRC: set aside (§9)",
        ),
        (
            "list-max-age-true",
            texts["valid-before-suspension"],
            "unknown",
            "status_list_unusable",
            "the organization's list says max_age true, not a uint: set aside (§9, D8)",
        ),
        (
            "list-version-true",
            texts["valid-before-compromise"],
            "unknown",
            "status_list_unusable",
            "the organization's list says version true, not the uint 1: set aside (§9, D8)",
        ),
        (
            "root-signed-list-max-age-uint64-max",
            texts["valid-expired-organization-old-certificate"],
            "valid",
            None,
            "the root-signed list claims max_age 2^64-1 s: read, and trusted for 7 days (§9)",
        ),
        (
            "root-signed-list-max-age-bignum",
            texts["broken-status-list"],
            "unknown",
            "status_unknown",
            "the root-signed list's max_age is 2^64, a bignum (tag 2): set aside, and a list with the root's kid "
            "concerns no organization, hence status_unknown (§7, §9)",
        ),
    ):
        out.vector(vector, name, text, at, status, None if status != "revoked" else "status", reason, why)

    # --- trust-list decoding (G6, G9, G10, G11, G12, G13, G16, D6) -----------------------------
    name = "bundle-trust-list-rules.json"
    signers = {
        code: f.org_signer(auth, code=code, name=f"{code}测试机构", seed=f"decided-{code}")
        for code in (ORG_P, ORG_R, ORG_S, ORG_T, ORG_U, ORG_V, ORG_X, ORG_Z, ORG_W)
    }
    not_der = b"\x30\x03\x02\x01\x01"  # a key certificate that does not parse: that key is set aside
    org_id = b"\x0c\x0d"
    der_s = _resigned(auth, signers[ORG_S].certificate.der, b"\x04\x04\x03\x02\x06\xc0", b"\x04\x04\x03\x02\x09\xc0")
    der_t = _resigned(auth, signers[ORG_T].certificate.der, org_id + ORG_T.encode(), b"\x13\x0d" + ORG_T.encode())
    u_changes = (
        trust.StatusChange("active", f.REGISTERED),
        trust.StatusChange("active", f.china("2026-11-27 10:00")),
        trust.StatusChange("suspended", f.china("2026-11-27 09:00")),
    )
    entries = [
        org_a,
        replace(f.organization([signers[ORG_P]], code=ORG_P, name=f"{ORG_P}测试机构"), code=ORG_P[:12]),
        f.organization([signers[ORG_R]], code=ORG_R, name=f"{ORG_R}测试机构"),
        f.organization([], code=ORG_S, name=f"{ORG_S}测试机构", keys=[trust.KeyEntry(der_s)]),
        f.organization([], code=ORG_T, name=f"{ORG_T}测试机构", keys=[trust.KeyEntry(der_t)]),
        f.organization([signers[ORG_U]], code=ORG_U, name=f"{ORG_U}测试机构", status=u_changes),
        f.organization([signers[ORG_V]], code=ORG_V, name=f"{ORG_V}测试机构"),
        f.organization([signers[ORG_X]], code=ORG_X, name=f"{ORG_X}测试机构"),
        f.organization([signers[ORG_X]], code=ORG_Y, name=f"{ORG_Y}测试机构"),
        f.organization([signers[ORG_Z]], code=ORG_Z, name=f"{ORG_Z}测试机构"),
        f.organization(
            [],
            code=ORG_W,
            name=f"{ORG_W}测试机构",
            keys=[trust.KeyEntry(signers[ORG_W].certificate.der), trust.KeyEntry(not_der)],
        ),
    ]
    payload = _small(entries, log).to_payload()
    by_code = {o["code"]: o for o in payload["organizations"]}
    nested = 1
    for _ in range(14):
        nested = [nested]
    payload["note"] = nested  # 16 levels: the payload map, 14 arrays, the integer
    payload["catalogue"]["note"] = "x"
    payload["logs"][0]["note"] = "x"
    a_entry = by_code[f.ORG_CODE]
    a_entry["note"] = "x"
    a_entry["keys"][0]["note"] = "x"
    a_entry["scope"][0]["note"] = "x"
    a_entry["status"][0]["note"] = "x"
    by_code[ORG_R]["keys"][0]["status"] = "lost"
    by_code[ORG_V]["status"][0]["since"] = "2025-01-01"
    by_code[ORG_Y]["name"] = 7
    by_code[ORG_Z]["scope"][0]["edition"] = -2022
    u_list = f.status_list(signers[ORG_U])
    t_list = StatusList.of(ORG_T, set(), f.STATUS_AT).sign(signers[ORG_T].key, pki.kid_of(der_t))
    w_list = StatusList.of(ORG_W, set(), f.STATUS_AT).sign(signers[ORG_W].key, pki.kid_of(not_der))
    named = {f.ORG_CODE: a_list, ORG_T: t_list, ORG_U: u_list, ORG_W: w_list}
    out.files[name] = _json(small_bundle(payload, list(named.values()), named=named))

    def cred(code: str, **changes: Any) -> Credential:
        return f.credential(number=f"{code}263000001", **changes)

    for vector, text, status, failed, reason, why in (
        (
            "unknown-keys-are-ignored",
            typical,
            "valid",
            None,
            None,
            "unknown keys in the envelope (one holding 16 levels), the catalogue, a log entry, the organization "
            "map, a key, a scope entry and a status change are ignored (§6, §2 rule 1)",
        ),
        (
            "organization-code-not-13-characters",
            signers[ORG_P].qr_text(cred(ORG_P), f.HOST),
            "not_valid",
            "certificate_chain",
            "not_certified",
            "the organization's code has 12 characters: the map decodes (the code is not checked on decoding) "
            "and check 5 fails (§6)",
        ),
        (
            "key-entry-that-does-not-decode",
            signers[ORG_R].qr_text(cred(ORG_R), f.HOST),
            "unknown",
            None,
            "organization_unreadable",
            "a key entry's status is 'lost': the whole organization map is set aside, not the key alone (§6)",
        ),
        (
            "certificate-with-a-malformed-extension",
            _with_kid(signers[ORG_S].key, der_s, cred(ORG_S)),
            "unknown",
            None,
            "organization_unreadable",
            "the key certificate's keyUsage does not parse (a library reads it lazily): the key is set aside (§5)",
        ),
        (
            "organization-identifier-as-printable-string",
            _with_kid(signers[ORG_T].key, der_t, cred(ORG_T)),
            "valid",
            None,
            None,
            "the certificate's organizationIdentifier is a PrintableString: string types are not checked (§5)",
        ),
        (
            "version-1-credential-two-status-changes-on-its-date",
            signers[ORG_U].qr_text(cred(ORG_U, when=U_DAY), f.HOST),
            "valid",
            None,
            None,
            "a version-1 credential of 2026-11-27, when the organization was suspended at 09:00 and made active "
            "again at 10:00, listed in the other order: the instants decide, the later change counts (§8 check 7)",
        ),
        (
            "date-where-an-instant-belongs",
            signers[ORG_V].qr_text(cred(ORG_V), f.HOST),
            "unknown",
            None,
            "organization_unreadable",
            "a version-2 list with a date as a status change's since: that organization map is set aside (§6)",
        ),
        (
            "certificate-also-held-by-an-entry-set-aside",
            signers[ORG_X].qr_text(cred(ORG_X), f.HOST),
            "unknown",
            None,
            "organization_unreadable",
            "another organization entry, set aside, holds the same certificate: the key is usable nowhere (§6)",
        ),
        (
            "scope-edition-not-a-uint",
            signers[ORG_Z].qr_text(cred(ORG_Z), f.HOST),
            "unknown",
            None,
            "organization_unreadable",
            "a scope entry's edition is -2022, not a uint: the map is set aside (§6, D6)",
        ),
        (
            "list-signed-by-a-key-set-aside",
            signers[ORG_W].qr_text(cred(ORG_W), f.HOST),
            "unknown",
            None,
            "status_list_unusable",
            "the organization's only list has the kid of its key set aside (a certificate that does not parse): "
            "the list is set aside and concerns that organization (§7)",
        ),
        (
            "unknown-key-beside-entries-set-aside",
            stranger,
            "not_valid",
            "known_key",
            "unknown_key",
            "every entry set aside here has only readable key certificates: an unknown kid is not_valid (§8 check 2)",
        ),
    ):
        out.vector(vector, name, text, at, status, failed, reason, why)

    # --- an entry set aside with a key whose certificate cannot be read (D7) ---------------
    name = "bundle-organization-with-an-unreadable-key.json"
    q1 = f.org_signer(auth, code=ORG_Q, name=f"{ORG_Q}测试机构", seed="decided-q1")
    q2 = f.org_signer(auth, code=ORG_Q, name=f"{ORG_Q}测试机构", seed="decided-q2")
    payload = _small([org_a, f.organization([q1, q2], code=ORG_Q, name=f"{ORG_Q}测试机构")], log).to_payload()
    next(o for o in payload["organizations"] if o["code"] == ORG_Q)["keys"][1] = 5
    out.files[name] = _json(small_bundle(payload, [a_list], named={f.ORG_CODE: a_list}))
    for vector, text, status, failed, reason, why in (
        (
            "valid-beside-an-unreadable-key",
            typical,
            "valid",
            None,
            None,
            "another organization's entry is set aside: this one verifies as before (§7)",
        ),
        (
            "credential-of-an-unreadable-key",
            q2.qr_text(cred(ORG_Q), f.HOST),
            "unknown",
            None,
            "organization_unreadable",
            "signed by the key whose entry is the integer 5 in an organization map set aside: unknown (§6, D7)",
        ),
        (
            "unknown-key-beside-an-unreadable-key",
            stranger,
            "unknown",
            None,
            "organization_unreadable",
            "a kid no usable key has, while an entry set aside holds a key that cannot be read: unknown, "
            "never not_valid (§6, §8 check 2, D7)",
        ),
    ):
        out.vector(vector, name, text, at, status, failed, reason, why)
    return out
