"""The rules docs/FORMAT.md settled after the in-browser check was written, in the browser
(``issuer/static/offline.js``) against the reference: White_Space exactly around and inside
a QR text (§1), Unicode 14.0.0 category C for text claims whatever the browser's Unicode
(§3), two keys with one kid (§6), the bundle manifest (§7), any header of one gzip member
(§9), and a cached bundle that never goes back (§7, end of "Loading").

Verdicts must equal ``verify`` + ``explain`` (``offline_check.agree``); what a bundle sets
aside must equal ``trust.load_bundle``'s ``problems`` (part, organization, whether it is a
part the manifest does not bind, and the words); what the page refuses must be what
``issuer trust pull`` refuses, but for the log consistency proof, which the browser does not
ask for."""

from __future__ import annotations

import base64
import copy
import gzip
import json
import random
import struct
import zlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import ExtensionOID, NameOID

from issuer.cli.trust import refuse_going_back
from issuer.core import cbor, cose, pki, qrtext, statuslist, trust
from issuer.core.credential import encode_payload
from issuer.core.errors import TrustError
from issuer.core.manifest import Manifest
from issuer.core.transparency import TreeHead
from issuer.core.unicode import WHITE_SPACE
from tests import factories as f
from tests.browser.offline_check import AT, ORIGIN, ROOT, VECTORS, agree, agree_all, needs_browser, qr, read_manifest

pytestmark = needs_browser

CATEGORY_C = ROOT / "issuer" / "core" / "data" / "unicode-14.0-category-c.txt"
OTHER, OTHER_NAME = "S000044000002", "广东某某职业技能培训中心"


def _set_aside(page: Any, bundle: str) -> list[list[Any]]:
    """What the script sets aside in ``bundle``, which must be what the reference sets aside:
    ``[part, organization, unbound, message, message_zh]``, in the same order."""
    got: list[list[Any]] = page.evaluate(
        "async (text) => window.issuerOfflineVerify.setAside(JSON.parse(text))", bundle
    )
    store = trust.load_bundle(bundle)
    expected = [[p.part, p.organization, p.code == "invalid_manifest", p.message, p.message_zh] for p in store.problems]
    assert got == expected
    return got


def _parts(page: Any, bundle: str) -> list[tuple[str, str | None, bool]]:
    return [(part, organization, unbound) for part, organization, unbound, _, _ in _set_aside(page, bundle)]


# --- §1: White_Space exactly ----------------------------------------------------------------


NOT_WHITE_SPACE = "\x00\x1c\x1d\x1e\x1f\u180e\u200b\u2060\ufeff"
"""Stripped by some languages (Python's str.strip takes U+001C–001F, JavaScript's trim U+FEFF),
or once White_Space (U+180E until Unicode 6.3), or invisible: none is White_Space."""


def test_white_space_around_and_inside_a_qr_text_is_exactly_the_unicode_property(hook: Any) -> None:
    assert len(WHITE_SPACE) == 25
    bundle = (VECTORS / "bundle.json").read_text()
    text = next(v for v in read_manifest(VECTORS)["vectors"] if v["name"] == "valid-typical")["qr_text"]
    host, payload = text.split("/V/")
    texts = []
    for c in WHITE_SPACE + NOT_WHITE_SPACE:
        texts += [c + text, text + c, c + c + text + c, host + c + "/V/" + payload, host + "/V/" + payload[:9] + c]
    results = agree_all(hook, texts, AT, bundle)
    verdicts = {t: (r["status"], r["failed_check"]) for t, r in zip(texts, results, strict=True)}
    for c in WHITE_SPACE:
        assert verdicts[c + text] == verdicts[text + c] == ("valid", None), hex(ord(c))
        assert verdicts[host + c + "/V/" + payload] == ("not_valid", "decodable"), hex(ord(c))
    for c in NOT_WHITE_SPACE:
        assert verdicts[c + text] == verdicts[text + c] == ("not_valid", "decodable"), hex(ord(c))
        assert verdicts[host + c + "/V/" + payload] == ("valid", None), hex(ord(c))  # the host is not checked


# --- §3: Unicode 14.0.0 category C ----------------------------------------------------------


def _published_ranges() -> list[list[int]]:
    ranges = []
    for line in CATEGORY_C.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            first, last = line.split("..")
            ranges.append([int(first, 16), int(last, 16)])
    return ranges


def test_the_embedded_category_c_table_is_the_published_one(hook: Any) -> None:
    ranges = _published_ranges()
    assert len(ranges) == 701
    assert hook.evaluate("window.issuerOfflineVerify.categoryC()") == ranges


def test_text_claims_are_judged_by_unicode_14_whatever_the_browser_knows(hook: Any) -> None:
    """A name or 工种 with the code point at either end of every range, and either side of it:
    the reference's verdict for each, in the browser's words."""
    auth = f.authority()
    signer = f.org_signer(auth)
    bundle = f.bundle_json(auth, f.trust_list([f.organization([signer])]), [f.status_list(signer)])
    boundaries = {c for first, last in _published_ranges() for c in (first - 1, first, last, last + 1)}
    points = sorted((boundaries | {0x30000, 0x31350, 0x1F6DC, 0x1FAE8}) - {-1, 0x110000, *range(0xD800, 0xE000)})
    claims = f.credential().claims()
    texts = [qr(signer, cbor.encode({**claims, -3: "张" + chr(c)})) for c in points]
    texts += [qr(signer, cbor.encode({**claims, -8: "电工" + chr(c)})) for c in (0x30000, 0x31350, 0x1F6DC, 0xE000)]
    # this browser knows a later Unicode: its own \p{C} would let U+31350 through
    assert hook.evaluate("/\\p{C}/u.test(String.fromCodePoint(0x31350))") is False
    results = agree_all(hook, texts, AT, bundle)
    by_point = dict(zip(points, results, strict=False))
    assert by_point[0x30000]["status"] == "valid"  # CJK Extension G, Unicode 13.0
    for unassigned_in_14 in (0x31350, 0x1F6DC, 0x1FAE8):  # CJK Extension H, wireless, goose: Unicode 15.0
        assert (by_point[unassigned_in_14]["failed_check"], by_point[unassigned_in_14]["reason"]) == (
            "claims",
            "malformed_claims",
        )
    assert [r["status"] for r in results[-4:]] == ["valid", "not_valid", "not_valid", "not_valid"]
    assert {r["status"] for r in results} == {"valid", "not_valid"}


