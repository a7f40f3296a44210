# ruff: noqa: SIM300 - comparisons are written in the order of FORMAT.md (D ≤ …, T < …)
"""An offline verifier written from docs/FORMAT.md alone (an independent implementation).

Nothing under ``issuer/`` is imported or was read to write it, except the two data files that
FORMAT.md names: ``issuer/core/data/unicode-14.0-category-c.txt`` (§3) and
``issuer/core/data/provinces.csv`` (§3). Only the standard library, ``cryptography`` and (not
even needed) ``cbor2`` are used: CBOR is decoded by a small strict decoder below and checked by
re-encoding it deterministically (RFC 8949 §4.2.1) and comparing the bytes.

Public function: ``verify(qr_text, bundle_json, at) -> dict`` with ``status``, ``failed_check``,
``reason``, ``checks``, ``credential``, ``organization`` and ``set_aside`` (what loading the
bundle set aside, §7). A bundle that cannot be used at all (§7 steps 1–3) gives
``{"status": "bundle_unusable", "failed_check": None, "reason": <why>}``: FORMAT.md has no verdict
for it (the command line exits 2).

Decisions taken where FORMAT.md leaves room are marked ``DECISION`` and listed in
``tests/independent/NOTES.md``.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import json
import re
import struct
import unicodedata
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.x509.oid import ExtensionOID, NameOID, SignatureAlgorithmOID

DATA = Path(__file__).resolve().parents[2] / "issuer" / "core" / "data"

CHECKS = (
    "decodable",
    "known_key",
    "signature",
    "claims",
    "certificate_chain",
    "key_status",
    "registration",
    "scope",
    "number",
    "issue_date",
    "status",
)

# --------------------------------------------------------------------------------------------
# Data files named by FORMAT.md
# --------------------------------------------------------------------------------------------


def _load_category_c() -> list[tuple[int, int]]:
    ranges = []
    for line in (DATA / "unicode-14.0-category-c.txt").read_text("utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        first, _, last = line.partition("..")
        ranges.append((int(first, 16), int(last or first, 16)))
    ranges.sort()
    return ranges


def _load_provinces() -> frozenset[str]:
    with (DATA / "provinces.csv").open(encoding="utf-8") as f:
        return frozenset(row["code"].strip() for row in csv.DictReader(f))


CATEGORY_C = _load_category_c()
_CAT_C_STARTS = [a for a, _ in CATEGORY_C]
PROVINCES = _load_provinces()


def _in_category_c(cp: int) -> bool:
    import bisect

    i = bisect.bisect_right(_CAT_C_STARTS, cp) - 1
    return i >= 0 and CATEGORY_C[i][0] <= cp <= CATEGORY_C[i][1]


# §1: exactly the 25 code points of the Unicode White_Space property.
WHITE_SPACE = frozenset(
    [*range(0x09, 0x0E), 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000]
)
assert len(WHITE_SPACE) == 25
_WS_CLASS = "".join(f"\\U{cp:08x}" for cp in sorted(WHITE_SPACE))
QR_RE = re.compile(f"HTTPS?://[^/{_WS_CLASS}]+/V/([^/?#{_WS_CLASS}]*)")
B32_RE = re.compile("[A-Z2-7]+")
B64_RE = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)?")
INSTANT_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

_ASCII_UPPER = {c: c - 32 for c in range(ord("a"), ord("z") + 1)}
CHINA = timedelta(hours=8)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
WEEK = 7 * 24 * 3600


class Invalid(ValueError):
    """Something does not decode."""


# --------------------------------------------------------------------------------------------
# Strict CBOR (§2 rule 1)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tag:
    tag: int
    value: Any


@dataclass(frozen=True)
class Simple:
    value: int


@dataclass(frozen=True)
class OpaqueKey:
    """A map key that is not an int, text or byte string (kept by its canonical encoding)."""

    encoded: bytes


MAX_DEPTH = 16


def _head(major: int, arg: int) -> bytes:
    if arg < 24:
        return bytes([major << 5 | arg])
    if arg < 1 << 8:
        return bytes([major << 5 | 24, arg])
    if arg < 1 << 16:
        return bytes([major << 5 | 25]) + arg.to_bytes(2, "big")
    if arg < 1 << 32:
        return bytes([major << 5 | 26]) + arg.to_bytes(4, "big")
    return bytes([major << 5 | 27]) + arg.to_bytes(8, "big")


def cbor_encode(v: Any) -> bytes:
    """Deterministic encoding (RFC 8949 §4.2.1): shortest forms, map keys bytewise sorted."""
    if v is False:
        return b"\xf4"
    if v is True:
        return b"\xf5"
    if v is None:
        return b"\xf6"
    if isinstance(v, int):
        return _head(0, v) if v >= 0 else _head(1, -1 - v)
    if isinstance(v, bytes):
        return _head(2, len(v)) + v
    if isinstance(v, str):
        b = v.encode("utf-8")
        return _head(3, len(b)) + b
    if isinstance(v, list):
        return _head(4, len(v)) + b"".join(cbor_encode(x) for x in v)
    if isinstance(v, dict):
        items = sorted((cbor_encode(k), cbor_encode(x)) for k, x in v.items())
        return _head(5, len(v)) + b"".join(k + x for k, x in items)
    if isinstance(v, Tag):
        return _head(6, v.tag) + cbor_encode(v.value)
    if isinstance(v, OpaqueKey):
        return v.encoded
    if isinstance(v, Simple):
        return bytes([0xE0 | v.value]) if v.value < 24 else bytes([0xF8, v.value])
    raise TypeError(type(v))


def _decode(data: bytes, pos: int, depth: int, tag: int | None = None) -> tuple[Any, int]:
    """Decode one item at ``pos``, refusing anything that deterministic encoding would not
    give back byte for byte: longer heads than needed, indefinite lengths, map keys not in
    strictly increasing bytewise order of their encodings (so no duplicates); and what this
    format never signs: floats, tags (but ``tag`` around the outermost item) and simple
    values other than false, true and null (FORMAT.md §2 rule 1)."""
    depth += 1
    if depth > MAX_DEPTH:  # every item counts: the outermost is level 1 (§2 rule 1)
        raise Invalid("CBOR: too deep")
    if pos >= len(data):
        raise Invalid("CBOR: truncated")
    ib = data[pos]
    pos += 1
    major, ai = ib >> 5, ib & 31
    if ai < 24:
        arg = ai
    elif ai <= 27:
        n = 1 << (ai - 24)
        if pos + n > len(data):
            raise Invalid("CBOR: truncated")
        arg = int.from_bytes(data[pos : pos + n], "big")
        pos += n
        if major != 7 and arg < (24 if n == 1 else 1 << (4 * n)):
            raise Invalid("CBOR: not the shortest head")
    else:
        raise Invalid("CBOR: indefinite length or reserved")
    if major == 0:
        return arg, pos
    if major == 1:
        return -1 - arg, pos
    if major in (2, 3):
        if pos + arg > len(data):
            raise Invalid("CBOR: truncated")
        raw = data[pos : pos + arg]
        pos += arg
        if major == 2:
            return bytes(raw), pos
        try:
            return raw.decode("utf-8"), pos
        except UnicodeDecodeError as e:
            raise Invalid("CBOR: invalid UTF-8") from e
    if major == 7:
        if ai >= 25:
            raise Invalid("CBOR: float")  # no floats (Conventions)
        if arg in (20, 21, 22):
            return (False, True, None)[arg - 20], pos
        raise Invalid("CBOR: a simple value other than false, true and null")
    # containers
    if major == 4:
        if arg > len(data) - pos:
            raise Invalid("CBOR: truncated")
        out = []
        for _ in range(arg):
            x, pos = _decode(data, pos, depth)
            out.append(x)
        return out, pos
    if major == 5:
        if arg > len(data) - pos:
            raise Invalid("CBOR: truncated")
        m: dict = {}
        previous = b""
        for _ in range(arg):
            start = pos
            k, pos = _decode(data, pos, depth)
            kenc = data[start:pos]
            if kenc <= previous:
                raise Invalid("CBOR: map keys not in deterministic order, or duplicated")
            previous = kenc
            if type(k) not in (int, str, bytes):
                k = OpaqueKey(bytes(kenc))
            x, pos = _decode(data, pos, depth)
            m[k] = x
        return m, pos
    # major 6
    if depth != 1 or arg != tag:
        raise Invalid("CBOR: a tag")
    x, pos = _decode(data, pos, depth)
    return Tag(arg, x), pos


def cbor_strict(data: bytes, *, tag: int | None = None) -> Any:
    """Decode one CBOR item that must be the deterministic encoding of its value (§2 rule 1);
    with ``tag``, the outermost item may be that tag (COSE_Sign1's 18), and no other tag is
    accepted anywhere.

    The decoder refuses every deviation as it reads; re-encoding the value and comparing the
    bytes is done as well (a cross-check of the decoder) for items up to 64 KiB.
    """
    data = bytes(data)
    v, pos = _decode(data, 0, 0, tag)
    if pos != len(data):
        raise Invalid("CBOR: trailing bytes")
    if len(data) <= 65536 and cbor_encode(v) != data:
        raise Invalid("CBOR: not deterministic")
    return v


def is_uint(v: Any) -> bool:
    return type(v) is int and v >= 0


# --------------------------------------------------------------------------------------------
# Times (Conventions, §6)
# --------------------------------------------------------------------------------------------


def parse_instant(v: Any) -> datetime:
    if type(v) is not str or not INSTANT_RE.fullmatch(v):
        raise Invalid(f"not an instant: {v!r}")
    try:
        return datetime.strptime(v, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError as e:
        raise Invalid(f"not an instant: {v!r}") from e


def parse_date(v: Any) -> date:
    if type(v) is not str or not DATE_RE.fullmatch(v):
        raise Invalid(f"not a date: {v!r}")
    try:
        return datetime.strptime(v, "%Y-%m-%d").date()
    except ValueError as e:
        raise Invalid(f"not a date: {v!r}") from e


def china_date(t: datetime) -> date:
    return (t.astimezone(UTC) + CHINA).date()


def china_midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC) - CHINA


def fmt_instant(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------------------------
# §1 QR text, §2 COSE_Sign1
# --------------------------------------------------------------------------------------------


def decode_qr_text(text: str) -> bytes:
    if type(text) is not str:
        raise Invalid("not text")
    if len(text) > 4312:  # DECISION: characters = code points
        raise Invalid("text too long")
    start, end = 0, len(text)
    while start < end and ord(text[start]) in WHITE_SPACE:
        start += 1
    while end > start and ord(text[end - 1]) in WHITE_SPACE:
        end -= 1
    text = text[start:end]
    text = text.translate(_ASCII_UPPER)  # a–z only: no other character is case-mapped
    m = QR_RE.fullmatch(text)
    payload = m.group(1) if m else text
    if not payload or not B32_RE.fullmatch(payload) or len(payload) % 8 in (1, 3, 6):
        raise Invalid("payload is not base32")
    raw = base64.b32decode(payload + "=" * (-len(payload) % 8))
    if base64.b32encode(raw).decode("ascii").rstrip("=") != payload:
        raise Invalid("non-zero unused bits")
    return raw


@dataclass
class Sign1:
    protected: bytes
    kid: bytes
    payload: bytes
    signature: bytes

    def sig_structure(self) -> bytes:
        return cbor_encode(["Signature1", self.protected, b"", self.payload])

    def verify_with(self, public_key: Ed25519PublicKey) -> bool:
        try:
            public_key.verify(self.signature, self.sig_structure())
            return True
        except InvalidSignature:
            return False


def parse_sign1(data: bytes) -> Sign1:
    msg = cbor_strict(data, tag=18)
    if not isinstance(msg, Tag) or msg.tag != 18:
        raise Invalid("not tag 18")
    arr = msg.value
    if not isinstance(arr, list) or len(arr) != 4:
        raise Invalid("not an array of 4")
    protected, unprotected, payload, signature = arr
    if type(protected) is not bytes or type(unprotected) is not dict or unprotected:
        raise Invalid("bad headers")
    if type(payload) is not bytes or type(signature) is not bytes or len(signature) != 64:
        raise Invalid("bad payload or signature")
    hdr = cbor_strict(protected)
    if type(hdr) is not dict or set(hdr) != {1, 4} or any(type(k) is not int for k in hdr):
        raise Invalid("protected header keys")
    if type(hdr[1]) is not int or hdr[1] != -8:
        raise Invalid("alg is not EdDSA")
    if type(hdr[4]) is not bytes or len(hdr[4]) != 8:
        raise Invalid("kid is not 8 bytes")
    return Sign1(protected, hdr[4], payload, signature)


def b64decode_strict(v: Any) -> bytes:
    if type(v) is not str or not B64_RE.fullmatch(v):
        raise Invalid("not standard base64 with padding")
    try:
        return base64.b64decode(v, validate=True)
    except (binascii.Error, ValueError) as e:
        raise Invalid("not base64") from e


def kid_of(der: bytes) -> bytes:
    return hashlib.sha256(der).digest()[:8]


# --------------------------------------------------------------------------------------------
# §3 Claims
# --------------------------------------------------------------------------------------------


def valid_text(s: Any) -> bool:
    if type(s) is not str or not 1 <= len(s) <= 64:
        return False
    if ord(s[0]) in WHITE_SPACE or ord(s[-1]) in WHITE_SPACE:
        return False
    if any(_in_category_c(ord(c)) for c in s):
        return False
    return unicodedata.normalize("NFC", s) == s


def unpack_number(b: bytes) -> str:
    v = int.from_bytes(b, "big")
    t, d = v % 2, v // 2
    if d >= 10**21:
        raise Invalid("number too large")
    number = ("Y", "S")[t] + f"{d:021d}"
    province, year, level, serial = number[5:7], number[13:15], number[15], number[16:22]
    if province not in PROVINCES or int(year) < 19 or not "1" <= level <= "5" or serial == "000000":
        raise Invalid("not a valid number")
    return number


@dataclass
class Claims:
    version: int
    number: str
    holder_name: str
    document_type: int
    document_commitment: bytes
    occupation: int
    edition: int
    work_type: str | None
    level: int
    issued_at: datetime | None  # T (version 2)
    issue_date: date  # D
    status_index: int | None
    method: int = 1  # claim -12 (version 3); 1 when omitted

    @property
    def occupation_code(self) -> str:
        s = str(self.occupation)
        return f"{s[0]}-{s[1:3]}-{s[3:5]}-{s[5:7]}"

    def json(self) -> dict:
        return {
            "version": self.version,
            "number": self.number,
            "holder_name": self.holder_name,
            "document_type": self.document_type,
            "document_commitment": self.document_commitment.hex(),
            "occupation": self.occupation_code,
            "occupation_edition": self.edition,
            "work_type": self.work_type,
            "level": self.level,
            "issue_date": self.issue_date.isoformat(),
            "issued_at": fmt_instant(self.issued_at) if self.issued_at else None,
            "status_index": self.status_index,
            "assessment_method": self.method,
        }


def decode_claims(payload: bytes) -> Claims:
    m = cbor_strict(payload)
    if type(m) is not dict:
        raise Invalid("claims are not a map")
    keys = set(m)
    # §3: version 3 is version 2 with claim -12 (the assessment method), required there and
    # allowed nowhere else.
    third = is_uint(m.get(-1)) and m.get(-1) == 3
    if not keys <= set(range(-12 if third else -11, 0)) or any(type(k) is not int for k in keys):
        raise Invalid("unknown claim key")
    if not {-1, -2, -3, -4, -5, -6, -9, -10, *((-12,) if third else ())} <= keys:
        raise Invalid("missing claim")
    version = m[-1]
    if not is_uint(version) or version not in (1, 2, 3):
        raise Invalid("version")
    if type(m[-2]) is not bytes or len(m[-2]) != 9:
        raise Invalid("number")
    number = unpack_number(m[-2])
    if not valid_text(m[-3]):
        raise Invalid("holder name")
    if not is_uint(m[-4]) or not 1 <= m[-4] <= 23:
        raise Invalid("document type")
    if type(m[-5]) is not bytes or len(m[-5]) != 24:
        raise Invalid("commitment")
    if not is_uint(m[-6]) or not 1000000 <= m[-6] <= 8999999:
        raise Invalid("occupation")
    edition = 2022
    if -7 in m:
        if not is_uint(m[-7]) or m[-7] == 2022 or not 1999 <= m[-7] <= 2999:
            raise Invalid("edition")
        edition = m[-7]
    work_type = None
    if -8 in m:
        if not valid_text(m[-8]) or m[-8] == "--":
            raise Invalid("work type")
        work_type = m[-8]
    if not is_uint(m[-9]) or not 1 <= m[-9] <= 5:
        raise Invalid("level")
    t = m[-10]
    if not is_uint(t):
        raise Invalid("issue instant")
    if version in (2, 3):
        if t > 2**32 - 1:
            raise Invalid("issue instant")
        issued_at = EPOCH + timedelta(seconds=t)
        issue_date = china_date(issued_at)
    else:
        if t > 100000:
            raise Invalid("issue date")
        issued_at = None
        issue_date = date(1970, 1, 1) + timedelta(days=t)
    index = None
    if -11 in m:
        if not is_uint(m[-11]) or m[-11] > 2**32 - 1:
            raise Invalid("status index")
        index = m[-11]
    method = 1
    if -12 in m:
        if not is_uint(m[-12]) or not 2 <= m[-12] <= 23:  # 1, the default, is never written
            raise Invalid("assessment method")
        method = m[-12]
    return Claims(
        version, number, m[-3], m[-4], m[-5], m[-6], edition, work_type, m[-9], issued_at, issue_date, index, method
    )


# --------------------------------------------------------------------------------------------
# §5 certificates
# --------------------------------------------------------------------------------------------


@dataclass
class Cert:
    der: bytes
    cert: x509.Certificate
    public_key: Ed25519PublicKey
    org_id: str | None
    subject_der: bytes
    issuer_der: bytes
    not_before: datetime
    not_after: datetime
    extensions: x509.Extensions
    by_root: dict = field(default_factory=dict)  # end_entity_by_root, per root (a cache)


def parse_cert(der: bytes, *, need_org_id: bool) -> Cert:
    """Parse everything a verifier relies on; any failure means the key is set aside (§5).

    DECISION: "fails to parse" includes names, validity and extensions that the certificate
    library parses lazily: all of them are read here.
    """
    try:
        cert = x509.load_der_x509_certificate(der)
        key = cert.public_key()
        subject = cert.subject
        issuer = cert.issuer
        subject_der = subject.public_bytes()
        issuer_der = issuer.public_bytes()
        nb, na = cert.not_valid_before_utc, cert.not_valid_after_utc
        exts = cert.extensions
        for _ in exts:
            pass
        org_ids = subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)
    except Exception as e:  # any parse failure sets the key aside
        raise Invalid(f"certificate does not parse: {e}") from e
    if not isinstance(key, Ed25519PublicKey):
        raise Invalid("not an Ed25519 key")
    org_id = None
    if need_org_id:
        if len(org_ids) != 1 or type(org_ids[0].value) is not str:
            raise Invalid("not exactly one organizationIdentifier")
        org_id = org_ids[0].value
    return Cert(der, cert, key, org_id, subject_der, issuer_der, nb, na, exts)


def end_entity_by_root(c: Cert, root: Cert) -> bool:
    """basicConstraints CA:FALSE, keyUsage digitalSignature, issued and signed by the root."""
    if root.der not in c.by_root:
        c.by_root[root.der] = _end_entity_by_root(c, root)
    return c.by_root[root.der]


def _end_entity_by_root(c: Cert, root: Cert) -> bool:
    try:
        bc = c.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).value
        ku = c.extensions.get_extension_for_oid(ExtensionOID.KEY_USAGE).value
    except x509.ExtensionNotFound:
        return False
    if bc.ca or not ku.digital_signature:
        return False
    if c.issuer_der != root.subject_der:
        return False
    if c.cert.signature_algorithm_oid != SignatureAlgorithmOID.ED25519:
        return False
    try:
        root.public_key.verify(c.cert.signature, c.cert.tbs_certificate_bytes)
    except InvalidSignature:
        return False
    return True


# --------------------------------------------------------------------------------------------
# §6 trust list
# --------------------------------------------------------------------------------------------


@dataclass
class Key:
    kid: bytes
    der: bytes
    org: Org
    status: str
    compromised_at: datetime | None
    retired_at: datetime | None
    cert: Cert | None = None  # None: set aside (§5)
    aside_reason: str = ""


@dataclass
class ScopeEntry:
    occupation: str
    edition: int
    levels: list[int]
    work_types: list[str]
    start: datetime | None  # inclusive
    end: datetime | None  # exclusive


@dataclass
class Org:
    code: str
    name: str
    registered_from: date
    registered_until: date | None
    status: list[tuple[str, datetime]]
    scope: list[ScopeEntry]
    keys: list[Key] = field(default_factory=list)


@dataclass
class Log:
    name: str
    kid: bytes
    public_key: Ed25519PublicKey


def _req(m: dict, k: str) -> Any:
    if k not in m:
        raise Invalid(f"missing {k}")
    return m[k]


def _text(v: Any, what: str) -> str:
    if type(v) is not str:
        raise Invalid(f"{what} is not text")
    return v


def _when(v: Any, version: int, *, end: bool = False) -> datetime:
    """An event: an instant (version 2) or a China date (version 1: 00:00 of it, or of the
    next day for an inclusive last day ``until``)."""
    if version == 2:
        return parse_instant(v)
    d = parse_date(v)
    return china_midnight(d + timedelta(days=1) if end else d)


def decode_org(m: Any, version: int) -> Org:
    if type(m) is not dict:
        raise Invalid("organization is not a map")
    # §6 "Decoding" lists what must hold; a 13-character code is not among them (the table
    # describes it). A wrong code makes check 5 fail (organizationIdentifier ≠ code).
    code = _text(_req(m, "code"), "code")
    name = _text(_req(m, "name"), "name")
    reg_from = parse_date(_req(m, "registered_from"))
    ru = _req(m, "registered_until")
    reg_until = None if ru is None else parse_date(ru)
    statuses = _req(m, "status")
    if type(statuses) is not list:
        raise Invalid("status is not an array")
    status = []
    for s in statuses:
        if type(s) is not dict or _req(s, "status") not in ("active", "suspended", "cancelled"):
            raise Invalid("status entry")
        status.append((s["status"], _when(_req(s, "since"), version)))
    scopes = _req(m, "scope")
    if type(scopes) is not list:
        raise Invalid("scope is not an array")
    scope = []
    for e in scopes:
        if type(e) is not dict:
            raise Invalid("scope entry")
        occ = _text(_req(e, "occupation"), "occupation")
        ed = _req(e, "edition")
        levels = _req(e, "levels")
        wts = _req(e, "work_types")
        if not is_uint(ed) or type(levels) is not list or type(wts) is not list:
            raise Invalid("scope entry")
        if any(not is_uint(lv) or not 1 <= lv <= 5 for lv in levels):
            raise Invalid("levels")
        if any(type(w) is not str for w in wts):
            raise Invalid("work types")
        f, u = _req(e, "from"), _req(e, "until")
        scope.append(
            ScopeEntry(
                occ,
                ed,
                levels,
                wts,
                None if f is None else _when(f, version),
                None if u is None else _when(u, version, end=True),
            )
        )
    keys = _req(m, "keys")
    if type(keys) is not list:
        raise Invalid("keys is not an array")
    org = Org(code, name, reg_from, reg_until, status, scope)
    for k in keys:
        if type(k) is not dict:
            raise Invalid("key entry")
        der = _req(k, "certificate")
        st = _req(k, "status")
        if type(der) is not bytes or st not in ("active", "retired", "compromised"):
            raise Invalid("key entry")
        ca, ra = _req(k, "compromised_at"), _req(k, "retired_at")
        org.keys.append(
            Key(
                kid_of(der),
                der,
                org,
                st,
                None if ca is None else parse_instant(ca),
                None if ra is None else parse_instant(ra),
            )
        )
    return org


def _readable_kids(m: Any) -> tuple[set[bytes], bool, str | None]:
    """Of an organization map set aside: the kids of whatever certificate byte strings it
    holds, whether every key's certificate could be read, and its code if readable."""
    kids: set[bytes] = set()
    complete = False
    code = None
    if type(m) is dict:
        if type(m.get("code")) is str:
            code = m["code"]
        keys = m.get("keys")
        if type(keys) is list:
            complete = True
            for k in keys:
                if type(k) is dict and type(k.get("certificate")) is bytes:
                    kids.add(kid_of(k["certificate"]))
                else:
                    complete = False
    return kids, complete, code


# --------------------------------------------------------------------------------------------
# §9 status lists
# --------------------------------------------------------------------------------------------


def gunzip_member(data: bytes, size: int) -> bytes:
    """One gzip member (RFC 1952) inflating to exactly ``size`` bytes, nothing after it."""
    if len(data) < 18 or data[0] != 0x1F or data[1] != 0x8B or data[2] != 8:
        raise Invalid("not a deflate gzip member")
    flg = data[3]
    if flg & 0xE0:
        raise Invalid("reserved gzip flags")
    pos = 10
    try:
        if flg & 4:  # FEXTRA
            (xlen,) = struct.unpack_from("<H", data, pos)
            pos += 2 + xlen
        if flg & 8:  # FNAME
            pos = data.index(b"\0", pos) + 1
        if flg & 16:  # FCOMMENT
            pos = data.index(b"\0", pos) + 1
        if flg & 2:  # FHCRC: DECISION: checked ("a valid gzip member")
            (hcrc,) = struct.unpack_from("<H", data, pos)
            if hcrc != zlib.crc32(data[:pos]) & 0xFFFF:
                raise Invalid("gzip header CRC")
            pos += 2
    except (struct.error, ValueError) as e:
        raise Invalid("truncated gzip header") from e
    if pos > len(data):
        raise Invalid("truncated gzip header")
    d = zlib.decompressobj(-15)
    try:
        out = d.decompress(data[pos:], size + 1)
    except zlib.error as e:
        raise Invalid("bad deflate stream") from e
    if len(out) != size or not d.eof:
        raise Invalid("list does not inflate to bits/8 bytes")
    trailer = d.unused_data
    if len(trailer) != 8:
        raise Invalid("gzip trailer missing or data after the member")
    crc, isize = struct.unpack("<II", trailer)
    if crc != zlib.crc32(out) or isize != size & 0xFFFFFFFF:
        raise Invalid("gzip CRC or length")
    return out


@dataclass
class StatusList:
    organization: str
    issued_at: datetime
    max_age: int
    bits: int
    bitstring: bytes
    signer: str  # "organization" or "root"
    digest: bytes

    def current(self, at: datetime) -> bool:
        return at - self.issued_at <= timedelta(seconds=min(self.max_age, WEEK))

    def bit(self, i: int) -> int:
        return (self.bitstring[i // 8] >> (7 - i % 8)) & 1


def decode_status_payload(payload: bytes) -> dict:
    m = cbor_strict(payload)
    if type(m) is not dict or set(m) != {"version", "organization", "issued_at", "max_age", "bits", "list"}:
        raise Invalid("status list keys")
    if not is_uint(m["version"]) or m["version"] != 1:
        raise Invalid("status list version")
    _text(m["organization"], "organization")
    issued_at = parse_instant(m["issued_at"])
    if not is_uint(m["max_age"]) or m["max_age"] == 0:
        raise Invalid("max_age")
    bits = m["bits"]
    if not is_uint(bits) or bits == 0 or bits % 8 or bits > 2**24:
        raise Invalid("bits")
    if type(m["list"]) is not bytes:
        raise Invalid("list")
    bitstring = gunzip_member(m["list"], bits // 8)
    return {
        "organization": m["organization"],
        "issued_at": issued_at,
        "max_age": m["max_age"],
        "bits": bits,
        "bitstring": bitstring,
    }


# --------------------------------------------------------------------------------------------
# §7 bundle
# --------------------------------------------------------------------------------------------


class BundleUnusable(Exception):
    pass


@dataclass
class Bundle:
    root: Cert
    root_kid: bytes
    trust_list_version: int
    orgs: list[Org]
    keys_by_kid: dict[bytes, list[Key]]
    aside_kids: set[bytes]  # kids of keys or organization entries set aside
    unreadable_unknown: bool  # an organization set aside without readable keys
    org_codes: set[str]  # codes of organizations (also of entries set aside, when readable)
    logs: list[Log]
    manifest: dict | None
    status_lists: dict[str, StatusList]
    lists_set_aside_for: set[str]  # organizations with a list set aside
    tree_head: dict | None
    set_aside: list[str]


def _check_sign1_with_logs(raw: bytes, logs: list[Log]) -> Sign1:
    msg = parse_sign1(raw)
    for log in logs:
        if log.kid == msg.kid and msg.verify_with(log.public_key):
            return msg
    raise Invalid("not signed by a log key of the trust list")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def load_bundle(bundle_json: bytes) -> Bundle:
    aside: list[str] = []
    # Step 1: UTF-8 JSON (RFC 8259: no NaN or Infinity); one leading BOM is ignored
    try:
        text = bytes(bundle_json).decode("utf-8")
        if text.startswith("\ufeff"):
            text = text[1:]
        doc = json.loads(text, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise BundleUnusable(f"not UTF-8 JSON: {e}") from e
    if type(doc) is not dict or doc.get("format") != "issuer-trust-bundle":
        raise BundleUnusable("format")
    version = doc.get("version")
    # A JSON number: 2.0 is the number 2 (as JSON Schema's enum [1, 2] of the published
    # schema compares it); true is not a number.
    if type(version) not in (int, float) or version not in (1, 2):
        raise BundleUnusable("version")
    version = int(version)
    # Step 2 (no pinned root: the bundle's own root is trusted)
    try:
        root_der = b64decode_strict(doc.get("root_certificate"))
        root = parse_cert(root_der, need_org_id=False)
    except Invalid as e:
        raise BundleUnusable(f"root certificate: {e}") from e
    root_kid = kid_of(root_der)
    # Step 3
    try:
        tl_raw = b64decode_strict(doc.get("trust_list"))
        tl = parse_sign1(tl_raw)
    except Invalid as e:
        raise BundleUnusable(f"trust list: {e}") from e
    if tl.kid != root_kid or not tl.verify_with(root.public_key):
        raise BundleUnusable("trust list not signed by the root")
    try:
        payload = cbor_strict(tl.payload)
        if type(payload) is not dict:
            raise Invalid("not a map")
        tlv = _req(payload, "version")
        if not is_uint(tlv) or tlv not in (1, 2):
            raise Invalid("version")
        _text(_req(payload, "authority"), "authority")
        parse_instant(_req(payload, "issued_at"))
        if not is_uint(_req(payload, "sequence")):
            raise Invalid("sequence")
        cat = _req(payload, "catalogue")
        if type(cat) is not dict or not is_uint(_req(cat, "edition")):
            raise Invalid("catalogue")
        occs = _req(cat, "occupations")
        if type(occs) is not dict or any(type(k) is not str or type(v) is not str for k, v in occs.items()):
            raise Invalid("catalogue occupations")
        orgs_raw = _req(payload, "organizations")
        if type(orgs_raw) is not list:
            raise Invalid("organizations")
    except Invalid as e:
        raise BundleUnusable(f"trust list payload: {e}") from e

    orgs: list[Org] = []
    aside_kids: set[bytes] = set()
    unreadable_unknown = False
    org_codes: set[str] = set()
    for i, om in enumerate(orgs_raw):
        try:
            org = decode_org(om, tlv)
        except Invalid as e:
            kids, complete, code = _readable_kids(om)
            aside_kids |= kids
            if code is not None:
                org_codes.add(code)
            if not complete:
                unreadable_unknown = True
            aside.append(f"organization entry {i} ({code}): {e}")
            continue
        orgs.append(org)
        org_codes.add(org.code)
    keys_by_kid: dict[bytes, list[Key]] = {}
    for org in orgs:
        for key in org.keys:
            keys_by_kid.setdefault(key.kid, []).append(key)
            try:
                key.cert = parse_cert(key.der, need_org_id=True)
            except Invalid as e:
                key.aside_reason = str(e)
                aside_kids.add(key.kid)
                aside.append(f"key {key.kid.hex()} of {org.code}: {e}")
    for kid, ks in keys_by_kid.items():
        if len(ks) > 1:
            aside_kids.add(kid)
            aside.append(f"kid {kid.hex()} listed {len(ks)} times")
    for kid in aside_kids:
        for k in keys_by_kid.get(kid, []):
            if k.cert is not None and not k.aside_reason:
                k.aside_reason = "kid set aside"

    logs: list[Log] = []
    logs_raw = payload.get("logs")
    if logs_raw is not None:
        if type(logs_raw) is not list:  # DECISION: unreadable logs array: no log accepted
            aside.append("logs is not an array")
            logs_raw = []
        for i, lm in enumerate(logs_raw):
            try:
                if type(lm) is not dict:
                    raise Invalid("not a map")
                name = _text(_req(lm, "name"), "name")
                pk = _req(lm, "public_key")
                if type(pk) is not bytes or len(pk) != 32:
                    raise Invalid("public_key")
                try:
                    pub = Ed25519PublicKey.from_public_bytes(pk)
                except ValueError as e:
                    raise Invalid("public key") from e
                logs.append(Log(name, hashlib.sha256(pk).digest()[:8], pub))
            except Invalid as e:
                aside.append(f"log {i}: {e}")

    manifest = None
    tree_head = None
    status_lists: dict[str, StatusList] = {}
    lists_aside_for: set[str] = set()
    if version == 2:
        # Step 4
        if doc.get("manifest") is not None:
            try:
                msg = _check_sign1_with_logs(b64decode_strict(doc["manifest"]), logs)
                mp = cbor_strict(msg.payload)
                if type(mp) is not dict or set(mp) != {
                    "version",
                    "issued_at",
                    "trust_list",
                    "tree_head",
                    "status_lists",
                }:
                    raise Invalid("manifest keys")
                if not is_uint(mp["version"]) or mp["version"] != 1:
                    raise Invalid("manifest version")
                parse_instant(mp["issued_at"])
                if type(mp["trust_list"]) is not bytes or len(mp["trust_list"]) != 32:
                    raise Invalid("manifest trust_list")
                th = mp["tree_head"]
                if th is not None and (type(th) is not bytes or len(th) != 32):
                    raise Invalid("manifest tree_head")
                sl = mp["status_lists"]
                if type(sl) is not dict or any(
                    type(k) is not str or type(v) is not bytes or len(v) != 32 for k, v in sl.items()
                ):
                    raise Invalid("manifest status_lists")
                if mp["trust_list"] != hashlib.sha256(tl_raw).digest():
                    raise Invalid("manifest names another trust list")
                manifest = mp
            except Invalid as e:
                aside.append(f"manifest: {e}")
        # Step 5
        lists = doc.get("status_lists")
        if type(lists) is not list:  # DECISION: not an array: no list is read
            aside.append("status_lists is not an array")
            lists = []
        root_ctx = (root, root_kid)
        for i, item in enumerate(lists):
            try:
                sl = _accept_status_list(item, keys_by_kid, aside_kids, org_codes, root_ctx, manifest, lists_aside_for)
            except Invalid as e:
                aside.append(f"status list {i}: {e}")
                continue
            old = status_lists.get(sl.organization)
            if old is None or sl.issued_at > old.issued_at:
                status_lists[sl.organization] = sl
        # Step 6
        if doc.get("tree_head") is not None:
            try:
                raw = b64decode_strict(doc["tree_head"])
                msg = _check_sign1_with_logs(raw, logs)
                tp = cbor_strict(msg.payload)
                if type(tp) is not dict or set(tp) != {"version", "tree_size", "root_hash", "timestamp"}:
                    raise Invalid("tree head keys")
                if (
                    not is_uint(tp["version"])
                    or tp["version"] != 1
                    or not is_uint(tp["tree_size"])
                    or type(tp["root_hash"]) is not bytes
                    or len(tp["root_hash"]) != 32
                ):
                    raise Invalid("tree head values")
                parse_instant(tp["timestamp"])
                if manifest is not None and manifest["tree_head"] != hashlib.sha256(raw).digest():
                    raise Invalid("manifest names another tree head")
                tree_head = tp
            except Invalid as e:
                aside.append(f"tree head: {e}")
    return Bundle(
        root,
        root_kid,
        tlv,
        orgs,
        keys_by_kid,
        aside_kids,
        unreadable_unknown,
        org_codes,
        logs,
        manifest,
        status_lists,
        lists_aside_for,
        tree_head,
        aside,
    )


def _accept_status_list(item, keys_by_kid, aside_kids, org_codes, root_ctx, manifest, lists_aside_for) -> StatusList:
    root, root_kid = root_ctx
    raw = b64decode_strict(item)
    msg = parse_sign1(raw)
    digest = hashlib.sha256(raw).digest()
    holders = keys_by_kid.get(msg.kid, [])
    # A list whose signing key is one of an organization's concerns that organization (§7).
    try:
        if msg.kid == root_kid:  # §9 "or it is signed by the root (kid of the root certificate)"
            holders = []
            if not msg.verify_with(root.public_key):
                raise Invalid("bad root signature")
            p = decode_status_payload(msg.payload)
            if p["organization"] not in org_codes:
                raise Invalid("covers no organization of the trust list")
            if not root.not_before <= p["issued_at"] <= root.not_after:
                raise Invalid("signed outside the root's validity")
            signer = "root"
        elif holders:
            if msg.kid in aside_kids or len(holders) != 1 or holders[0].cert is None:
                raise Invalid("signing key set aside")
            key = holders[0]
            if not msg.verify_with(key.cert.public_key):
                raise Invalid("bad signature")
            p = decode_status_payload(msg.payload)
            if p["organization"] != key.org.code:
                raise Invalid("covers another organization")
            if not end_entity_by_root(key.cert, root):
                raise Invalid("key certificate not the root's signing certificate")
            if not key.cert.not_before <= p["issued_at"] <= key.cert.not_after:
                raise Invalid("signed outside its certificate's validity")
            if key.status == "compromised" and (key.compromised_at is None or p["issued_at"] >= key.compromised_at):
                raise Invalid("signed by a compromised key")
            if key.retired_at is not None and p["issued_at"] >= key.retired_at:
                raise Invalid("signed by a retired key")
            signer = "organization"
        else:
            raise Invalid("unknown signer")
        if manifest is not None and manifest["status_lists"].get(p["organization"]) != digest:
            raise Invalid("not the list the manifest names")
    except Invalid:
        for k in holders:
            lists_aside_for.add(k.org.code)
        raise
    return StatusList(p["organization"], p["issued_at"], p["max_age"], p["bits"], p["bitstring"], signer, digest)


# --------------------------------------------------------------------------------------------
# §8 verification
# --------------------------------------------------------------------------------------------


class _Stop(Exception):
    def __init__(self, check: str, outcome: str, reason: str, detail: str = ""):
        self.check, self.outcome, self.reason, self.detail = check, outcome, reason, detail


def _verdict(checks_done: list[str], stop: _Stop | None, at: datetime, credential, org) -> dict:
    checks = []
    for name in CHECKS:
        if name in checks_done:
            checks.append({"name": name, "outcome": "passed", "reason": "", "detail": ""})
        elif stop is not None and name == stop.check:
            checks.append({"name": name, "outcome": stop.outcome, "reason": stop.reason, "detail": stop.detail})
        else:
            checks.append({"name": name, "outcome": "not_run", "reason": "", "detail": ""})
    if stop is None:
        status, failed, reason = "valid", None, None
    elif stop.outcome == "unknown":
        status, failed, reason = "unknown", None, stop.reason
    elif stop.check == "status":
        status, failed, reason = "revoked", "status", stop.reason
    else:
        status, failed, reason = "not_valid", stop.check, stop.reason
    return {
        "status": status,
        "failed_check": failed,
        "reason": reason,
        "at": at.isoformat(),
        "checks": checks,
        "credential": credential,
        "organization": org,
    }


def verify_loaded(qr_text: str, bundle: Bundle, at: datetime) -> dict:
    if at.tzinfo is None:  # §8: `at` is an instant; a time without an offset is refused
        raise ValueError("at must be an instant (with a UTC offset)")
    done: list[str] = []
    credential = None
    organization = None
    try:
        # 1 decodable
        try:
            msg = parse_sign1(decode_qr_text(qr_text))
        except Invalid as e:
            raise _Stop("decodable", "failed", "malformed", str(e)) from None
        done.append("decodable")
        # 2 known_key
        holders = bundle.keys_by_kid.get(msg.kid, [])
        if msg.kid in bundle.aside_kids:
            raise _Stop(
                "known_key",
                "unknown",
                "organization_unreadable",
                "the signer's organization entry or key was set aside",
            )
        if not holders:
            if bundle.unreadable_unknown:
                raise _Stop(
                    "known_key",
                    "unknown",
                    "organization_unreadable",
                    "an organization entry set aside has no readable keys",
                )
            raise _Stop("known_key", "failed", "unknown_key", msg.kid.hex())
        key = holders[0]
        org = key.org
        cert = key.cert
        assert cert is not None
        done.append("known_key")
        # 3 signature
        if not msg.verify_with(cert.public_key):
            raise _Stop("signature", "failed", "bad_signature")
        done.append("signature")
        organization = {"code": org.code, "name": org.name, "kid": msg.kid.hex()}
        # 4 claims
        try:
            c = decode_claims(msg.payload)
        except Invalid as e:
            raise _Stop("claims", "failed", "malformed_claims", str(e)) from None
        credential = c.json()
        done.append("claims")
        T, D = c.issued_at, c.issue_date

        def before_or_at(event: datetime) -> bool:
            """The event applies to the credential (it was issued at or after it)."""
            return T >= event if T is not None else D >= china_date(event)

        # 5 certificate_chain
        if not end_entity_by_root(cert, bundle.root) or cert.org_id != org.code:
            raise _Stop("certificate_chain", "failed", "not_certified")
        for cc in (bundle.root, cert):
            if T is not None:
                ok = cc.not_before <= T <= cc.not_after
            else:
                ok = china_date(cc.not_before) <= D <= china_date(cc.not_after)
            if not ok:
                raise _Stop("certificate_chain", "failed", "certificate_not_valid_then")
        done.append("certificate_chain")
        # 6 key_status
        if key.status == "compromised" and (key.compromised_at is None or before_or_at(key.compromised_at)):
            raise _Stop("key_status", "failed", "key_compromised")
        if key.retired_at is not None:
            retired = T >= key.retired_at if T is not None else D > china_date(key.retired_at)
            if retired:
                raise _Stop("key_status", "failed", "key_retired")
        done.append("key_status")
        # 7 registration
        if D < org.registered_from or (org.registered_until is not None and D > org.registered_until):
            raise _Stop("registration", "failed", "not_registered")
        in_force = None
        for st, since in org.status:
            if before_or_at(since) and (in_force is None or since >= in_force[1]):
                in_force = (st, since)
        if in_force is None:
            raise _Stop("registration", "failed", "not_registered")
        if in_force[0] != "active":
            raise _Stop("registration", "failed", f"organization_{in_force[0]}")
        done.append("registration")
        # 8 scope
        covered = False
        for e in org.scope:
            if e.occupation != c.occupation_code or e.edition != c.edition:
                continue
            if c.level not in e.levels:
                continue
            if e.work_types and c.work_type not in e.work_types:
                continue
            if e.start is not None and not before_or_at(e.start):
                continue
            if e.end is not None:
                if T is not None and not T < e.end:
                    continue
                if T is None and not D <= china_date(e.end - timedelta(seconds=1)):
                    continue
            covered = True
            break
        if not covered:
            raise _Stop("scope", "failed", "out_of_scope")
        done.append("scope")
        # 9 number
        if c.number[:13] != cert.org_id:
            raise _Stop("number", "failed", "number_not_of_signer")
        if 2000 + int(c.number[13:15]) != D.year:
            raise _Stop("number", "failed", "number_year_mismatch")
        if c.number[15] != str(c.level):
            raise _Stop("number", "failed", "number_level_mismatch")
        done.append("number")
        # 10 issue_date
        if D > china_date(at):
            raise _Stop("issue_date", "failed", "issued_in_future")
        done.append("issue_date")
        # 11 status
        sl = bundle.status_lists.get(org.code)
        if sl is None:
            reason = "status_list_unusable" if org.code in bundle.lists_set_aside_for else "status_unknown"
            raise _Stop("status", "unknown", reason, "no usable status list")
        if c.status_index is None or c.status_index >= sl.bits:
            raise _Stop("status", "unknown", "status_unknown", "no status-list index")
        if sl.bit(c.status_index):
            raise _Stop("status", "failed", "revoked")
        if not sl.current(at):
            raise _Stop("status", "unknown", "status_unknown", f"status unknown since {fmt_instant(sl.issued_at)}")
        done.append("status")
        stop = None
    except _Stop as s:
        stop = s
    v = _verdict(done, stop, at, credential, organization)
    v["set_aside"] = list(bundle.set_aside)
    return v


_CACHE: dict[bytes, Bundle | BundleUnusable] = {}


def load_bundle_cached(bundle_json: bytes) -> Bundle:
    h = hashlib.sha256(bundle_json).digest()
    if h not in _CACHE:
        if len(_CACHE) > 256:
            _CACHE.clear()
        try:
            _CACHE[h] = load_bundle(bundle_json)
        except BundleUnusable as e:
            _CACHE[h] = e
    b = _CACHE[h]
    if isinstance(b, BundleUnusable):
        raise b
    return b


def verify(qr_text: str, bundle_json: bytes, at: datetime) -> dict:
    try:
        bundle = load_bundle_cached(bytes(bundle_json))
    except BundleUnusable as e:
        return {
            "status": "bundle_unusable",
            "failed_check": None,
            "reason": str(e),
            "checks": [],
            "credential": None,
            "organization": None,
            "set_aside": [],
        }
    return verify_loaded(qr_text, bundle, at)
