# ruff: noqa: RUF005
"""Inputs that need a signature: made with the root key that FORMAT.md §11 publishes.

FORMAT.md §11 says the worked example's root key is SHA-256("authority") used as an Ed25519
private key, and the vector bundles are signed by that very key (their root certificate holds
its public key). So whoever reads FORMAT.md can re-sign trust lists, certify organization keys
and sign status lists for these bundles. This module does it to reach what an unsigned mutation
cannot: trust lists with an organization entry or key made unreadable (§5, §6), claims of every
kind (§3), organization certificates of every profile (§5), key and registration lifecycles (§8
checks 5–9), status lists of every shape and signer (§9) and manifests (§7).

Everything here is built with the independent verifier's own CBOR encoder and ``cryptography``;
nothing from ``issuer`` is used. Keys other than the root are derived from fixed strings.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import json
import struct
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import verifier as ind
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import NameOID
from verifier import Tag, cbor_encode

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors"
HOST = "HTTPS://CERT.HRSS.EXAMPLE.CN/V/"


def _key(label: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(label.encode()).digest())


ROOT_KEY = _key("authority")  # FORMAT.md §11
LOG_KEY = _key("independent/log")
ORG_KEY = _key("independent/org")
OTHER_KEY = _key("independent/other")


def raw_public(k) -> bytes:
    return k.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def kid_of_raw(raw: bytes) -> bytes:
    return hashlib.sha256(raw).digest()[:8]


def sign1(payload: bytes, key, kid: bytes) -> bytes:
    protected = cbor_encode({1: -8, 4: kid})
    sig = key.sign(cbor_encode(["Signature1", protected, b"", payload]))
    return cbor_encode(Tag(18, [protected, {}, payload, sig]))


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def instant(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def china(y, mo, d, h=0, mi=0, s=0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC) - timedelta(hours=8)


def pack_number(number: str) -> bytes:
    t = {"Y": 0, "S": 1}[number[0]]
    return (2 * int(number[1:]) + t).to_bytes(9, "big")


def qr(cose: bytes) -> str:
    return HOST + base64.b32encode(cose).decode("ascii").rstrip("=")


# --------------------------------------------------------------------------------------------
# The base: the vector bundle, its root, its trust list
# --------------------------------------------------------------------------------------------

MAIN = json.loads((VECTORS / "bundle.json").read_text("utf-8"))
ROOT_DER = base64.b64decode(MAIN["root_certificate"])
ROOT_CERT = x509.load_der_x509_certificate(ROOT_DER)
ROOT_KID = kid_of_raw(ROOT_DER)
TL_PAYLOAD = ind.cbor_strict(ind.parse_sign1(base64.b64decode(MAIN["trust_list"])).payload)


def root_matches() -> bool:
    return ROOT_CERT.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw) == raw_public(ROOT_KEY)


def make_cert(
    public_key,
    code: str,
    *,
    not_before: datetime,
    not_after: datetime,
    ca: bool | None = False,
    ku: str | None = "digital",
    org_ids: list[str] | None = None,
    issuer: x509.Name | None = None,
    signer=None,
    extra_ext=None,
) -> bytes:
    org_ids = [code] if org_ids is None else org_ids
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "独立测试机构"),
    ]
    attrs += [x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, o) for o in org_ids]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, f"{code} 证书签名"))
    serial = (
        int.from_bytes(
            hashlib.sha256(
                public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
                + code.encode()
                + instant(not_before).encode()
                + instant(not_after).encode()
                + repr((ca, ku, org_ids, issuer is None, signer is None)).encode()
            ).digest()[:15],
            "big",
        )
        | 1
    )
    b = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(attrs))
        .issuer_name(issuer if issuer is not None else ROOT_CERT.subject)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    if ca is not None:
        b = b.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    if ku is not None:
        b = b.add_extension(
            x509.KeyUsage(
                digital_signature=ku == "digital",
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    if extra_ext is not None:
        b = b.add_extension(*extra_ext)
    return b.sign(signer or ROOT_KEY, None).public_bytes(Encoding.DER)


# My organizations
ORG = "Y009946000001"  # province 46 海南省
ORG2 = "S009965000002"  # province 65
NB, NA = datetime(2025, 1, 1, tzinfo=UTC), datetime(2030, 12, 31, tzinfo=UTC)
ORG_CERT = make_cert(ORG_KEY.public_key(), ORG, not_before=NB, not_after=NA)
ORG_KID = kid_of_raw(ORG_CERT)
ORG2_KEY = _key("independent/org2")
ORG2_CERT = make_cert(ORG2_KEY.public_key(), ORG2, not_before=NB, not_after=NA)
ORG2_KID = kid_of_raw(ORG2_CERT)

T0 = china(2026, 11, 29, 9, 36)  # the worked example's instant
AT = datetime(2026, 11, 30, tzinfo=UTC)
LIST_AT = datetime(2026, 11, 29, tzinfo=UTC)


def key_entry(der: bytes, status="active", compromised_at=None, retired_at=None) -> dict:
    return {
        "certificate": der,
        "status": status,
        "compromised_at": None if compromised_at is None else instant(compromised_at),
        "retired_at": None if retired_at is None else instant(retired_at),
    }


def scope(occ="6-31-01-03", levels=(5, 4, 3, 2, 1), work_types=(), edition=2022, start=None, end=None) -> dict:
    return {
        "occupation": occ,
        "edition": edition,
        "levels": list(levels),
        "work_types": list(work_types),
        "from": None if start is None else (start if isinstance(start, str) else instant(start)),
        "until": None if end is None else (end if isinstance(end, str) else instant(end)),
    }


def org_entry(
    code,
    keys,
    *,
    status=None,
    scopes=None,
    registered_from="2025-01-01",
    registered_until="2030-12-31",
    name="独立测试机构",
) -> dict:
    return {
        "code": code,
        "name": name,
        "registered_from": registered_from,
        "registered_until": registered_until,
        "status": status if status is not None else [{"status": "active", "since": instant(china(2025, 1, 1))}],
        "scope": scopes
        if scopes is not None
        else [scope(), scope("6-18-02-04", (5, 4, 3), ("电焊工", "气焊工")), scope(edition=2015, levels=(3,))],
        "keys": keys,
    }


def deep_copy(x):
    if isinstance(x, dict):
        return {k: deep_copy(v) for k, v in x.items()}
    if isinstance(x, list):
        return [deep_copy(v) for v in x]
    return x


def trust_payload(extra_orgs=(), *, logs=True, mutate=None, minimal=True) -> dict:
    """The vectors' trust list with our organizations added (``minimal``: ours only), its
    catalogue cut to the occupations scopes name (no check reads the catalogue)."""
    p = deep_copy(TL_PAYLOAD)
    if minimal:
        p["organizations"] = []
    occs = p["catalogue"]["occupations"]
    p["catalogue"]["occupations"] = {
        k: occs[k]
        for k in sorted(occs)
        if k in ("6-31-01-03", "6-18-02-04", "4-04-05-05", "4-03-02-01", "4-12-01-01", "6-31-01-02")
    }
    p["organizations"] = sorted(
        p["organizations"] + deep_copy(list(extra_orgs)),
        key=lambda o: o["code"] if isinstance(o, dict) and isinstance(o.get("code"), str) else "",
    )
    if logs:
        p["logs"] = list(p.get("logs", [])) + [{"name": "independent", "public_key": raw_public(LOG_KEY)}]
    p["sequence"] = p["sequence"] + 1
    if mutate:
        mutate(p)
    return p


def sign_trust_list(payload, *, raw: bytes | None = None) -> bytes:
    return sign1(raw if raw is not None else cbor_encode(payload), ROOT_KEY, ROOT_KID)


def gz(data: bytes, **kw) -> bytes:
    """A gzip member as FORMAT.md §9 says issuers write it (FLG 0, MTIME 0)."""
    return gzip.compress(data, compresslevel=9, mtime=0)


def status_list(
    org: str,
    *,
    set_bits=(),
    bits=1 << 20,
    issued_at=LIST_AT,
    max_age=259200,
    key=None,
    kid=None,
    compressed: bytes | None = None,
    payload_mutate=None,
) -> bytes:
    bitstring = bytearray(bits // 8)
    for i in set_bits:
        bitstring[i // 8] |= 0x80 >> (i % 8)
    p = {
        "version": 1,
        "organization": org,
        "issued_at": instant(issued_at),
        "max_age": max_age,
        "bits": bits,
        "list": compressed if compressed is not None else gz(bytes(bitstring)),
    }
    if payload_mutate:
        payload_mutate(p)
    key = key or ORG_KEY
    kid = kid or (ORG_KID if key is ORG_KEY else ORG2_KID if key is ORG2_KEY else ROOT_KID)
    return sign1(cbor_encode(p), key, kid)


def manifest(
    trust_list: bytes, lists: dict[str, bytes], *, tree_head=None, key=None, kid=None, mutate=None, issued_at=LIST_AT
) -> bytes:
    p = {
        "version": 1,
        "issued_at": instant(issued_at),
        "trust_list": hashlib.sha256(trust_list).digest(),
        "tree_head": None if tree_head is None else hashlib.sha256(tree_head).digest(),
        "status_lists": {o: hashlib.sha256(s).digest() for o, s in lists.items()},
    }
    if mutate:
        mutate(p)
    key = key or LOG_KEY
    return sign1(cbor_encode(p), key, kid or kid_of_raw(raw_public(key)))


def bundle(
    trust_list: bytes, lists: list[bytes], *, manifest_bytes=None, tree_head=None, version=2, envelope=None
) -> bytes:
    doc = {
        "format": "issuer-trust-bundle",
        "version": version,
        "root_certificate": MAIN["root_certificate"],
        "trust_list": b64(trust_list),
    }
    if version == 2:
        doc["status_lists"] = [b64(s) for s in lists]
        doc["tree_head"] = None if tree_head is None else b64(tree_head)
        if manifest_bytes is not None:
            doc["manifest"] = b64(manifest_bytes)
    if envelope:
        envelope(doc)
    return json.dumps(doc).encode()


def base_claims(**kw) -> dict:
    c = {
        -1: 2,
        -2: pack_number(ORG + "263000001"),
        -3: "张三丰",
        -4: 1,
        -5: bytes(range(24)),
        -6: 6310103,
        -8: "维修电工",
        -9: 3,
        -10: int(T0.timestamp()),
        -11: 104729,
    }
    for k, v in kw.items():
        key = -int(k[1:])
        if v is _DROP:
            c.pop(key, None)
        else:
            c[key] = v
    return c


class _Drop:
    pass


_DROP = _Drop()


def credential(claims: dict | bytes, key=None, kid=None) -> str:
    payload = claims if isinstance(claims, bytes) else cbor_encode(claims)
    return qr(sign1(payload, key or ORG_KEY, kid or ORG_KID))


# --------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------


def _vector_texts() -> list[tuple[str, str, datetime]]:
    m = json.loads((VECTORS / "manifest.json").read_text("utf-8"))
    keep = {
        "valid-typical",
        "revoked",
        "broken-status-list",
        "two-keys-with-one-kid",
        "unknown-key",
        "valid-expired-organization-old-certificate",
        "valid-before-compromise",
        "compromised-key",
        "valid-before-suspension",
        "valid-retired-key-before-rotation",
        "list-of-a-key-compromised-at-an-unknown-time",
        "list-with-other-gzip-header-fields",
        "valid-no-work-type-level-1",
        "valid-work-type-in-scope",
    }
    return [
        (v["name"], v["qr_text"], datetime.fromisoformat(v["at"].replace("Z", "+00:00")))
        for v in m["vectors"]
        if v["name"] in keep
    ]


def claims_cases(out) -> None:
    """§3: every claim rule, with credentials of a certified organization key of our own."""
    tl = sign_trust_list(trust_payload([org_entry(ORG, [key_entry(ORG_CERT)])]))
    sl = status_list(ORG, set_bits=(777, 0, (1 << 20) - 1))
    b = bundle(tl, [sl], manifest_bytes=manifest(tl, {ORG: sl}))
    T = int(T0.timestamp())
    n = ORG + "263000001"

    def add(label, claims, at=AT, key=None, kid=None):
        out.append((f"claims/{label}", "signed-claims", credential(claims, key, kid), b, at))

    add("base", base_claims())
    add("revoked-777", base_claims(k11=777))
    add("revoked-0", base_claims(k11=0))
    add("revoked-last", base_claims(k11=(1 << 20) - 1))
    add("index-bits", base_claims(k11=1 << 20))
    add("index-max", base_claims(k11=2**32 - 1))
    add("index-over", base_claims(k11=2**32))
    add("index-absent", base_claims(k11=_DROP))
    add("index-negative", base_claims(k11=-1))
    add("index-bool", base_claims(k11=True))
    add("index-tagged", base_claims(k11=Tag(2, b"\x01")))
    # version
    for v in (0, 1, 3, True, -2):
        add(f"version-{v}", base_claims(k1=v))
    add("version-absent", base_claims(k1=_DROP))
    # holder names
    names = {
        "ascii": "Zhang San",
        "one": "张",
        "64": "张" * 64,
        "65": "张" * 65,
        "empty": "",
        "ideographic-space-end": "张三\u3000",
        "nbsp-start": "\u00a0张三",
        "nel-end": "张三\u0085",
        "u180e-end": "张三\u180e",
        "zwsp-inside": "张\u200b三",
        "fs-end": "张三\u001c",
        "inner-space": "Zhang San",
        "inner-ideographic-space": "张\u3000三",
        "nfd": "Jos\u0065\u0301",
        "nfc": "Jos\u00e9",
        "hangul-nfd": "\u1112\u1161\u11ab",
        "combining-start": "\u0301张",
        "u30000": "\U00030000三",
        "u31350": "\U00031350三",
        "private-use": "张\ue000",
        "noncharacter": "张\uffff",
        "unassigned-0378": "张\u0378",
        "soft-hyphen": "张\u00ad三",
        "emoji-14": "张\U0001f979",
        "emoji-15": "张\U0001fae8",
        "tab-inside": "张\t三",
        "line-sep-inside": "张\u2028三",
        "bom-inside": "张\ufeff三",
        "dot": "·",
        "middle-dot-name": "阿依古丽·买买提",
        "ext-b": "\U00020000",
        "tag-char": "张\U000e0041",
        "variation-selector": "张\ufe0f",
        "vs-supplement": "葛\U000e0100",
        "cjk-compat": "\uf900",
        "singleton-nfc-change": "\u212b",
        "hangul-syllable": "한국",
        "arabic": "محمد",
        "rtl-mark": "محمد\u200f",
        "nbsp-inside": "张\u00a0三",
        "64-astral": "\U00020000" * 64,
        "65-astral": "\U00020000" * 65,
    }
    for label, name in names.items():
        add(f"name-{label}", base_claims(k3=name))
    add("name-bytes", base_claims(k3="张三".encode()))
    add("name-absent", base_claims(k3=_DROP))
    add("name-invalid-utf8", cbor_encode(base_claims(k3="AB")).replace(b"\x62AB", b"\x62\xed\xa0"))
    for label, name in (
        ("dashes", "--"),
        ("one-dash", "-"),
        ("empty", ""),
        ("space-end", "电工 "),
        ("nfd", "Jos\u0065\u0301"),
        ("u31350", "\U00031350"),
        ("ok-other", "电工"),
        ("in-scope-welder", "电焊工"),
        ("ws-only", "\u3000"),
        ("65", "工" * 65),
    ):
        add(f"worktype-{label}", base_claims(k8=name))
    add("worktype-absent", base_claims(k8=_DROP))
    add("welder-in-scope", base_claims(k6=6180204, k8="电焊工", k2=pack_number(ORG + "263000002")))
    add("welder-no-worktype", base_claims(k6=6180204, k8=_DROP))
    add("welder-other-worktype", base_claims(k6=6180204, k8="氩弧焊工"))
    add("welder-level-2", base_claims(k6=6180204, k8="电焊工", k9=2, k2=pack_number(ORG + "262000001")))
    # numbers
    for label, num in (
        ("province-66", ORG[:5] + "66" + ORG[7:] + "263000001"),
        ("province-67", ORG[:5] + "67" + ORG[7:] + "263000001"),
        ("province-00", ORG[:5] + "00" + ORG[7:] + "263000001"),
        ("year-18", n[:13] + "183000001"),
        ("year-19", n[:13] + "193000001"),
        ("year-99", n[:13] + "993000001"),
        ("level-0", n[:13] + "260000001"),
        ("level-6", n[:13] + "266000001"),
        ("level-9", n[:13] + "269000001"),
        ("serial-0", n[:13] + "263000000"),
        ("serial-max", n[:13] + "263999999"),
        ("S-prefix", "S" + n[1:]),
        ("other-org", "Y000123000001263000001"),
    ):
        add(f"number-{label}", base_claims(k2=pack_number(num)))
    add("number-D-too-big", base_claims(k2=(2 * 10**21).to_bytes(9, "big")))
    add("number-D-max", base_claims(k2=(2 * 10**21 - 1).to_bytes(9, "big")))
    add("number-8-bytes", base_claims(k2=pack_number(n)[1:]))
    add("number-10-bytes", base_claims(k2=b"\0" + pack_number(n)))
    add("number-int", base_claims(k2=int.from_bytes(pack_number(n)[2:], "big")))
    add("number-level-mismatch", base_claims(k2=pack_number(n[:15] + "4" + n[16:])))
    add("number-year-2027", base_claims(k2=pack_number(n[:13] + "273000001")))
    # document type, commitment
    for v in (0, 1, 3, 23, 24, True, -1):
        add(f"doctype-{v}", base_claims(k4=v))
    for ln in (0, 23, 25):
        add(f"commitment-{ln}", base_claims(k5=bytes(ln)))
    add("commitment-text", base_claims(k5="0" * 24))
    # occupation and edition
    for v in (999999, 1000000, 8999999, 9000000, 6310103, 4040505):
        add(f"occupation-{v}", base_claims(k6=v))
    for v in (1998, 1999, 2015, 2021, 2022, 2023, 2999, 3000, True):
        add(f"edition-{v}", base_claims(k7=v))
    add("edition-2015-level-4", base_claims(k7=2015, k9=4, k2=pack_number(n[:15] + "4" + n[16:])))
    # level
    for v in (0, 1, 5, 6, True):
        num = n[:15] + str(v if isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 5 else 3) + n[16:]
        add(f"level-{v}", base_claims(k9=v, k2=pack_number(num)))
    # issue instant (version 2) and date (version 1)
    for label, v in (
        ("0", 0),
        ("max", 2**32 - 1),
        ("over", 2**32),
        ("negative", -1),
        ("bool", True),
        ("text", "2026-11-29"),
    ):
        add(f"instant-{label}", base_claims(k10=v))
    add(
        "instant-future-same-china-day",
        base_claims(k10=int(china(2026, 11, 30, 23, 59, 59).timestamp())),
        at=datetime(2026, 11, 30, 0, 0, 0, tzinfo=UTC),
    )
    add(
        "instant-next-china-day",
        base_claims(k10=int(china(2026, 12, 1).timestamp())),
        at=datetime(2026, 11, 30, 15, 59, 59, tzinfo=UTC),
    )
    add(
        "instant-next-china-day-at",
        base_claims(k10=int(china(2026, 12, 1).timestamp())),
        at=datetime(2026, 11, 30, 16, 0, 0, tzinfo=UTC),
    )
    add(
        "instant-new-year-china",
        base_claims(k10=int(china(2027, 1, 1).timestamp()), k2=pack_number(n[:13] + "273000001")),
        at=datetime(2027, 1, 2, tzinfo=UTC),
    )
    add(
        "instant-new-year-utc-still-2026",
        base_claims(k10=int(china(2027, 1, 1).timestamp()), k2=pack_number(n[:13] + "263000001")),
        at=datetime(2027, 1, 2, tzinfo=UTC),
    )
    day = (datetime(2026, 11, 29) - datetime(1970, 1, 1)).days
    v1 = base_claims(k1=1, k10=day)
    add("v1-base", v1)
    for label, v in (("0", 0), ("100000", 100000), ("100001", 100001), ("seconds", T)):
        add(f"v1-date-{label}", {**v1, -10: v})
    add("v1-future", {**v1, -10: day + 2})
    add("v1-tomorrow-china", {**v1, -10: day + 1}, at=datetime(2026, 11, 29, 16, 0, 0, tzinfo=UTC))
    add("v1-tomorrow-china-1s-before", {**v1, -10: day + 1}, at=datetime(2026, 11, 29, 15, 59, 59, tzinfo=UTC))
    # keys
    add("extra-key--12", {**base_claims(), -12: 1})
    add("extra-key-1", {**base_claims(), 1: 1})
    add("extra-key-text", {**base_claims(), "x": 1})
    add("extra-key-0", {**base_claims(), 0: 1})
    add("not-a-map", cbor_encode([2, 3]))
    add("empty-map", cbor_encode({}))
    add("tagged-map", cbor_encode(Tag(61, base_claims())))
    # non-deterministic encodings of the base claims
    good = cbor_encode(base_claims())
    add("trailing-byte", good + b"\x00")
    add("indefinite-map", b"\xbf" + good[1:] + b"\xff")
    add("long-head-map", b"\xb8\x0a" + good[1:])
    add("keys-swapped", b"\xaa" + good[3:14] + b"\x20\x02" + good[14:])
    add("long-level", good.replace(b"\x28\x03", b"\x28\x18\x03"))
    add("duplicate-key", b"\xab" + good[1:] + b"\x28\x03")
    add("float-level", good.replace(b"\x28\x03", b"\x28\xf9\x42\x00"))
    add("half-float-version", b"\xaa\x20\xf9\x40\x00" + good[3:])
    # signature and kid
    add("signed-by-root", base_claims(), key=ROOT_KEY, kid=ROOT_KID)
    add("signed-by-log", base_claims(), key=LOG_KEY, kid=kid_of_raw(raw_public(LOG_KEY)))
    add("other-key-our-kid", base_claims(), key=OTHER_KEY, kid=ORG_KID)
    add("our-key-root-kid", base_claims(), key=ORG_KEY, kid=ROOT_KID)
    # check 10 edge and check 11 freshness for this organization's list
    for label, at in (
        ("list-max-age", LIST_AT + timedelta(seconds=259200)),
        ("list-max-age+1", LIST_AT + timedelta(seconds=259201)),
        ("before-list", LIST_AT - timedelta(days=300)),
        ("issue-china-day-start-1", china(2026, 11, 29) - timedelta(seconds=1)),
        ("issue-china-day-start", china(2026, 11, 29)),
    ):
        add(f"at-{label}", base_claims(), at=at)
        add(f"at-{label}-revoked", base_claims(k11=777), at=at)


def certificate_cases(out) -> None:
    """§5 and §8 checks 5–6: organization keys with every certificate profile and key status,
    in one trust list (a key set aside affects only itself)."""
    T = T0
    variants: dict[str, tuple] = {}

    def k(label):
        return _key(f"independent/cert/{label}")

    def add_variant(label, der, status="active", compromised_at=None, retired_at=None, key=None):
        variants[label] = (key or k(label), der, key_entry(der, status, compromised_at, retired_at))

    for label, kw in {
        "plain": {},
        "ca-true": {"ca": True},
        "no-basic-constraints": {"ca": None},
        "no-key-usage": {"ku": None},
        "key-usage-without-digital": {"ku": "other"},
        "org-id-other": {"org_ids": [ORG2]},
        "two-org-ids": {"org_ids": [ORG, ORG]},
        "no-org-id": {"org_ids": []},
        "issuer-other-name": {"issuer": x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")])},
        "signed-by-other-key": {"signer": OTHER_KEY},
        "from-T": {"not_before": T},
        "from-T+1": {"not_before": T + timedelta(seconds=1)},
        "until-T": {"not_after": T},
        "until-T-1": {"not_after": T - timedelta(seconds=1)},
        "from-china-day-end": {"not_before": china(2026, 11, 29, 23, 59, 59)},
        "until-china-day-start": {"not_after": china(2026, 11, 29)},
        "until-china-day-start-1": {"not_after": china(2026, 11, 29) - timedelta(seconds=1)},
        "noncritical-extra": {"extra_ext": (x509.SubjectKeyIdentifier(b"\x01" * 20), False)},
    }.items():
        args = {"not_before": NB, "not_after": NA, **kw}
        add_variant(label, make_cert(k(label).public_key(), ORG, **args))
    ec_key = ec.derive_private_key(12345, ec.SECP256R1())
    variants["ec-key"] = (None, make_cert(ec_key.public_key(), ORG, not_before=NB, not_after=NA), None)
    variants["ec-key"] = (None, variants["ec-key"][1], key_entry(variants["ec-key"][1]))
    for label, (st, ca, ra) in {
        "retired-at-T": ("retired", None, T),
        "retired-at-T+1": ("retired", None, T + timedelta(seconds=1)),
        "retired-null": ("retired", None, None),
        "active-with-retired-at-T": ("active", None, T),
        "compromised-at-T": ("compromised", T, None),
        "compromised-at-T+1": ("compromised", T + timedelta(seconds=1), None),
        "compromised-null": ("compromised", None, None),
        "active-with-compromised-at-T": ("active", T, None),
        "retired-with-compromised-at-T": ("retired", T, None),
        "compromised-day-after": ("compromised", china(2026, 11, 30), None),
        "retired-china-day-end": ("retired", None, china(2026, 11, 29, 23, 59, 59)),
        "retired-next-china-day": ("retired", None, china(2026, 11, 30)),
        "compromised-china-day-start": ("compromised", china(2026, 11, 29), None),
    }.items():
        der = make_cert(k(label).public_key(), ORG, not_before=NB, not_after=NA)
        add_variant(label, der, st, ca, ra)

    # certificates that do not parse, or parse only up to what the library reads lazily: the
    # credential's kid is that of the listed bytes (§5: such a key is set aside, unknown)
    def resign_tbs(der: bytes, old: bytes, new: bytes) -> bytes:
        tbs = x509.load_der_x509_certificate(der).tbs_certificate_bytes
        assert len(old) == len(new) and tbs.count(old) == 1, (old, new)
        tbs2 = tbs.replace(old, new)
        out = der.replace(tbs, tbs2)
        return out[:-64] + ROOT_KEY.sign(tbs2)

    base_der = make_cert(k("malformed").public_key(), ORG, not_before=NB, not_after=NA)
    cn = f"{ORG} 证书签名".encode()
    for label, der in {
        "der-garbage": b"\x30\x03\x02\x01\x01",
        "der-empty": b"",
        "der-trailing-byte": base_der + b"\0",
        "cn-invalid-utf8": resign_tbs(base_der, cn, b"\xff" + cn[1:]),
        "org-id-invalid-utf8": resign_tbs(base_der, b"\x0c\x0d" + ORG.encode(), b"\x0c\x0d\xff" + ORG.encode()[1:]),
        "org-id-printable-string": resign_tbs(base_der, b"\x0c\x0d" + ORG.encode(), b"\x13\x0d" + ORG.encode()),
        "org-id-bmp-tag": resign_tbs(base_der, b"\x0c\x0d" + ORG.encode(), b"\x1e\x0d" + ORG.encode()),
        "basic-constraints-malformed": resign_tbs(base_der, b"\x04\x02\x30\x00", b"\x04\x02\x31\x00"),
        "key-usage-malformed": resign_tbs(base_der, b"\x04\x04\x03\x02\x06\xc0", b"\x04\x04\x03\x02\x09\xc0"),
        "validity-malformed": resign_tbs(base_der, b"\x17\x0d" + b"250101000000Z", b"\x17\x0d" + b"251301000000Z"),
    }.items():
        variants[label] = (k("malformed"), der, key_entry(der))
    # the same certificate twice in one organization
    dup = make_cert(k("dup").public_key(), ORG, not_before=NB, not_after=NA)
    variants["dup-a"] = (k("dup"), dup, key_entry(dup))
    variants["dup-b"] = (k("dup"), dup, key_entry(dup))
    keys = [key_entry(ORG_CERT)] + [v[2] for v in variants.values()]
    tl = sign_trust_list(trust_payload([org_entry(ORG, keys)]))
    sl = status_list(ORG)
    b = bundle(tl, [sl], manifest_bytes=manifest(tl, {ORG: sl}))
    day = (datetime(2026, 11, 29) - datetime(1970, 1, 1)).days
    for label, (key, der, _) in variants.items():
        kid = kid_of_raw(der)
        signer = key if key is not None else ORG_KEY
        out.append((f"cert/{label}/v2", "signed-certs", credential(base_claims(), signer, kid), b, AT))
        out.append((f"cert/{label}/v1", "signed-certs", credential(base_claims(k1=1, k10=day), signer, kid), b, AT))
        out.append(
            (
                f"cert/{label}/v2-next-day",
                "signed-certs",
                credential(base_claims(k10=int(china(2026, 11, 30, 8).timestamp())), signer, kid),
                b,
                datetime(2026, 12, 1, tzinfo=UTC),
            )
        )


def lifecycle_cases(out) -> None:
    """§8 checks 7–8 with status histories and scopes of our own, v2 and v1 trust lists."""
    E = china(2026, 11, 29, 9, 37)
    histories = {
        "suspended-after": [("active", china(2025, 1, 1)), ("suspended", E)],
        "cancelled-after": [("active", china(2025, 1, 1)), ("cancelled", E)],
        "reactivated": [("active", china(2025, 1, 1)), ("suspended", china(2026, 6, 1)), ("active", E)],
        "same-since-active-last": [("suspended", E), ("active", E)],
        "same-since-suspended-last": [("active", E), ("suspended", E)],
        "unsorted": [("active", E), ("suspended", china(2026, 6, 1))],
        "unsorted-2": [("suspended", E), ("active", china(2025, 1, 1))],
        "none": [],
        "only-suspended": [("suspended", china(2025, 1, 1))],
        "starts-later": [("active", E)],
    }
    scopes = {
        "from-E": [scope(start=E)],
        "until-E": [scope(end=E)],
        "from-E-until-E": [scope(start=E, end=E)],
        "until-day-end": [scope(end=china(2026, 11, 30))],
        "from-next-day": [scope(start=china(2026, 11, 30))],
        "from-day-start": [scope(start=china(2026, 11, 29))],
        "levels-unsorted": [scope(levels=(3, 5))],
        "levels-empty": [scope(levels=())],
        "two-entries-one-open": [scope(end=china(2026, 1, 1)), scope(start=china(2026, 1, 1))],
        "worktype-required": [scope(work_types=("维修电工",))],
        "worktype-other": [scope(work_types=("电工",))],
        "edition-2015-only": [scope(edition=2015)],
        "other-occupation": [scope(occ="6-31-01-02")],
    }
    registrations = {
        "until-yesterday": ("2025-01-01", "2026-11-28"),
        "until-today": ("2025-01-01", "2026-11-29"),
        "from-today": ("2026-11-29", None),
        "from-tomorrow": ("2026-11-30", None),
        "open": ("2025-01-01", None),
    }
    orgs, creds = [], []
    i = 100
    for kind, table in (("status", histories), ("scope", scopes), ("registration", registrations)):
        for label, val in table.items():
            i += 1
            code = f"Y0099{46}{i:06d}"
            key = _key(f"independent/life/{code}")
            der = make_cert(key.public_key(), code, not_before=NB, not_after=NA)
            kw = {}
            if kind == "status":
                kw["status"] = [{"status": s, "since": instant(t)} for s, t in val]
            elif kind == "scope":
                kw["scopes"] = val
            else:
                kw["registered_from"], kw["registered_until"] = val
            orgs.append(org_entry(code, [key_entry(der)], **kw))
            creds.append((f"{kind}-{label}", code, key, kid_of_raw(der)))
    lists = [status_list(code, key=ROOT_KEY, kid=ROOT_KID) for _, code, _, _ in creds]
    for version in (2, 1):

        def to_v1(p):
            p["version"] = 1
            for o in p["organizations"]:
                for s in o["status"]:
                    s["since"] = ind.china_date(ind.parse_instant(s["since"])).isoformat()
                for e in o["scope"]:
                    if e["from"] is not None:
                        e["from"] = ind.china_date(ind.parse_instant(e["from"])).isoformat()
                    if e["until"] is not None:
                        e["until"] = (ind.china_date(ind.parse_instant(e["until"])) - timedelta(days=1)).isoformat()

        tl = sign_trust_list(trust_payload(orgs, mutate=to_v1 if version == 1 else None))
        b = bundle(tl, lists)
        day = (datetime(2026, 11, 29) - datetime(1970, 1, 1)).days
        for label, code, key, kid in creds:
            num = code + "263000001"
            for when, t in (
                ("E-1", E - timedelta(seconds=1)),
                ("E", E),
                ("E+1", E + timedelta(seconds=1)),
                ("next-day", china(2026, 11, 30, 8)),
                ("day-before", china(2026, 11, 28, 20)),
            ):
                c = base_claims(k2=pack_number(num), k10=int(t.timestamp()))
                out.append(
                    (
                        f"life/tl{version}/{label}/{when}",
                        "signed-lifecycle",
                        credential(c, key, kid),
                        b,
                        AT + timedelta(days=1),
                    )
                )
            c1 = base_claims(k1=1, k2=pack_number(num), k10=day)
            out.append((f"life/tl{version}/{label}/v1-credential", "signed-lifecycle", credential(c1, key, kid), b, AT))


def trust_list_cases(out) -> None:
    """§6 and §7: trust lists re-signed by the root with an organization entry, a key or the
    envelope made unreadable; the vectors and a credential of our own are verified against them."""
    texts = _vector_texts()
    mine = credential(base_claims())
    ours = org_entry(ORG, [key_entry(ORG_CERT)])
    sl_ours = status_list(ORG)
    lists = [base64.b64decode(s) for s in MAIN["status_lists"]] + [sl_ours]

    def org_mut(code, f):
        def m(p):
            for idx, o in enumerate(p["organizations"]):
                if isinstance(o, dict) and o.get("code") == code:
                    r = f(o)
                    if r is not None:
                        p["organizations"][idx] = r

        return m

    codes = ["Y000123000001", "S000012000006", "Y000015000009", "S000013000007", ORG]
    variants = {}
    for code in codes:
        variants[f"org-{code}-integer"] = org_mut(code, lambda o: 7)
        variants[f"org-{code}-no-name"] = org_mut(code, lambda o: o.pop("name"))
    mutations = {
        "no-name": lambda o: o.pop("name"),
        "name-integer": lambda o: o.update(name=3),
        "code-12": lambda o: o.update(code=o["code"][:12]),
        "status-paused": lambda o: o["status"].append({"status": "paused", "since": "2026-01-01T00:00:00Z"}),
        "since-date": lambda o: o["status"][0].update(since="2025-01-01"),
        "since-fraction": lambda o: o["status"][0].update(since="2025-01-01T00:00:00.5Z"),
        "since-offset": lambda o: o["status"][0].update(since="2025-01-01T08:00:00+08:00"),
        "since-feb-30": lambda o: o["status"][0].update(since="2025-02-30T00:00:00Z"),
        "registered-from-instant": lambda o: o.update(registered_from="2025-01-01T00:00:00Z"),
        "registered-until-missing": lambda o: o.pop("registered_until"),
        "registered-until-null": lambda o: o.update(registered_until=None),
        "scope-level-6": lambda o: o["scope"][0].update(levels=[6, 5]),
        "scope-level-0": lambda o: o["scope"][0].update(levels=[5, 0]),
        "scope-level-bool": lambda o: o["scope"][0].update(levels=[True]),
        "scope-edition-text": lambda o: o["scope"][0].update(edition="2022"),
        "scope-from-date": lambda o: o["scope"][0].update(**{"from": "2025-01-01"}),
        "scope-no-until": lambda o: o["scope"][0].pop("until"),
        "scope-work-types-null": lambda o: o["scope"][0].update(work_types=None),
        "scope-work-type-int": lambda o: o["scope"][0].update(work_types=[1]),
        "scope-occupation-int": lambda o: o["scope"][0].update(occupation=6310103),
        "scope-not-array": lambda o: o.update(scope={}),
        "status-not-array": lambda o: o.update(status="active"),
        "keys-not-array": lambda o: o.update(keys={}),
        "keys-missing": lambda o: o.pop("keys"),
        "key-certificate-text": lambda o: o["keys"][0].update(certificate="x"),
        "key-certificate-missing": lambda o: o["keys"][0].pop("certificate"),
        "key-status-lost": lambda o: o["keys"][0].update(status="lost"),
        "key-compromised-at-date": lambda o: o["keys"][0].update(compromised_at="2026-10-01"),
        "key-retired-at-missing": lambda o: o["keys"][0].pop("retired_at"),
        "key-certificate-garbage": lambda o: o["keys"][0].update(certificate=b"\x30\x03\x02\x01\x01"),
        "key-certificate-empty": lambda o: o["keys"][0].update(certificate=b""),
        "key-certificate-root": lambda o: o["keys"][0].update(certificate=ROOT_DER),
        "key-certificate-truncated": lambda o: o["keys"][0].update(certificate=o["keys"][0]["certificate"][:-1]),
        "key-certificate-trailing": lambda o: o["keys"][0].update(certificate=o["keys"][0]["certificate"] + b"\0"),
        "key-extra-field": lambda o: o["keys"][0].update(note="x"),
        "org-extra-field": lambda o: o.update(note="x"),
        "key-listed-twice": lambda o: o["keys"].append(dict(o["keys"][0])),
        "key-entry-integer": lambda o: o["keys"].append(5),
        "second-key-garbage": lambda o: o["keys"].append(key_entry(b"garbage")),
        "org-text-keys-int": lambda o: o.update({1: 2}),
        "since-basic-format": lambda o: o["status"][0].update(since="20250101T000000Z"),
        "since-lower-z": lambda o: o["status"][0].update(since="2025-01-01t00:00:00z"),
        "since-space": lambda o: o["status"][0].update(since="2025-01-01 00:00:00Z"),
        "since-arabic-digits": lambda o: o["status"][0].update(since="٢٠٢٥-01-01T00:00:00Z"),
        "since-fullwidth-digits": lambda o: o["status"][0].update(since="２０２５-01-01T00:00:00Z"),
        "since-leap-second": lambda o: o["status"][0].update(since="2016-12-31T23:59:60Z"),
        "since-24h": lambda o: o["status"][0].update(since="2025-01-01T24:00:00Z"),
        "registered-from-basic": lambda o: o.update(registered_from="20250101"),
        "registered-from-week": lambda o: o.update(registered_from="2025-W01-3"),
        "registered-from-arabic": lambda o: o.update(registered_from="٢٠٢٥-01-01"),
        "registered-until-ordinal": lambda o: o.update(registered_until="2030-365"),
        "key-retired-at-basic": lambda o: o["keys"][0].update(retired_at="20300101T000000Z"),
        "scope-edition-bool": lambda o: o["scope"][0].update(edition=True),
        "scope-edition-negative": lambda o: o["scope"][0].update(edition=-2022),
        "scope-until-offset": lambda o: o["scope"][0].update(until="2030-01-01T00:00:00+00:00"),
        "status-since-null": lambda o: o["status"][0].update(since=None),
        "registered-from-null": lambda o: o.update(registered_from=None),
        "key-status-null": lambda o: o["keys"][0].update(status=None),
        "name-bytes": lambda o: o.update(name=b"x"),
        "code-bytes": lambda o: o.update(code=ORG.encode()),
    }
    on_vector_org = {
        "no-name",
        "since-date",
        "keys-not-array",
        "key-certificate-text",
        "key-certificate-garbage",
        "key-listed-twice",
        "second-key-garbage",
        "key-certificate-root",
    }
    for label, f in mutations.items():
        variants[f"ours-{label}"] = org_mut(ORG, f)
        if label in on_vector_org:
            variants[f"Y000123000001-{label}"] = org_mut("Y000123000001", f)

    def env(f):
        return f

    variants.update(
        {
            "env-extra-key": env(lambda p: p.update(note="x")),
            "env-no-catalogue": env(lambda p: p.pop("catalogue")),
            "env-catalogue-no-edition": env(lambda p: p["catalogue"].pop("edition")),
            "env-catalogue-occupations-list": env(lambda p: p["catalogue"].update(occupations=[])),
            "env-version-3": env(lambda p: p.update(version=3)),
            "env-version-1-with-instants": env(lambda p: p.update(version=1)),
            "env-sequence-negative": env(lambda p: p.update(sequence=-1)),
            "env-sequence-bool": env(lambda p: p.update(sequence=True)),
            "env-version-bool": env(lambda p: p.update(version=True)),
            "env-issued-at-basic": env(lambda p: p.update(issued_at="20261101T000000Z")),
            "env-catalogue-edition-bool": env(lambda p: p["catalogue"].update(edition=True)),
            "env-catalogue-edition-negative": env(lambda p: p["catalogue"].update(edition=-1)),
            "env-log-key-text": env(lambda p: p["logs"][-1].update(public_key=b64(raw_public(LOG_KEY)))),
            "env-logs-empty": env(lambda p: p.update(logs=[])),
            "env-logs-entry-int": env(lambda p: p["logs"].append(3)),
            "env-issued-at-date": env(lambda p: p.update(issued_at="2026-11-01")),
            "env-authority-int": env(lambda p: p.update(authority=1)),
            "env-organizations-map": env(lambda p: p.update(organizations={})),
            "env-organizations-empty": env(lambda p: p.update(organizations=[])),
            "env-logs-not-array": env(lambda p: p.update(logs={})),
            "env-logs-null": env(lambda p: p.update(logs=None)),
            "env-log-key-31": env(lambda p: p["logs"][-1].update(public_key=raw_public(LOG_KEY)[:31])),
            "env-log-no-name": env(lambda p: p["logs"][-1].pop("name")),
            "env-logs-removed": env(lambda p: p.pop("logs")),
            "env-orgs-unsorted": env(lambda p: p["organizations"].reverse()),
            "env-org-twice": env(lambda p: p["organizations"].append(p["organizations"][0])),
        }
    )
    named_all = {ind.cbor_strict(ind.parse_sign1(s).payload)["organization"]: s for s in lists}
    for label, mut in variants.items():
        # variants of our organization alone need no vector organization: a minimal list
        minimal = label.startswith("ours-")
        p = trust_payload([ours], mutate=mut, minimal=minimal)
        tl = sign_trust_list(p)
        these = [sl_ours] if minimal else lists
        named = {ORG: sl_ours} if minimal else named_all
        b = bundle(tl, these, manifest_bytes=manifest(tl, named))
        for name, text, at in texts:
            if not minimal or name in ("valid-typical", "unknown-key"):
                out.append((f"tl/{label}/{name}", "signed-trust-lists", text, b, at))
        out.append((f"tl/{label}/ours", "signed-trust-lists", mine, b, AT))
        out.append(
            (
                f"tl/{label}/ours-unknown-kid",
                "signed-trust-lists",
                credential(base_claims(), OTHER_KEY, kid_of_raw(raw_public(OTHER_KEY))),
                b,
                AT,
            )
        )
    # raw, non-deterministic payload encodings of a valid list
    good = cbor_encode(trust_payload([ours], minimal=False))
    for label, raw in (("trailing-byte", good + b"\0"), ("indefinite", b"\xbf" + good[1:] + b"\xff")):
        tl = sign_trust_list(None, raw=raw)
        b = bundle(tl, lists)
        out.append((f"tl/raw-{label}/ours", "signed-trust-lists", mine, b, AT))


def _gzip_header(flags=0, mtime=0, xfl=2, os_=3, extra=None, name=None, comment=None, hcrc=None):
    h = struct.pack("<BBBBIBB", 0x1F, 0x8B, 8, flags, mtime, xfl, os_)
    if extra is not None:
        h += struct.pack("<H", len(extra)) + extra
    if name is not None:
        h += name + b"\0"
    if comment is not None:
        h += comment + b"\0"
    if flags & 2:
        h += struct.pack("<H", (zlib.crc32(h) & 0xFFFF) if hcrc is None else hcrc)
    return h


def _raw_deflate(data: bytes, level=9) -> bytes:
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def status_list_cases(out) -> None:
    """§9: status lists of our organization of every shape, signed by its key or the root, with
    and without a manifest naming them; §7: manifests of every shape."""
    bits = 1 << 20
    zero = bytearray(bits // 8)
    zero[777 // 8] |= 0x80 >> (777 % 8)
    data = bytes(zero)
    trailer = struct.pack("<II", zlib.crc32(data), len(data))
    deflated = _raw_deflate(data)
    gz_variants = {
        "plain": gz(data),
        "fname-mtime": _gzip_header(8, 1790000000, name=b"status.bin") + deflated + trailer,
        "fextra": _gzip_header(4, extra=b"AB\x02\x00hi") + deflated + trailer,
        "fcomment": _gzip_header(16, comment=b"hello") + deflated + trailer,
        "ftext": _gzip_header(1) + deflated + trailer,
        "fhcrc-good": _gzip_header(2) + deflated + trailer,
        "fhcrc-bad": _gzip_header(2, hcrc=0x1234) + deflated + trailer,
        "all-flags": _gzip_header(31, extra=b"", name=b"n", comment=b"c") + deflated + trailer,
        "reserved-flag": _gzip_header(32) + deflated + trailer,
        "cm-7": b"\x1f\x8b\x07" + gz(data)[3:],
        "os-255-xfl-0": _gzip_header(0, xfl=0, os_=255) + deflated + trailer,
        "level-0": _gzip_header() + _raw_deflate(data, 0) + trailer,
        "level-1": _gzip_header() + _raw_deflate(data, 1) + trailer,
        "two-members": gz(data[:100]) + gz(data[100:]),
        "member-plus-empty-member": gz(data) + gz(b""),
        "trailing-zero": gz(data) + b"\0",
        "bad-crc": _gzip_header() + deflated + struct.pack("<II", zlib.crc32(data) ^ 1, len(data)),
        "bad-isize": _gzip_header() + deflated + struct.pack("<II", zlib.crc32(data), len(data) + 1),
        "no-trailer": _gzip_header() + deflated,
        "short-trailer": _gzip_header() + deflated + trailer[:4],
        "one-byte-more": gz(data + b"\0"),
        "one-byte-less": gz(data[:-1]),
        "zlib-not-gzip": zlib.compress(data, 9),
        "raw-deflate": deflated,
        "not-compressed": data,
        "empty": b"",
    }
    texts = {"ours": credential(base_claims()), "ours-777": credential(base_claims(k11=777))}
    tl = sign_trust_list(
        trust_payload([org_entry(ORG, [key_entry(ORG_CERT)]), org_entry(ORG2, [key_entry(ORG2_CERT)])])
    )
    tl_raw_v = tl

    def emit(label, lists, man="auto", at=AT, extra_texts=None, manifest_bytes=None):
        if man == "auto":
            named = {}
            for s in lists:
                with contextlib.suppress(Exception):
                    named.setdefault(ind.cbor_strict(ind.parse_sign1(s).payload)["organization"], s)
            mb = manifest(tl_raw_v, named)
        else:
            mb = manifest_bytes
        b = bundle(tl_raw_v, lists, manifest_bytes=mb)
        for tname, text in {**texts, **(extra_texts or {})}.items():
            out.append((f"sl/{label}/{tname}", "signed-status-lists", text, b, at))

    for label, comp in gz_variants.items():
        for signer in ("org", "root"):
            key, kid = (ORG_KEY, ORG_KID) if signer == "org" else (ROOT_KEY, ROOT_KID)
            s = status_list(ORG, set_bits=(777,), compressed=comp, key=key, kid=kid)
            emit(f"gzip-{label}-{signer}", [s])
            if signer == "org":
                emit(f"gzip-{label}-{signer}-no-manifest", [s], man=None)
    payload_variants = {
        "bits-0": lambda p: p.update(bits=0, list=gz(b"")),
        "bits-7": lambda p: p.update(bits=7, list=gz(b"\0")),
        "bits-8": lambda p: p.update(bits=8, list=gz(b"\0")),
        "bits-2^24": lambda p: p.update(bits=1 << 24, list=gz(bytes(1 << 21))),
        "bits-2^24+8": lambda p: p.update(bits=(1 << 24) + 8, list=gz(bytes((1 << 21) + 1))),
        "bits-text": lambda p: p.update(bits="1048576"),
        "max-age-0": lambda p: p.update(max_age=0),
        "max-age-1": lambda p: p.update(max_age=1),
        "max-age-30-days": lambda p: p.update(max_age=30 * 86400),
        "max-age-negative": lambda p: p.update(max_age=-1),
        "version-2": lambda p: p.update(version=2),
        "version-bool": lambda p: p.update(version=True),
        "extra-key": lambda p: p.update(note="x"),
        "no-max-age": lambda p: p.pop("max_age"),
        "issued-at-date": lambda p: p.update(issued_at="2026-11-29"),
        "issued-at-offset": lambda p: p.update(issued_at="2026-11-29T08:00:00+08:00"),
        "organization-other": lambda p: p.update(organization=ORG2),
        "organization-unknown": lambda p: p.update(organization="Y000000000000"),
        "organization-int": lambda p: p.update(organization=1),
        "list-text": lambda p: p.update(list="x"),
        "max-age-bool": lambda p: p.update(max_age=True),
        "issued-at-basic": lambda p: p.update(issued_at="20261129T000000Z"),
        "issued-at-arabic": lambda p: p.update(issued_at="٢٠٢٦-11-29T00:00:00Z"),
        "issued-at-lower": lambda p: p.update(issued_at="2026-11-29t00:00:00z"),
        "organization-bytes": lambda p: p.update(organization=ORG.encode()),
    }
    for label, f in payload_variants.items():
        for signer in ("org", "root"):
            key, kid = (ORG_KEY, ORG_KID) if signer == "org" else (ROOT_KEY, ROOT_KID)
            s = status_list(ORG, set_bits=(777,), key=key, kid=kid, payload_mutate=f)
            emit(f"payload-{label}-{signer}", [s], man=None)
            if label.startswith("max-age") or label.startswith("bits-8"):
                for dt in (1, 2, 7 * 86400, 7 * 86400 + 1, 30 * 86400):
                    emit(f"payload-{label}-{signer}-at+{dt}", [s], man=None, at=LIST_AT + timedelta(seconds=dt))
    # several lists of one organization
    old_revoked = status_list(ORG, set_bits=(777,), issued_at=LIST_AT - timedelta(hours=1))
    new_clear = status_list(ORG, issued_at=LIST_AT)
    same_a = status_list(ORG, set_bits=(777,), issued_at=LIST_AT, max_age=259199)
    same_b = status_list(ORG, issued_at=LIST_AT, max_age=259198)
    root_new = status_list(ORG, key=ROOT_KEY, kid=ROOT_KID, issued_at=LIST_AT + timedelta(hours=1))
    future = status_list(ORG, issued_at=AT + timedelta(days=30))
    for label, lists in {
        "old-revoked-then-new-clear": [old_revoked, new_clear],
        "new-clear-then-old-revoked": [new_clear, old_revoked],
        "same-instant-revoked-first": [same_a, same_b],
        "same-instant-clear-first": [same_b, same_a],
        "org-and-newer-root": [old_revoked, root_new],
        "future-list": [future],
        "future-and-old": [old_revoked, future],
        "bad-sig-and-good": [old_revoked[:-1] + bytes([old_revoked[-1] ^ 1]), new_clear],
    }.items():
        emit(f"many-{label}", lists, man=None)
        emit(f"many-{label}-manifest", lists)
    # who may sign
    org2_for_org = status_list(ORG, key=ORG2_KEY, kid=ORG2_KID)
    emit("signed-by-other-org-key", [org2_for_org], man=None)
    emit("signed-by-log-key", [status_list(ORG, key=LOG_KEY, kid=kid_of_raw(raw_public(LOG_KEY)))], man=None)
    emit(
        "root-list-outside-root-validity",
        [status_list(ORG, key=ROOT_KEY, kid=ROOT_KID, issued_at=datetime(2024, 12, 31, tzinfo=UTC))],
        man=None,
        at=datetime(2025, 1, 1, 12, tzinfo=UTC),
    )
    emit(
        "org-list-before-certificate",
        [status_list(ORG, issued_at=datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC), max_age=8 * 86400)],
        man=None,
        at=datetime(2025, 1, 2, tzinfo=UTC),
    )
    emit(
        "org-list-at-certificate-start",
        [status_list(ORG, issued_at=NB, max_age=8 * 86400)],
        man=None,
        at=datetime(2025, 1, 2, tzinfo=UTC),
    )
    # lists of keys retired, compromised, expired: one trust list per case
    R = datetime(2026, 11, 28, tzinfo=UTC)
    for label, entry in {
        "retired-before": key_entry(ORG_CERT, "retired", None, R),
        "retired-at": key_entry(ORG_CERT, "retired", None, LIST_AT),
        "retired-after": key_entry(ORG_CERT, "retired", None, LIST_AT + timedelta(seconds=1)),
        "compromised-at": key_entry(ORG_CERT, "compromised", LIST_AT, None),
        "compromised-after": key_entry(ORG_CERT, "compromised", LIST_AT + timedelta(seconds=1), None),
        "compromised-null": key_entry(ORG_CERT, "compromised", None, None),
        "active-with-retired-at": key_entry(ORG_CERT, "active", None, R),
        "active-with-compromised-at": key_entry(ORG_CERT, "active", R, None),
    }.items():
        tl2 = sign_trust_list(trust_payload([org_entry(ORG, [entry])]))
        s = status_list(ORG, set_bits=(777,))
        b = bundle(tl2, [s])
        early = credential(base_claims(k10=int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())))
        for tname, text in (
            ("ours-early", early),
            (
                "ours-early-777",
                credential(base_claims(k11=777, k10=int(datetime(2026, 11, 1, tzinfo=UTC).timestamp()))),
            ),
        ):
            out.append((f"sl/key-{label}/{tname}", "signed-status-lists", text, b, AT))
    # manifests
    s_org = status_list(ORG, set_bits=(777,))
    s_org2 = status_list(ORG2, key=ORG2_KEY, kid=ORG2_KID)
    texts2 = {"org2": credential(base_claims(k2=pack_number(ORG2 + "263000001")), ORG2_KEY, ORG2_KID)}
    man_variants = {
        "good": manifest(tl, {ORG: s_org, ORG2: s_org2}),
        "names-one": manifest(tl, {ORG: s_org}),
        "names-none": manifest(tl, {}),
        "names-other-digest": manifest(tl, {ORG: hashlib.sha256(b"x").digest() and s_org2, ORG2: s_org2}),
        "wrong-trust-list": manifest(base64.b64decode(MAIN["trust_list"]), {ORG: s_org, ORG2: s_org2}),
        "signed-by-root": manifest(tl, {ORG: s_org, ORG2: s_org2}, key=ROOT_KEY, kid=ROOT_KID),
        "signed-by-org": manifest(tl, {ORG: s_org, ORG2: s_org2}, key=ORG_KEY, kid=ORG_KID),
        "vector-log-kid-our-key": manifest(
            tl, {ORG: s_org, ORG2: s_org2}, kid=kid_of_raw(TL_PAYLOAD["logs"][0]["public_key"])
        ),
        "version-2": manifest(tl, {ORG: s_org, ORG2: s_org2}, mutate=lambda p: p.update(version=2)),
        "extra-key": manifest(tl, {ORG: s_org, ORG2: s_org2}, mutate=lambda p: p.update(note=1)),
        "no-tree-head-key": manifest(tl, {ORG: s_org, ORG2: s_org2}, mutate=lambda p: p.pop("tree_head")),
        "tree-head-digest-without-head": manifest(
            tl, {ORG: s_org, ORG2: s_org2}, mutate=lambda p: p.update(tree_head=bytes(32))
        ),
        "digest-31": manifest(
            tl, {ORG: s_org, ORG2: s_org2}, mutate=lambda p: p["status_lists"].update({ORG2: bytes(31)})
        ),
        "issued-at-date": manifest(tl, {ORG: s_org, ORG2: s_org2}, mutate=lambda p: p.update(issued_at="2026-11-29")),
        "status-lists-array": manifest(tl, {ORG: s_org, ORG2: s_org2}, mutate=lambda p: p.update(status_lists=[])),
        "issued-at-future": manifest(tl, {ORG: s_org, ORG2: s_org2}, issued_at=AT + timedelta(days=9)),
    }
    for label, mb in man_variants.items():
        emit(f"manifest-{label}", [s_org, s_org2], man=None, manifest_bytes=mb, extra_texts=texts2)
    # a manifest that decides: it names only the older list, which says revoked; set aside,
    # the newer list (clear) is kept instead
    decisive = {
        "names-old": None,
        "version-bool": lambda p: p.update(version=True),
        "version-2": lambda p: p.update(version=2),
        "issued-at-basic": lambda p: p.update(issued_at="20261129T000000Z"),
        "tree-head-false": lambda p: p.update(tree_head=False),
        "digest-text": lambda p: p.update(trust_list=p["trust_list"].hex()),
        "status-lists-bytes-key": lambda p: p.update(
            status_lists={k.encode(): v for k, v in p["status_lists"].items()}
        ),
    }
    for label, mut in decisive.items():
        mb = manifest(tl, {ORG: old_revoked}, mutate=mut)
        emit(f"decisive-manifest-{label}", [old_revoked, new_clear], man=None, manifest_bytes=mb)

    # tree heads signed by our log key
    def tree_head(mutate=None, key=None):
        p = {"version": 1, "tree_size": 3, "root_hash": bytes(32), "timestamp": instant(LIST_AT)}
        if mutate:
            mutate(p)
        key = key or LOG_KEY
        return sign1(cbor_encode(p), key, kid_of_raw(raw_public(key)))

    for label, th in {
        "good": tree_head(),
        "version-2": tree_head(lambda p: p.update(version=2)),
        "root-31": tree_head(lambda p: p.update(root_hash=bytes(31))),
        "other-key": tree_head(key=OTHER_KEY),
    }.items():
        for named in (True, False):
            mb = manifest(tl, {ORG: s_org, ORG2: s_org2}, tree_head=th if named else None)
            b = bundle(tl, [s_org, s_org2], manifest_bytes=mb, tree_head=th)
            for tname, text in texts.items():
                out.append(
                    (f"th/{label}/{'named' if named else 'unnamed'}/{tname}", "signed-status-lists", text, b, AT)
                )


def _nested(n: int, leaf, kind: str = "array"):
    for _ in range(n):
        leaf = [leaf] if kind == "array" else {"a": leaf}
    return leaf


def decided_cases(out) -> None:
    """Rules decided after the first comparison (NOTES.md, "Decided"): what a signed payload may
    hold (§2 rule 1: no float, no tag but the message's 18, no simple value but false, true and
    null, at most 16 levels), uint as CBOR major type 0 (no bignum), a status list's key
    attributed to its organization even when set aside, a certificate held by an entry set aside."""
    raw = ind.OpaqueKey  # encodes as the bytes it holds
    u64 = Tag(2, b"\x01" + bytes(8))  # 2**64 as a bignum
    kinds = {
        "float16": raw(b"\xf9\x3e\x00"),
        "float64": raw(b"\xfb\x3f\xf8" + bytes(6)),
        "tag-0": Tag(0, "2013-03-21T20:04:00Z"),
        "tag-1": Tag(1, 1363896240),
        "tag-2-bignum": u64,
        "tag-2-short": Tag(2, b"\x00\x01"),
        "tag-37-short": Tag(37, b"\x01\x02\x03"),
        "tag-100": Tag(100, 1),
        "tag-1000": Tag(1000, "x"),
        "tag-55799": Tag(55799, 1),
        "undefined": raw(b"\xf7"),
        "simple-16": raw(b"\xf0"),
        "simple-255": raw(b"\xf8\xff"),
        "false": False,
        "null": None,
        "uint64-max": 2**64 - 1,
        "nint64-min": -(2**64),
        "arrays-14": _nested(14, 1),
        "arrays-15": _nested(15, 1),
        "arrays-15-empty": _nested(14, []),
        "arrays-16-empty": _nested(15, []),
        "maps-14": _nested(14, 1, "map"),
        "maps-15": _nested(15, 1, "map"),
        "array-key": raw(b"\xa1\x82\x01\x02\x01"),
    }
    ours = org_entry(ORG, [key_entry(ORG_CERT)])
    sl_ours = status_list(ORG)
    mine = credential(base_claims())
    stranger = credential(base_claims(), OTHER_KEY, kid_of_raw(raw_public(OTHER_KEY)))

    def emit(label, mutate, lists=(sl_ours,), texts=None, with_manifest=True):
        tl = sign_trust_list(trust_payload([ours], mutate=mutate))
        named = {}
        for sl in lists:
            with contextlib.suppress(Exception):
                named.setdefault(ind.cbor_strict(ind.parse_sign1(sl).payload)["organization"], sl)
        b = bundle(tl, list(lists), manifest_bytes=manifest(tl, named) if with_manifest else None)
        for name, text in (texts or {"ours": mine, "ours-unknown-kid": stranger}).items():
            out.append((f"decided/{label}/{name}", "signed-trust-lists", text, b, AT))

    def first_org(f):
        return lambda p: f(p["organizations"][0])

    for kind, value in kinds.items():
        emit(f"env-note-{kind}", lambda p, v=value: p.update(note=v))
        emit(f"org-note-{kind}", first_org(lambda o, v=value: o.update(note=v)))
        emit(f"key-note-{kind}", first_org(lambda o, v=value: o["keys"][0].update(note=v)))
    emit("env-sequence-bignum", lambda p: p.update(sequence=u64))
    emit("env-sequence-uint64-max", lambda p: p.update(sequence=2**64 - 1))
    emit("env-version-bignum", lambda p: p.update(version=Tag(2, b"\x02")))
    emit("catalogue-edition-bignum", lambda p: p["catalogue"].update(edition=u64))
    emit("scope-edition-bignum", first_org(lambda o: o["scope"][0].update(edition=u64)))
    emit("scope-level-tag", first_org(lambda o: o["scope"][0].update(levels=[Tag(2, b"\x03")])))
    emit("logs-null", lambda p: p.update(logs=None))
    emit("logs-text", lambda p: p.update(logs="log"))
    # a certificate that an entry set aside holds, listed by a readable entry too
    aside = org_entry(ORG2, [key_entry(ORG_CERT)], status=[{"status": "dormant", "since": "2025-01-01T00:00:00Z"}])
    emit("certificate-also-in-entry-set-aside", lambda p: p["organizations"].append(deep_copy(aside)))
    # status lists: uint fields as bignums or beyond what a duration holds, a list signed by a
    # key set aside while another key of the organization is usable
    for label, mutate in {
        "max-age-bignum": lambda p: p.update(max_age=u64),
        "max-age-uint64-max": lambda p: p.update(max_age=2**64 - 1),
        "max-age-2^63": lambda p: p.update(max_age=2**63),
        "bits-bignum": lambda p: p.update(bits=u64),
        "version-bignum": lambda p: p.update(version=Tag(2, b"\x01")),
        "version-float": lambda p: p.update(version=raw(b"\xf9\x3c\x00")),
        "organization-tag": lambda p: p.update(organization=Tag(1000, ORG)),
        "note-undefined": lambda p: p.update(note=raw(b"\xf7")),
    }.items():
        for signer in ("org", "root"):
            key, kid = (ORG_KEY, ORG_KID) if signer == "org" else (ROOT_KEY, ROOT_KID)
            sl = status_list(ORG, set_bits=(777,), key=key, kid=kid, payload_mutate=mutate)
            emit(
                f"list-{label}-{signer}",
                None,
                lists=(sl,),
                with_manifest=False,
                texts={"ours": mine, "ours-777": credential(base_claims(k11=777))},
            )
    garbage = b"\x30\x03\x02\x01\x01"
    by_aside = status_list(ORG, key=OTHER_KEY, kid=kid_of_raw(garbage))
    with_aside_key = first_org(lambda o: o["keys"].append(key_entry(garbage)))
    emit("list-signed-by-a-key-set-aside", with_aside_key, lists=(by_aside,), with_manifest=False)
    emit(
        "list-signed-by-a-key-set-aside-and-a-good-one", with_aside_key, lists=(by_aside, sl_ours), with_manifest=False
    )
    dup = org_entry(ORG2, [key_entry(ORG_CERT)])
    emit(
        "list-of-a-kid-listed-twice",
        lambda p: p["organizations"].append(deep_copy(dup)),
        texts={"ours": mine, "org2": credential(base_claims(k2=pack_number(ORG2 + "263000001")))},
    )
    # a manifest whose fields are of kinds no signed map holds: set aside
    tl = sign_trust_list(trust_payload([ours]))
    old_revoked = status_list(ORG, set_bits=(777,), issued_at=LIST_AT - timedelta(hours=1))
    new_clear = status_list(ORG)
    for label, mutate in {
        "version-bignum": lambda p: p.update(version=Tag(2, b"\x01")),
        "version-float": lambda p: p.update(version=raw(b"\xf9\x3c\x00")),
        "tree-head-undefined": lambda p: p.update(tree_head=raw(b"\xf7")),
        "issued-at-tag-0": lambda p: p.update(issued_at=Tag(0, p["issued_at"])),
    }.items():
        mb = manifest(tl, {ORG: old_revoked}, mutate=mutate)
        b = bundle(tl, [old_revoked, new_clear], manifest_bytes=mb)
        out.append(
            (f"decided/manifest-{label}/ours-777", "signed-status-lists", credential(base_claims(k11=777)), b, AT)
        )


def signed_cases() -> list[tuple[str, str, str, bytes, datetime]]:
    if not root_matches():
        return []
    out: list = []
    claims_cases(out)
    certificate_cases(out)
    lifecycle_cases(out)
    trust_list_cases(out)
    status_list_cases(out)
    decided_cases(out)
    return out