# --- §6: two keys with one kid ----------------------------------------------------------------


def test_two_keys_with_one_kid_are_both_set_aside_and_nothing_else(hook: Any) -> None:
    auth = f.authority()
    twice = f.org_signer(auth)
    shared = f.org_signer(auth, code=OTHER, name=OTHER_NAME, seed="shared")
    own = f.org_signer(auth, code=OTHER, name=OTHER_NAME, seed="own")
    third = f.org_signer(auth, code="Y000031000003", name="上海某某汽车维修有限公司", seed="third")
    orgs = [
        f.organization([twice, twice]),  # one certificate listed twice by one organization
        f.organization([shared, own], code=OTHER),
        f.organization([shared, third], code=third.org_code),  # and one listed by two
    ]
    lists = [f.status_list(twice), f.status_list(own), f.status_list(third)]
    bundle = f.bundle_json(auth, f.trust_list(orgs), lists)
    assert _parts(hook, bundle) == [  # organizations in the order of their codes
        ("key", OTHER, False),
        ("key", f.ORG_CODE, False),
        ("status_list", f.ORG_CODE, False),  # signed by a key its organization lists (twice): §7, G15
        ("status_list", f.ORG_CODE, False),
    ]
    for signer, number, expected in (
        (twice, "Y000123000001263000001", ("unknown", "organization_unreadable")),
        (shared, OTHER + "263000001", ("unknown", "organization_unreadable")),
        (own, OTHER + "263000001", ("valid", None)),
        (third, third.org_code + "263000001", ("valid", None)),
    ):
        got = agree(hook, signer.qr_text(f.credential(number=number), f.HOST), AT, bundle)
        assert (got["status"], got["reason"]) == expected


# --- §9: any header of one gzip member -------------------------------------------------------


FTEXT, FHCRC, FEXTRA, FNAME, FCOMMENT = 1, 2, 4, 8, 16


def _gzip(
    data: bytes,
    flags: int = 0,
    *,
    mtime: int = 0,
    xfl: int = 2,
    os: int = 3,
    header_crc: int | None = None,
    crc: int | None = None,
    size: int | None = None,
) -> bytes:
    """One gzip member (RFC 1952) with the header fields ``flags`` names."""
    header = bytes([0x1F, 0x8B, 8, flags]) + struct.pack("<I", mtime) + bytes([xfl, os])
    if flags & FEXTRA:
        extra = b"AP" + struct.pack("<H", 4) + b"abcd"
        header += struct.pack("<H", len(extra)) + extra
    if flags & FNAME:
        header += b"status.bin\x00"
    if flags & FCOMMENT:
        header += "状态列表".encode() + b"\x00"
    if flags & FHCRC:
        header += struct.pack("<H", zlib.crc32(header) & 0xFFFF if header_crc is None else header_crc)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = deflate.compress(data) + deflate.flush()
    trailer = struct.pack("<II", zlib.crc32(data) if crc is None else crc, len(data) if size is None else size)
    return header + body + trailer


def _list_with(signer: Any, compressed: bytes, bits: int = 1 << 20) -> bytes:
    payload = {**statuslist.StatusList.of(signer.org_code, set(), f.STATUS_AT).to_payload(), "list": compressed}
    payload["bits"] = bits
    return cose.sign(cbor.encode(payload), signer.key, signer.kid)


def test_any_header_of_one_gzip_member_is_read_and_nothing_else(hook: Any) -> None:
    auth = f.authority()
    signer = f.org_signer(auth)
    tl = f.trust_list([f.organization([signer])])
    zeros = bytes(1 << 17)
    good = [
        _gzip(zeros),
        _gzip(zeros, FTEXT, mtime=1_795_000_000, xfl=4, os=255),
        _gzip(zeros, FNAME),
        _gzip(zeros, FCOMMENT),
        _gzip(zeros, FEXTRA),
        _gzip(zeros, FHCRC),
        _gzip(zeros, FTEXT | FHCRC | FEXTRA | FNAME | FCOMMENT, mtime=1),
        gzip.compress(zeros, 1),
    ]
    one = _gzip(zeros)
    bad = [
        _gzip(zeros, FHCRC, header_crc=0),
        _gzip(zeros, 32),  # a reserved flag
        _gzip(zeros, crc=0),
        _gzip(zeros, size=1 << 16),
        _gzip(zeros[:-1]),
        _gzip(zeros + b"\x00"),
        one + one,  # two members
        one + b"\x00",  # anything after the member
        one[:-4],  # no length
        one[:-8],  # no trailer
        one[:3] + b"\x00" + one[4:],  # FLG 0 but method 0
        b"\x1f\x8b\x07" + one[3:],  # method 7
        one[:40],
        b"",
        _gzip(bytes(1 << 18), crc=0),  # damaged after more than N/8 + 1 bytes came out: too long
        _gzip(zeros, crc=0) + one,
        one[:10] + b"\xff" * 20,
    ]
    rng = random.Random(20261130)
    for _ in range(30):  # damaged anywhere
        at = rng.randrange(len(one))
        bad.append(one[:at] + bytes([one[at] ^ (1 << rng.randrange(8))]) + one[at + 1 :])
    cred = f.credential()
    words = set()
    for compressed, expected in [(c, "valid") for c in good] + [(c, "unknown") for c in bad]:
        bundle = f.bundle_json(auth, tl, [_list_with(signer, compressed)])
        got = agree(hook, signer.qr_text(cred, f.HOST), AT, bundle)  # with the reference's words
        assert got["status"] in (expected, "valid"), (compressed[:16].hex(), got)  # a flip in MTIME is harmless
        words |= {message for _, _, _, message, _ in _set_aside(hook, bundle)}
    assert words == {
        "status list: the list is not gzip data",
        "status list: the list does not have the stated length",
    }


