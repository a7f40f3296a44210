"""The rules docs/FORMAT.md settled after the in-browser check was written, in the browser
(``issuer/static/offline.js``) against the reference: White_Space exactly around and inside
a QR text (§1), Unicode 14.0.0 category C for text claims whatever the browser's Unicode
(§3), two keys with one kid (§6), the bundle manifest (§7), any header of one gzip member
(§9), and a cached bundle that never goes back (§7, end of "Loading").

Verdicts must equal ``verify`` + ``explain`` (``test_offline._agree``); what a bundle sets
aside must equal ``trust.load_bundle``'s ``problems`` (part, organization, whether it is a
part the manifest does not bind, and the words); what the page refuses must be what
``issuer trust pull`` refuses, but for the log consistency proof, which the browser does not
ask for."""

from __future__ import annotations

import base64
import gzip
import json
import random
import struct
import zlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from issuer.cli.trust import refuse_going_back
from issuer.core import cbor, cose, statuslist, trust
from issuer.core.errors import TrustError
from issuer.core.manifest import Manifest
from issuer.core.transparency import TreeHead
from issuer.core.unicode import WHITE_SPACE
from tests import factories as f
from tests.browser import test_offline as offline
from tests.browser.test_offline import AT, ROOT, VECTORS, _agree, _agree_all, _qr

pytestmark = offline.pytestmark

browser = offline.browser
hook = offline.hook

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
    text = next(v for v in offline._manifest(VECTORS)["vectors"] if v["name"] == "valid-typical")["qr_text"]
    host, payload = text.split("/V/")
    texts = []
    for c in WHITE_SPACE + NOT_WHITE_SPACE:
        texts += [c + text, text + c, c + c + text + c, host + c + "/V/" + payload, host + "/V/" + payload[:9] + c]
    results = _agree_all(hook, texts, AT, bundle)
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
    texts = [_qr(signer, cbor.encode({**claims, -3: "张" + chr(c)})) for c in points]
    texts += [_qr(signer, cbor.encode({**claims, -8: "电工" + chr(c)})) for c in (0x30000, 0x31350, 0x1F6DC, 0xE000)]
    # this browser knows a later Unicode: its own \p{C} would let U+31350 through
    assert hook.evaluate("/\\p{C}/u.test(String.fromCodePoint(0x31350))") is False
    results = _agree_all(hook, texts, AT, bundle)
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
        ("status_list", None, False),  # signed by a kid that names no key now
    ]
    for signer, number, expected in (
        (twice, "Y000123000001263000001", ("unknown", "organization_unreadable")),
        (shared, OTHER + "263000001", ("unknown", "organization_unreadable")),
        (own, OTHER + "263000001", ("valid", None)),
        (third, third.org_code + "263000001", ("valid", None)),
    ):
        got = _agree(hook, signer.qr_text(f.credential(number=number), f.HOST), AT, bundle)
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
        got = _agree(hook, signer.qr_text(cred, f.HOST), AT, bundle)  # with the reference's words
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
    vector = next(v for v in offline._manifest(VECTORS)["vectors"] if v["name"] == "list-with-other-gzip-header-fields")
    assert _agree(hook, vector["qr_text"], vector["at"], json.dumps(bundle))["status"] == "valid"


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
        got = _agree(hook, signer.qr_text(revoked, f.HOST), AT, bundle)
        assert got["status"] == status, (parts, got)
        assert _agree(hook, other.qr_text(other_cred, f.HOST), AT, bundle)["status"] == others
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
    assert _agree(hook, signer.qr_text(revoked, f.HOST), AT, bundle)["reason"] == "status_unknown"
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
    signed = cose.sign(cbor.encode(payload), auth.key, cose.kid_for(auth.root_der))
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
        refuse_going_back(path, store, store.tree_head, offline.ORIGIN)
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
        (json.dumps({**json.loads(kept), "status_lists": None}), ["unusable", None]),
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