def test_the_vector_with_other_gzip_header_fields_is_read_by_decompression_stream(hook: Any) -> None:
    bundle = json.loads((VECTORS / "bundle.json").read_text())
    flags = []
    for value in bundle["status_lists"]:
        payload = cbor.decode_strict(cose.parse(base64.b64decode(value)).payload)
        flags.append(payload["list"][3])
    assert FNAME in flags  # the list of Y000014000008 names a file, and a time
    vector = next(v for v in read_manifest(VECTORS)["vectors"] if v["name"] == "list-with-other-gzip-header-fields")
    assert agree(hook, vector["qr_text"], vector["at"], json.dumps(bundle))["status"] == "valid"


# --- §7: the bundle manifest ---------------------------------------------------------------------


def _tree_head(key: Ed25519PrivateKey, log: trust.LogKey, size: int = 3, root: bytes = b"\x01" * 32) -> bytes:
    return TreeHead(size, root, datetime(2026, 11, 29, 1, tzinfo=UTC)).sign(key, log.kid).signed


def _manifest_of(
    key: Ed25519PrivateKey,
    log: trust.LogKey,
    signed_list: bytes,
    lists: dict[str, bytes],
    *,
    head: bytes | None = None,
    issued_at: datetime = f.STATUS_AT,
) -> bytes:
    return Manifest.of(issued_at, signed_list, head, lists).sign(key, log.kid)


def _bundle(
    auth: f.Authority,
    tl: trust.TrustList,
    lists: Iterable[bytes] = (),
    *,
    head: bytes | None = None,
    manifest: Any = None,
    version: int = 2,
) -> str:
    """A bundle of ``tl`` (signed by the root) and ``lists``; ``manifest`` is the signed
    manifest, or a function of the signed trust list that gives it."""
    signed = tl.sign(auth.key, auth.root)
    obj = trust.make_bundle(auth.root_der, signed, lists, head, manifest(signed) if callable(manifest) else manifest)
    obj["version"] = version
    return json.dumps(obj)


def _raw_manifest(key: Ed25519PrivateKey, log: trust.LogKey, payload: dict[str, Any]) -> bytes:
    return cose.sign(cbor.encode(payload), key, log.kid)


def test_the_manifest_keeps_only_the_status_lists_and_tree_head_it_names(hook: Any) -> None:
    auth = f.authority()
    signer = f.org_signer(auth)
    other = f.org_signer(auth, code=OTHER, name=OTHER_NAME, seed="other")
    key, log = f.log_key()
    stranger_key, stranger = f.log_key("not-the-log")
    tl = f.trust_list([f.organization([signer]), f.organization([other], code=OTHER)], logs=[log])
    before = f.status_list(signer, issued_at=f.STATUS_AT - timedelta(hours=1))  # before the revocation
    current = f.status_list(signer, [104729])
    others = f.status_list(other)
    by_root = f.root_status_list(auth, f.ORG_CODE, issued_at=f.STATUS_AT + timedelta(hours=1))
    head = _tree_head(key, log)
    names = {f.ORG_CODE: current, OTHER: others}

    def binding(lists: dict[str, bytes], tree_head: bytes | None = None, **more: Any) -> Any:
        return lambda signed: _manifest_of(key, log, signed, lists, head=tree_head, **more)

    def raw(change: dict[str, Any]) -> Any:
        def signed_manifest(signed: bytes) -> bytes:
            payload = Manifest.of(f.STATUS_AT, signed, None, names).to_payload()
            return _raw_manifest(key, log, {**payload, **change})

        return signed_manifest

    revoked = f.credential(number="Y000123000001263000031")
    other_cred = f.credential(number=OTHER + "263000001")
    cases: list[tuple[str, list[tuple[str, str | None, bool]], str]] = []

    def case(bundle: str, parts: list[tuple[str, str | None, bool]], status: str, others: str = "valid") -> None:
        assert _parts(hook, bundle) == parts
        got = agree(hook, signer.qr_text(revoked, f.HOST), AT, bundle)
        assert got["status"] == status, (parts, got)
        assert agree(hook, other.qr_text(other_cred, f.HOST), AT, bundle)["status"] == others
        cases.append((bundle, parts, status))

    listed = [current, others]
    case(_bundle(auth, tl, listed, manifest=binding(names)), [], "revoked")
    # the older list slipped in: set aside, the organization's status unusable, never valid
    unbound = ("status_list", f.ORG_CODE, True)
    case(_bundle(auth, tl, [before, others], manifest=binding(names)), [unbound], "unknown")
    case(_bundle(auth, tl, [before, current, others], manifest=binding(names)), [unbound], "revoked")
    # without a manifest, or with one that does not check out, nothing is bound: the older list speaks
    case(_bundle(auth, tl, [before, others]), [], "valid")
    not_bound: list[Any] = [
        lambda signed: _manifest_of(key, log, signed + b"x", names),  # another trust list
        lambda signed: _manifest_of(stranger_key, stranger, signed, names),  # not a log of the trust list
        lambda signed: _manifest_of(key, log, signed, names)[:-1] + b"\x00",  # its signature broken
        lambda signed: _manifest_of(key, log, signed, names)[1:],
        lambda signed: cose.sign(b"\xa0\xa0", key, log.kid),
        raw({"version": 2}),
        raw({"extra": 1}),
        raw({"issued_at": "2026-11-29 00:00:00Z"}),
        raw({"issued_at": 1}),
        raw({"trust_list": b"\x00" * 31}),
        raw({"tree_head": b"\x00" * 33}),
        raw({"status_lists": {f.ORG_CODE: b"\x00" * 32, OTHER: "not bytes"}}),
        raw({"status_lists": [1]}),
    ]
    for manifest in not_bound:
        case(_bundle(auth, tl, [before, others], manifest=manifest), [("manifest", None, True)], "valid")
    for value in ("not base64!", 1, []):
        bundle = json.loads(_bundle(auth, tl, [before, others]))
        case(json.dumps({**bundle, "manifest": value}), [("manifest", None, False)], "valid")
    case(json.dumps({**json.loads(_bundle(auth, tl, [before, others])), "manifest": None}), [], "valid")
    # a manifest in a version-1 bundle is not read (nor are its status lists)
    case(_bundle(auth, tl, [], manifest=binding(names), version=1), [], "unknown", "unknown")
    # an organization the manifest does not name at all
    case(_bundle(auth, tl, listed, manifest=binding({OTHER: others})), [unbound], "unknown")
    # a list the root signed, not named: it concerns no organization (status unknown, not unusable)
    bundle = _bundle(auth, tl, [by_root, others], manifest=binding({OTHER: others}))
    case(bundle, [("status_list", None, True)], "unknown")
    assert agree(hook, signer.qr_text(revoked, f.HOST), AT, bundle)["reason"] == "status_unknown"
    case(_bundle(auth, tl, [by_root, others], manifest=binding({f.ORG_CODE: by_root, OTHER: others})), [], "valid")
    # the tree head: kept when named, set aside when not, or when it does not check out
    case(_bundle(auth, tl, listed, head=head, manifest=binding(names, head)), [], "revoked")
    tree_head_unbound = ("tree_head", None, True)
    case(_bundle(auth, tl, listed, head=head, manifest=binding(names)), [tree_head_unbound], "revoked")
    other_head = _tree_head(key, log, 4)
    case(_bundle(auth, tl, listed, head=other_head, manifest=binding(names, head)), [tree_head_unbound], "revoked")
    case(_bundle(auth, tl, listed, manifest=binding(names, head)), [], "revoked")  # named, absent: nothing to check
    fields = {"version": 1, "tree_size": 3, "root_hash": b"\x01" * 32, "timestamp": "2026-11-29T01:00:00Z"}
    for broken in (
        _tree_head(stranger_key, stranger),
        head[:-1] + bytes([head[-1] ^ 1]),
        head[1:],
        *(
            cose.sign(cbor.encode({**fields, **change}), key, log.kid)
            for change in (
                {"root_hash": b"\x01" * 31},
                {"version": 2},
                {"tree_size": -1},
                {"tree_size": True},
                {"timestamp": 5},
                {"timestamp": "2026-11-29T01:00:00"},
                {"extra": 1},
            )
        ),
        cose.sign(cbor.encode({k: v for k, v in fields.items() if k != "timestamp"}), key, log.kid),
    ):
        bundle = _bundle(auth, tl, listed, head=broken, manifest=binding(names, broken))
        case(bundle, [("tree_head", None, False)], "revoked")
    # a log entry that cannot be read is set aside; the others still sign
    payload = tl.to_payload()
    payload["logs"] = [{"name": "broken", "public_key": b"\x00" * 31}, *payload["logs"]]
    signed = cose.sign(cbor.encode(payload), auth.key, pki.kid_of(auth.root_der))
    manifest = _manifest_of(key, log, signed, names)
    case(
        json.dumps(trust.make_bundle(auth.root_der, signed, [before, others], None, manifest)),
        [("log", None, False), unbound],
        "unknown",
    )
    assert len(cases) > 30


def test_the_rolled_back_vector_bundle_sets_aside_the_older_list(hook: Any) -> None:
    assert ("status_list", "Y000123000001", True) in _parts(hook, (VECTORS / "bundle-rolled-back.json").read_text())
    assert all(not unbound for _, _, unbound in _parts(hook, (VECTORS / "bundle.json").read_text()))


# --- §7: never going back ------------------------------------------------------------------------


def _reference_refuses(kept: str, fetched: str, tmp_path: Path) -> bool:
    """Whether ``issuer trust pull`` refuses ``fetched`` over the saved ``kept``."""
    path = tmp_path / "kept.json"
    path.write_text(kept)
    try:
        store = trust.load_bundle(fetched)
    except TrustError:
        return True
    if any(p.part == "tree_head" or p.code == "invalid_manifest" for p in store.problems):
        return True
    try:
        refuse_going_back(path, store, store.tree_head, ORIGIN)
    except SystemExit:
        return True
    return False


def test_a_cached_bundle_is_replaced_only_by_one_that_does_not_go_back(hook: Any, tmp_path: Path) -> None:
    auth = f.authority()
    signer = f.org_signer(auth)
    other = f.org_signer(auth, code=OTHER, name=OTHER_NAME, seed="other")
    key, log = f.log_key()
    orgs = [f.organization([signer]), f.organization([other], code=OTHER)]
    tl1, tl2 = f.trust_list(orgs, logs=[log]), f.trust_list(orgs, logs=[log], sequence=2)
    at = f.STATUS_AT
    a1, a2 = f.status_list(signer, issued_at=at), f.status_list(signer, [104729], issued_at=at + timedelta(hours=2))
    b1, b2 = f.status_list(other, issued_at=at), f.status_list(other, issued_at=at + timedelta(hours=2))
    head3, head4 = _tree_head(key, log, 3), _tree_head(key, log, 4, b"\x02" * 32)
    head3_forked = _tree_head(key, log, 3, b"\x03" * 32)

    def bundle(
        tl: trust.TrustList,
        lists: dict[str, bytes],
        *,
        head: bytes | None = None,
        issued: datetime | None = at + timedelta(hours=2),
        held: list[bytes] | None = None,
    ) -> str:
        manifest = None if issued is None else (lambda s: _manifest_of(key, log, s, lists, head=head, issued_at=issued))
        return _bundle(auth, tl, list(lists.values()) if held is None else held, head=head, manifest=manifest)

    kept = bundle(tl2, {f.ORG_CODE: a2, OTHER: b2}, head=head3)
    cases = [
        (kept, None),
        (bundle(tl2, {f.ORG_CODE: a2, OTHER: b2}, head=head3, issued=at + timedelta(hours=3)), None),
        (bundle(tl2, {f.ORG_CODE: a2}, head=head3), None),  # a list missing is not an older one
        (bundle(tl1, {f.ORG_CODE: a2, OTHER: b2}, head=head3), ["trust_list", None]),
        (bundle(tl2, {f.ORG_CODE: a2, OTHER: b2}, head=head3, issued=None), ["manifest", None]),
        (bundle(tl2, {f.ORG_CODE: a2, OTHER: b2}, head=head3, issued=at + timedelta(hours=1)), ["manifest", None]),
        (bundle(tl2, {f.ORG_CODE: a2, OTHER: b2}), ["no_tree_head", None]),
        (bundle(tl2, {f.ORG_CODE: a1, OTHER: b2}, head=head3), ["status_list", f.ORG_CODE]),
        (bundle(tl2, {f.ORG_CODE: a2, OTHER: b1}, head=head3), ["status_list", OTHER]),
        (bundle(tl2, {f.ORG_CODE: a2, OTHER: b2}, head=head3, held=[a1, a2, b2]), ["unbound", None]),
        (bundle(tl2, {f.ORG_CODE: a2, OTHER: b2}, head=head3_forked), ["log", None]),
        (bundle(tl2, {f.ORG_CODE: a2, OTHER: b2}, head=_tree_head(key, log, 2)), ["log", None]),
        (bundle(tl2, {f.ORG_CODE: a2, OTHER: b2}, head=_tree_head(f.log_key("x")[0], log)), ["tree_head", None]),
        (json.dumps({**json.loads(kept), "manifest": "AAAA"}), ["unbound", None]),
        ("{}", ["unusable", None]),
        (json.dumps({**json.loads(kept), "status_lists": None}), None),  # set aside, not unusable (§7 step 5)
    ]
    for fetched, expected in cases:
        got = hook.evaluate(
            "async ([kept, fetched]) => window.issuerOfflineVerify.goesBack(JSON.parse(kept), JSON.parse(fetched))",
            [kept, fetched],
        )
        assert got == expected
        assert _reference_refuses(kept, fetched, tmp_path) == (expected is not None), expected
    # nothing usable cached: anything replaces it
    for unusable in ("{}", json.dumps({**json.loads(kept), "trust_list": json.loads(kept)["manifest"]})):
        got = hook.evaluate(
            "async ([kept, fetched]) => window.issuerOfflineVerify.goesBack(JSON.parse(kept), JSON.parse(fetched))",
            [unusable, bundle(tl1, {f.ORG_CODE: a1}, issued=None)],
        )
        assert got is None
    # a longer log is taken; the reference also asks the service to prove that it extends the
    # cached one (a consistency proof), which the browser does not: it cannot reach one here
    longer = bundle(tl2, {f.ORG_CODE: a2, OTHER: b2}, head=head4)
    got = hook.evaluate(
        "async ([kept, fetched]) => window.issuerOfflineVerify.goesBack(JSON.parse(kept), JSON.parse(fetched))",
        [kept, longer],
    )
    assert got is None
    assert _reference_refuses(kept, longer, tmp_path)


# --- the rules decided last (FORMAT.md Conventions, §2 rule 1, §5–§7, §9; tests/independent/NOTES.md) ---


def _raw_bundle(auth: f.Authority, payload: bytes, lists: Iterable[bytes] = ()) -> str:
    """A bundle whose trust list payload is ``payload``, bytes as given, signed by the root."""
    signed = cose.sign(payload, auth.key, pki.kid_of(auth.root_der))
    return json.dumps(trust.make_bundle(auth.root_der, signed, list(lists)))


def _nested(levels: int) -> Any:
    value: Any = 0
    for _ in range(levels):
        value = [value]
    return value


def test_floats_tags_and_other_simple_values_are_refused_in_every_payload(hook: Any) -> None:
    """Conventions and §2 rule 1: no float, no tag but 18 around a whole message, no simple value
    but false, true and null, even under a key nobody reads; a level is any data item."""
    auth = f.authority()
    signer = f.org_signer(auth)
    payload = f.trust_list([f.organization([signer])]).to_payload()
    lists = [f.status_list(signer)]
    code = signer.qr_text(f.credential(), f.HOST)
    values: list[Any] = [
        1.5,
        1.0e300,
        cbor2.CBORTag(0, "2026-11-29T00:00:00Z"),
        cbor2.CBORTag(2, b"\x01"),
        cbor2.CBORTag(2, b"\x01" + bytes(8)),
        cbor2.CBORTag(18, []),
        cbor2.CBORTag(55799, 1),
        cbor2.undefined,
        cbor2.CBORSimpleValue(16),
        cbor2.CBORSimpleValue(255),
        _nested(14),  # the integer at level 16: read
        _nested(15),  # at level 17: not
        {"a": _nested(13)},
        {"a": _nested(14)},
        [None, True, False, -(2**64), 2**64 - 1],
    ]
    verdicts = []
    for value in values:
        bundle = _raw_bundle(auth, cbor2.dumps({**payload, "x": value}, canonical=True), lists)
        verdicts.append(agree(hook, code, AT, bundle)["reason"])
    assert verdicts == ["bundle_unusable"] * 10 + [None, "bundle_unusable", None, "bundle_unusable", None]

    bundle = f.bundle_json(auth, f.trust_list([f.organization([signer])]), lists)
    claims = f.credential().claims()
    changed = [
        {**claims, -8: cbor2.CBORTag(0, "维修电工")},
        {**claims, -11: 104729.0},
        {**claims, -11: cbor2.CBORTag(2, b"\x01\x99\x19")},
        {**claims, -8: cbor2.undefined},
        cbor2.CBORTag(18, claims),
    ]
    texts = [qr(signer, cbor2.dumps(c, canonical=True)) for c in changed]
    assert {r["failed_check"] for r in agree_all(hook, texts, AT, bundle)} == {"claims"}
    message = cose.sign(encode_payload(f.credential()), signer.key, signer.kid)
    assert message[2] == 0x4D and message[16] == 0xA0
    messages = [
        b"\xd2" + message,  # tag 18 twice
        b"\xd1" + message[1:],  # tag 17
        b"\xd2\x84\x4f\xa2\x01\x27\x04\xd8\x40\x48" + signer.kid + message[16:],  # a tag in the protected header
        message[:16] + b"\xa1\x01\xf9\x3e\x00" + message[17:],  # a float in the unprotected header
    ]
    texts = [qrtext.encode(m, f.HOST) for m in messages]
    assert {r["failed_check"] for r in agree_all(hook, texts, AT, bundle)} == {"decodable"}
    # a status list holding a float is set aside: its organization's status cannot be told
    listed = statuslist.StatusList.of(signer.org_code, set(), f.STATUS_AT).to_payload()
    floating = cose.sign(cbor2.dumps({**listed, "max_age": 259200.0}, canonical=True), signer.key, signer.kid)
    bundle = f.bundle_json(auth, f.trust_list([f.organization([signer])]), [floating])
    assert agree(hook, code, AT, bundle)["reason"] == "status_list_unusable"


def test_integers_of_the_trust_list_are_unsigned_where_the_format_says_uint(hook: Any) -> None:
    """``version``, ``sequence`` and ``catalogue.edition`` (the envelope: the bundle is unusable)
    and a scope entry's ``edition`` (its organization is set aside) are CBOR major type 0."""
    auth = f.authority()
    signer = f.org_signer(auth)
    other = f.org_signer(auth, code=OTHER, name=OTHER_NAME, seed="other")
    payload = f.trust_list([f.organization([signer]), f.organization([other], code=OTHER)]).to_payload()
    lists = [f.status_list(signer), f.status_list(other)]
    codes = [signer.qr_text(f.credential(), f.HOST), other.qr_text(f.credential(number=OTHER + "263000001"), f.HOST)]

    def changed(path: tuple[Any, ...], value: Any) -> str:
        target = changed_payload = copy.deepcopy(payload)
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        return f.signed_trust_list_bundle(auth, changed_payload, lists)

    seen = {}
    assert [o["code"] for o in payload["organizations"]] == [OTHER, f.ORG_CODE]  # ascending by code
    for path in (("version",), ("sequence",), ("catalogue", "edition"), ("organizations", 1, "scope", 0, "edition")):
        for value in (-1, -(2**64), True, "1", None, 2**64 - 1, 0):
            bundle = changed(path, value)
            reasons = [r["reason"] for r in agree_all(hook, codes, AT, bundle)]
            seen[path[0], repr(value)] = reasons
            if "bundle_unusable" not in reasons:
                _set_aside(hook, bundle)
    for envelope in ("version", "sequence", "catalogue"):
        for value in (-1, -(2**64), True):
            assert seen[envelope, repr(value)] == ["bundle_unusable"] * 2
    assert seen["sequence", repr(2**64 - 1)] == [None, None]
    assert seen["organizations", "-1"] == seen["organizations", "True"] == ["organization_unreadable", None]


def test_logs_or_status_lists_that_are_not_arrays_are_set_aside(hook: Any) -> None:
    """§6: ``logs`` that is not an array names no log (the list is read); §7 step 5:
    ``status_lists`` missing or not an array is set aside and no status list is read."""
    auth = f.authority()
    signer = f.org_signer(auth)
    payload = f.trust_list([f.organization([signer])]).to_payload()
    lists = [f.status_list(signer)]
    code = signer.qr_text(f.credential(), f.HOST)
    readable = [{"name": "x", "public_key": b"\x01" * 32}]
    for logs in (None, {}, "log", 1, [], readable, [{"name": "x"}, None]):
        bundle = f.signed_trust_list_bundle(auth, {**payload, "logs": logs}, lists)
        assert agree(hook, code, AT, bundle)["status"] == "valid"
        assert (("log", None, False) in _parts(hook, bundle)) == (logs not in ([], readable))
    bundle = json.loads(f.signed_trust_list_bundle(auth, payload, lists))
    for value in (None, {}, "x", 0, True, [], "missing"):
        changed = {k: v for k, v in bundle.items() if k != "status_lists"}
        if value != "missing":
            changed["status_lists"] = value
        text = json.dumps(changed)
        got = agree(hook, code, AT, text)
        assert (got["status"], got["reason"]) == ("unknown", "status_unknown"), value
        assert _parts(hook, text) == ([] if value == [] else [("status_list", None, False)])


def test_an_entry_set_aside_makes_unknown_every_kid_its_unreadable_keys_might_be(hook: Any) -> None:
    """§6 and §8 check 2: an organization map set aside that is not a map, has no ``keys``
    array, or holds a key entry without a certificate byte string makes every kid of no usable
    key ``unknown``; otherwise only the kids of the certificates it holds, which no other
    organization may use either."""
    auth = f.authority()
    signer = f.org_signer(auth)
    other = f.org_signer(auth, code=OTHER, name=OTHER_NAME, seed="other")
    stranger = f.org_signer(auth, seed="stranger")
    payload = f.trust_list([f.organization([signer]), f.organization([other], code=OTHER)]).to_payload()
    lists = [f.status_list(signer), f.status_list(other)]
    good = signer.qr_text(f.credential(), f.HOST)
    unknown = stranger.qr_text(f.credential(), f.HOST)
    shared = other.qr_text(f.credential(number=OTHER + "263000001"), f.HOST)
    kept, entry = (next(o for o in payload["organizations"] if o["code"] == code) for code in (f.ORG_CODE, OTHER))
    key = entry["keys"][0]
    broken = {**entry, "registered_from": "2025/01/01"}
    cases: list[tuple[Any, str | None]] = [
        ("an organization", "organization_unreadable"),
        (None, "organization_unreadable"),
        ({k: v for k, v in broken.items() if k != "keys"}, "organization_unreadable"),
        ({**broken, "keys": None}, "organization_unreadable"),
        ({**broken, "keys": [key, "a key"]}, "organization_unreadable"),
        ({**broken, "keys": [key, {**key, "certificate": "text"}]}, "organization_unreadable"),
        ({**broken, "keys": [key, {k: v for k, v in key.items() if k != "certificate"}]}, "organization_unreadable"),
        (broken, "unknown_key"),
        ({**broken, "keys": []}, "unknown_key"),
        ({**entry, "keys": [{**key, "status": "lost"}]}, "unknown_key"),
    ]
    for replacement, expected in cases:
        organizations = [replacement, kept]
        bundle = f.signed_trust_list_bundle(auth, {**payload, "organizations": organizations}, lists)
        _set_aside(hook, bundle)
        results = agree_all(hook, [good, unknown, shared], AT, bundle)
        assert [r["reason"] for r in results[:2]] == [None, expected], replacement
    # the certificate of an entry set aside, also listed by a readable organization: usable by neither
    held = {**broken, "code": "Y000031000003", "keys": [{**key, "certificate": signer.certificate.der}]}
    bundle = f.signed_trust_list_bundle(auth, {**payload, "organizations": [*payload["organizations"], held]}, lists)
    _set_aside(hook, bundle)
    got = agree(hook, good, AT, bundle)
    assert (got["status"], got["reason"]) == ("unknown", "organization_unreadable")
    assert agree(hook, shared, AT, bundle)["status"] == "valid"


def test_a_refused_status_list_concerns_each_organization_listing_its_kid(hook: Any) -> None:
    """§7: a list set aside concerns the organizations whose decoded entries list its kid,
    usable or set aside (``status_list_unusable``), and none for the root's kid or an unknown
    signer (``status_unknown``)."""
    auth = f.authority()
    signer = f.org_signer(auth)
    other = f.org_signer(auth, code=OTHER, name=OTHER_NAME, seed="other")
    spare = f.org_signer(auth, seed="spare")
    stranger = f.org_signer(auth, seed="stranger")
    compromised = trust.KeyEntry(spare.certificate.der, "compromised")  # signs no list at all
    orgs = [
        f.organization([], keys=[trust.KeyEntry(signer.certificate.der), compromised]),
        f.organization([other], code=OTHER),
    ]
    good = signer.qr_text(f.credential(), f.HOST)
    theirs = other.qr_text(f.credential(number=OTHER + "263000001"), f.HOST)
    cases = [
        (f.status_list(spare), "status_list_unusable"),  # a key that may not sign lists
        (f.status_list(signer, issued_at=f.china("2031-01-02 00:00")), "status_list_unusable"),  # after its certificate
        (f.status_list(stranger), "status_unknown"),  # an unknown signer
        (f.root_status_list(auth, code="Y000011000005"), "status_unknown"),  # the root's kid
    ]
    for refused, expected in cases:
        bundle = f.bundle_json(auth, f.trust_list(orgs), [refused, f.status_list(other)])
        _set_aside(hook, bundle)
        assert agree(hook, good, AT, bundle)["reason"] == expected
        assert agree(hook, theirs, AT, bundle)["status"] == "valid"
    # a key set aside (its certificate does not parse) signs a list: its organization's list is unusable
    broken_key = trust.KeyEntry(b"\x30\x03\x02\x01\x01")
    orgs[0] = f.organization([], keys=[trust.KeyEntry(signer.certificate.der), broken_key])
    by_broken = statuslist.StatusList.of(f.ORG_CODE, set(), f.STATUS_AT).sign(signer.key, broken_key.kid)
    bundle = f.bundle_json(auth, f.trust_list(orgs), [by_broken, f.status_list(other)])
    assert _parts(hook, bundle) == [("key", f.ORG_CODE, False), ("status_list", f.ORG_CODE, False)]
    assert agree(hook, good, AT, bundle)["reason"] == "status_list_unusable"
    # the kid of an organization map that does not decode: no decoded entry lists it, nobody's
    payload = f.trust_list(orgs).to_payload()
    next(o for o in payload["organizations"] if o["code"] == f.ORG_CODE)["registered_until"] = "2030/12/31"
    bundle = f.signed_trust_list_bundle(auth, payload, [f.status_list(signer), f.status_list(other)])
    assert _parts(hook, bundle)[-1] == ("status_list", None, False)
    assert agree(hook, theirs, AT, bundle)["status"] == "valid"


def _certificate(auth: f.Authority, extensions: Iterable[tuple[x509.ObjectIdentifier, str, bool]]) -> bytes:
    """An organization certificate of the key seeded "org" with these extensions, their values
    written as given (hex DER), signed by the root."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, f.ORG_NAME),
            x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, f.ORG_CODE),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{f.ORG_CODE} 证书签名"),
        ]
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(auth.root.subject)
        .public_key(f.seeded_key("org").public_key())
        .serial_number(20261129)
        .not_valid_before(f.T0)
        .not_valid_after(f.T_END)
    )
    for oid, value, critical in extensions:
        builder = builder.add_extension(x509.UnrecognizedExtension(oid, bytes.fromhex(value)), critical=critical)
    return builder.sign(auth.key, None).public_bytes(serialization.Encoding.DER)


def _changed_certificate(auth: f.Authority, der: bytes, old: bytes, new: bytes) -> bytes:
    """``der`` with ``old`` replaced by ``new`` (as long) once in its TBS, signed again by the root."""
    tbs = x509.load_der_x509_certificate(der).tbs_certificate_bytes
    assert len(old) == len(new) and tbs.count(old) == 1, (old, new)
    changed = tbs.replace(old, new)
    return der.replace(tbs, changed)[:-64] + auth.key.sign(changed)


def test_key_certificates_parse_as_the_reference_parses_them(hook: Any) -> None:
    """§5: a key whose certificate does not parse is set aside, in the reference's words: what
    its certificate library refuses on loading is "not valid DER" (a PrintableString that is
    not one, a BMPString of odd length, a BIT STRING with unused bits above 7 or not zero), what
    it reads only when asked is "malformed" (a UTF8String that is not UTF-8, an attribute that
    is no string, the extensions' values: keyUsage's unused bits, basicConstraints, ...)."""
    auth = f.authority()
    key = f.seeded_key("org")
    bc, ku, aki = ExtensionOID.BASIC_CONSTRAINTS, ExtensionOID.KEY_USAGE, ExtensionOID.AUTHORITY_KEY_IDENTIFIER
    ski = ExtensionOID.SUBJECT_KEY_IDENTIFIER
    good_bc, good_ku = (bc, "3000", True), (ku, "030206c0", True)
    basic = ["3003010100", "30030101ff", "300301017f", "3003020100", "30060101ff020100", "30060101ff0201ff"]
    basic += ["30070101ff02020001", "300000", "3100", "0500", "30050101ff0500", "300402020000", "30030101"]
    usage = ["0300", "030100", "030101", "03020080", "03020780", "03020700", "03020001", "03020009", "0303000080"]
    usage += ["0303070080", "0303000880", "0302068000", "04020000", "03020680", "0303068000", "0303008000", "030208c0"]
    usage += ["030209c0", "030207c0", "03020681"]
    authority = ["04020102", "3000", "30028000", "3004800101aa", "300380010a", "3003820101", "3005a100820101"]
    authority += ["30058201018001aa", "3003a10030", "3006a10082020001"]
    certificates = [_certificate(auth, [good_bc, good_ku])]
    certificates += [_certificate(auth, [(bc, v, True), good_ku]) for v in basic]
    certificates += [_certificate(auth, [good_bc, (ku, v, True)]) for v in usage]
    certificates += [_certificate(auth, [good_bc, good_ku, (aki, v, False)]) for v in authority]
    certificates += [
        _certificate(auth, [good_bc, good_ku, (ski, v, False)]) for v in ("0400", "040101", "0301", "300101")
    ]
    certificates.append(_certificate(auth, [good_ku]))  # no basicConstraints: not a signing certificate
    der = certificates[0]
    oi = b"\x0c\x0d" + f.ORG_CODE.encode()
    for tag in (0x03, 0x04, 0x05, 0x06, 0x0C, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1E):
        certificates.append(_changed_certificate(auth, der, oi, bytes([tag]) + oi[1:]))
    for tag in (0x30, 0x31, 0x80, 0xA0):
        certificates.append(_changed_certificate(auth, der, oi, bytes([tag]) + oi[1:]))
    certificates += [
        _changed_certificate(auth, der, oi, oi[:-1] + b"*"),  # fine in a UTF8String
        _changed_certificate(auth, der, oi, b"\x13" + oi[1:-1] + b"*"),  # not a PrintableString
        _changed_certificate(auth, der, oi, oi[:-1] + b"\xff"),  # not UTF-8
        _changed_certificate(auth, der, oi, b"\x1e\x0c" + "Y00012".encode("utf-16-be") + b"\x30"),
        _changed_certificate(auth, der, oi, b"\x1e\x0c" + "\ud800Y0001".encode("utf-16-be", "surrogatepass") + b"\x30"),
        _changed_certificate(auth, der, "根证书".encode()[:3], b"\xff" + "根证书".encode()[1:3]),  # the issuer's name
        _changed_certificate(
            auth, der, b"\x01\x01\xff\x04\x04\x03\x02", b"\x01\x01\x00\x04\x04\x03\x02"
        ),  # critical FALSE
        _changed_certificate(auth, der, b"\x03\x21\x00", b"\x03\x21\x01"),  # the key's BIT STRING: 1 unused bit
        _changed_certificate(auth, der, b"\x06\x03\x2b\x65\x70\x03\x21", b"\x06\x03\x2b\x65\x6e\x03\x21"),  # X25519
    ]
    signature = der[-67:-64]
    assert signature == b"\x03\x41\x00"
    certificates += [der[:-67] + b"\x03\x41" + bytes([unused]) + der[-64:] for unused in (1, 8)]
    verdicts: dict[str, int] = {}
    for certificate in certificates:
        kid = pki.kid_of(certificate)
        org = f.organization([], keys=[trust.KeyEntry(certificate)])
        listed = statuslist.StatusList.of(f.ORG_CODE, set(), f.STATUS_AT).sign(key, kid)
        bundle = f.bundle_json(auth, f.trust_list([org]), [listed])
        text = qrtext.encode(cose.sign(encode_payload(f.credential()), key, kid), f.HOST)
        got = agree(hook, text, AT, bundle)
        words = got["detail"] if got["reason"] == "organization_unreadable" else got["reason"]
        verdicts[str(words)] = verdicts.get(str(words), 0) + 1
    malformed = f"a key certificate of organization {f.ORG_CODE} cannot be read (organization certificate is malformed)"
    not_der = f"a key certificate of organization {f.ORG_CODE} cannot be read (a certificate is not valid DER)"
    assert verdicts[malformed] > 30 and verdicts[not_der] >= 5 and verdicts["None"] > 15, verdicts
    assert verdicts["not_certified"] >= 5, verdicts
