"""The offline check of the scan page (``issuer/static/offline.js``) in a real browser: it
must reach the reference verifier's verdict (``core/verify.py``) for every published vector
and for every part of a bundle that is set aside, and show it as the server does.

The vectors run through the script's test hook ``window.issuerOfflineVerify(payload,
bundle, atMillis)`` on a page that holds nothing but the script, each with the bytes of its
own bundle file (read as the page reads a download: UTF-8 JSON, one byte order mark ignored)
and the time fixed to its ``at``; every bundle the reference refuses is refused by the script
too, and by the scan page when it downloads one. Every request of those pages is answered by
Playwright (``page.route``) on http://localhost, a secure context for WebCrypto: no server runs
for them. The hook page is the ``hook`` fixture (``conftest.py``); the comparison with the
reference is ``offline_check.agree``."""

from __future__ import annotations

import base64
import html
import json
import random
from datetime import date
from pathlib import Path
from typing import Any

import cbor2
import pytest

from issuer.core import cbor, cose, pki, qrtext, suites, trust
from issuer.core.clock import parse_instant
from issuer.core.credential import encode_payload
from issuer.core.errors import TrustError
from issuer.core.sm2 import Sm2PrivateKey
from issuer.core.verify import verify
from tests import factories as f
from tests.browser.offline_check import (
    AT,
    CACHE_KEY,
    ORIGIN,
    SCRIPT,
    VECTORS,
    agree,
    agree_all,
    in_browser,
    needs_browser,
    qr,
    read_manifest,
)

pytestmark = needs_browser


# --- the published vectors ---------------------------------------------------------------


@pytest.fixture(scope="module")
def vectors_page(hook: Any) -> Any:
    """The hook page with the vectors' bundle.json in localStorage, as a downloaded one is kept."""
    hook.evaluate(
        "([key, text]) => localStorage.setItem(key, text)", [CACHE_KEY, (VECTORS / "bundle.json").read_text()]
    )
    return hook


def _vector_bundle(directory: Path, vector: dict[str, Any]) -> bytes:
    """The bytes of the bundle file a vector names, or of its manifest's."""
    return (directory / vector.get("bundle", read_manifest(directory)["bundle"])).read_bytes()


def _expected(vector: dict[str, Any], got: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """The vector's status, failed check and reason (the version-1 set names no reason: there
    ``agree`` compares it with the reference's)."""
    return vector["status"], vector["failed_check"], vector.get("reason", got["reason"])


@pytest.mark.parametrize("vector", read_manifest(VECTORS)["vectors"], ids=lambda v: v["name"])
def test_each_vector_gives_its_expected_verdict_in_the_browser(vectors_page: Any, vector: dict[str, Any]) -> None:
    bundle = _vector_bundle(VECTORS, vector)
    got = agree(vectors_page, vector["qr_text"], vector["at"], bundle)
    assert (got["status"], got["failed_check"], got["reason"]) == _expected(vector, got), got


@pytest.mark.parametrize("vector", read_manifest(VECTORS / "v1")["vectors"], ids=lambda v: v["name"])
def test_each_version_1_vector_gives_its_expected_verdict_in_the_browser(hook: Any, vector: dict[str, Any]) -> None:
    bundle = _vector_bundle(VECTORS / "v1", vector)
    got = agree(hook, vector["qr_text"], vector["at"], bundle)
    assert (got["status"], got["failed_check"], got["reason"]) == _expected(vector, got), got


UNUSABLE = read_manifest(VECTORS)["unusable_bundles"]


@pytest.mark.parametrize("unusable", UNUSABLE, ids=lambda u: u["name"])
def test_each_bundle_the_reference_refuses_is_unusable_in_the_browser(hook: Any, unusable: dict[str, Any]) -> None:
    """No verdict at all (§7 steps 1–3): the reference raises ``TrustError``, the script says
    the bundle cannot be used, with the same words, whatever the code."""
    data = (VECTORS / unusable["bundle"]).read_bytes()
    with pytest.raises(TrustError):
        trust.load_bundle(data)
    manifest = read_manifest(VECTORS)
    codes = [v["qr_text"] for v in manifest["vectors"] if v["name"] in ("valid-typical", "revoked", "unknown-key")]
    for got in agree_all(hook, codes, manifest["at"], data):
        assert (got["status"], got["failed_check"], got["reason"]) == ("unknown", None, "bundle_unusable"), got
        assert got["headline_zh"] == "无法判断：本机缓存的信任数据无法使用", got


SCAN_PAGE = (
    '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"></head><body>'
    '<section class="offline" id="offline" data-payload="{payload}" hidden>'
    '<button type="button" id="offline-button">在本机验证</button><div id="offline-result"></div></section>'
    '<script src="/offline.js"></script></body></html>'
)
"""The scan page's offline section (``templates/web/scan.html``), and nothing else."""


def _scan_offline(browser: Any, qr_text: str, at: str, served: bytes) -> tuple[str, str, str]:
    """Status, reason and words of the scan page's offline check of ``qr_text`` at ``at`` on a
    device with nothing cached, when the service serves the bundle file ``served``."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.clock.set_fixed_time(parse_instant(at))
        page.route(
            ORIGIN + "/V/code",
            lambda route: route.fulfill(
                status=200, content_type="text/html; charset=utf-8", body=SCAN_PAGE.format(payload=html.escape(qr_text))
            ),
        )
        page.route(
            ORIGIN + "/offline.js",
            lambda route: route.fulfill(status=200, content_type="text/javascript; charset=utf-8", path=SCRIPT),
        )
        page.route(
            ORIGIN + "/api/v1/trust-bundle",
            lambda route: route.fulfill(status=200, content_type="application/json", body=served),
        )
        page.goto(ORIGIN + "/V/code")
        page.click("#offline-button")
        verdict = page.locator("#offline-verdict")
        verdict.wait_for(timeout=20_000)
        return verdict.get_attribute("data-status"), verdict.get_attribute("data-reason"), verdict.inner_text()
    finally:
        context.close()


@pytest.mark.parametrize(
    "name", [u["bundle"] for u in UNUSABLE] + ["bundle-with-a-byte-order-mark.json"], ids=lambda n: n[7:-5]
)
def test_the_scan_page_reads_a_downloaded_bundle_as_utf_8_json(browser: Any, name: str) -> None:
    """The page decodes the bytes it downloads (a byte that is not UTF-8 is not replaced, a
    byte order mark is dropped) and shows an unusable bundle as such, not as a fault."""
    manifest = read_manifest(VECTORS)
    vector = next(v for v in manifest["vectors"] if v["name"] == "valid-typical")
    served = (VECTORS / name).read_bytes()
    status, reason, words = _scan_offline(browser, vector["qr_text"], manifest["at"], served)
    if name == "bundle-with-a-byte-order-mark.json":
        assert (status, reason) == ("valid", ""), words
        assert "证书有效" in words
    else:
        assert (status, reason) == ("unknown", "bundle_unusable"), words
        assert "本机缓存的信任数据无法使用" in words


def test_a_time_without_an_offset_from_utc_is_refused(hook: Any) -> None:
    """``at`` is an instant (§8): milliseconds, or text with its offset; text without one is
    refused (the hook's "could not complete the check"), never read as UTC or local time."""
    manifest = read_manifest(VECTORS)
    vector = next(v for v in manifest["vectors"] if v["name"] == "valid-typical")
    data = base64.b64encode((VECTORS / "bundle.json").read_bytes()).decode("ascii")
    reasons = hook.evaluate(
        """async ([text, data, times]) => {
            const bundle = Uint8Array.from(atob(data), (c) => c.charCodeAt(0)), out = [];
            for (const at of times) out.push((await window.issuerOfflineVerify(text, bundle, at)).reason);
            return out;
        }""",
        [
            vector["qr_text"],
            data,
            ["2026-11-30T00:00:00Z", "2026-11-30T08:00:00+08:00", "2026-11-30T00:00:00", "2026-11-30"],
        ],
    )
    assert reasons == [None, None, "offline_error", "offline_error"]
    with pytest.raises(ValueError):
        parse_instant("2026-11-30T00:00:00")


def test_a_vector_may_name_its_own_bundle() -> None:
    """Each named bundle exists, and the vectors on it differ from bundle.json's."""
    named = {v["name"]: v["bundle"] for v in read_manifest(VECTORS)["vectors"] if "bundle" in v}
    assert named.get("older-status-list-slipped-in") == "bundle-rolled-back.json"
    assert all((VECTORS / name).is_file() for name in named.values())
    assert len(set(named.values())) >= 10 and len(UNUSABLE) >= 8


def test_the_headlines_and_details_are_the_reference_verifiers_in_both_languages(vectors_page: Any) -> None:
    vector = next(v for v in read_manifest(VECTORS)["vectors"] if v["name"] == "suspended-before-issue")
    got = in_browser(vectors_page, vector["qr_text"], vector["at"])  # bundle.json, cached by vectors_page
    assert got["headline_zh"] == "证书无效：发证时机构已被暂停评价"
    assert got["headline"] == "Not valid: issued while the organization was suspended"
    assert got["detail_zh"] == "2026年11月20日09:38:00（北京时间）机构状态为暂停"
    assert got["detail"] == "the organization was suspended at 2026-11-20 09:38:00 (China time)"


# --- parts of a bundle set aside, damaged codes: the same verdict as the reference ----------------


def _bundle(auth: f.Authority, payload: dict[str, Any], lists: list[bytes]) -> str:
    return f.signed_trust_list_bundle(auth, payload, lists)


def test_an_unreadable_organization_or_key_makes_only_that_organization_unknown(hook: Any) -> None:
    auth = f.authority()
    good = f.org_signer(auth)
    other = f.org_signer(auth, code="S000044000002", name="广东某某职业技能培训中心", seed="other")
    third = f.org_signer(auth, code="Y000031000003", name="上海某某汽车维修有限公司", seed="third")
    orgs = [
        f.organization([good]),
        f.organization([other], code=other.org_code),
        f.organization([third], code=third.org_code),
    ]
    payload = f.trust_list(orgs).to_payload()
    entries = {entry["code"]: entry for entry in payload["organizations"]}
    entries[other.org_code]["registered_from"] = "2025/01/01"  # an entry that cannot be read
    broken = b"\x30\x03\x02\x01\x01"
    entries[third.org_code]["keys"][0]["certificate"] = broken  # a key certificate that cannot be read
    lists = [f.status_list(good), f.status_list(other), f.status_list(third)]
    bundle = _bundle(auth, payload, lists)

    assert agree(hook, good.qr_text(f.credential(), f.HOST), AT, bundle)["status"] == "valid"
    cred = f.credential(number="S000044000002263000001")
    got = agree(hook, other.qr_text(cred, f.HOST), AT, bundle)
    assert (got["status"], got["reason"]) == ("unknown", "organization_unreadable")
    assert "S000044000002" in got["detail"]
    cred = f.credential(number="Y000031000003263000001")
    got = agree(hook, qr(third, encode_payload(cred), kid=pki.kid_of(broken)), AT, bundle)
    assert (got["status"], got["reason"]) == ("unknown", "organization_unreadable")

    del entries[other.org_code]["keys"]  # an entry without keys: any unknown key may be its own
    bundle = _bundle(auth, payload, lists)
    stranger = f.org_signer(auth, seed="stranger")
    assert agree(hook, stranger.qr_text(f.credential(), f.HOST), AT, bundle)["reason"] == "organization_unreadable"
    assert agree(hook, good.qr_text(f.credential(), f.HOST), AT, bundle)["status"] == "valid"


def test_status_lists_signed_by_the_wrong_key_are_set_aside(hook: Any) -> None:
    auth = f.authority()
    old = f.org_signer(auth, seed="old")
    new = f.org_signer(auth, seed="new", not_before=f.china("2026-11-01 00:00"))
    compromised_at = f.china("2026-11-28 12:00")
    org = f.organization(
        [],
        keys=[trust.KeyEntry(old.certificate.der, "compromised", compromised_at), trust.KeyEntry(new.certificate.der)],
    )
    tl = f.trust_list([org])
    early = f.credential(when=f.china("2026-11-28 11:59:59"))
    late = f.credential(number="Y000123000001263000002", when=f.china("2026-11-28 12:00"))
    # signed by the key after its compromise: set aside, the status is unusable
    bundle = f.bundle_json(auth, tl, [f.status_list(old)])
    got = agree(hook, old.qr_text(early, f.HOST), AT, bundle)
    assert (got["status"], got["reason"]) == ("unknown", "status_list_unusable")
    assert agree(hook, old.qr_text(late, f.HOST), AT, bundle)["reason"] == "key_compromised"
    # the same list next to one by the new key: the good one speaks
    bundle = f.bundle_json(auth, tl, [f.status_list(old), f.status_list(new)])
    assert agree(hook, old.qr_text(early, f.HOST), AT, bundle)["status"] == "valid"
    # signed by the old key before the compromise, and a newer one by the root: the newest is kept
    before = f.status_list(old, [104729], issued_at=f.china("2026-11-28 08:00"))
    by_root = f.root_status_list(auth, revoked=[], issued_at=f.china("2026-11-29 08:00"))
    bundle = f.bundle_json(auth, tl, [before, by_root])
    assert agree(hook, old.qr_text(early, f.HOST), AT, bundle)["status"] == "valid"
    bundle = f.bundle_json(auth, tl, [before])
    assert agree(hook, old.qr_text(early, f.HOST), AT, bundle)["status"] == "revoked"
    # the root signs a list for an organization the trust list does not hold: no organization's problem
    bundle = f.bundle_json(auth, tl, [f.root_status_list(auth, code="Y000011000005")])
    assert agree(hook, new.qr_text(f.credential(), f.HOST), AT, bundle)["reason"] == "status_unknown"


def test_version_1_trust_lists_and_credentials_are_judged_on_china_dates(hook: Any) -> None:
    """A version-1 trust list writes dates (an inclusive ``until``); a version-1 credential
    carries a date and is judged by the rules for dates, a version-2 one by its instant."""
    auth = f.authority()
    signer = f.org_signer(auth)
    payload = f.trust_list([f.organization([signer])]).to_payload()
    payload["version"] = 1
    entry = payload["organizations"][0]
    entry["status"] = [{"status": "active", "since": "2025-01-01"}, {"status": "suspended", "since": "2026-11-20"}]
    entry["scope"] = [
        {
            "occupation": "6-31-01-03",
            "edition": 2022,
            "levels": [3],
            "work_types": [],
            "from": None,
            "until": "2026-11-18",
        },
        {
            "occupation": "6-18-02-04",
            "edition": 2022,
            "levels": [3],
            "work_types": ["电焊工"],
            "from": "2026-11-10",
            "until": None,
        },
    ]
    bundle = _bundle(auth, payload, [f.status_list(signer)])
    verdicts = []
    for day, occupation, work_type in [
        (date(2026, 11, 18), "6-31-01-03", None),
        (date(2026, 11, 19), "6-31-01-03", None),
        (date(2026, 11, 9), "6-18-02-04", "电焊工"),
        (date(2026, 11, 10), "6-18-02-04", "电焊工"),
        (date(2026, 11, 19), "6-18-02-04", "电焊工"),
        (date(2026, 11, 20), "6-18-02-04", "电焊工"),
    ]:
        for when in (day, f.china(f"{day.isoformat()} 23:59:59"), f.china(f"{day.isoformat()} 00:00")):
            cred = f.credential(when=when, occupation=occupation, work_type=work_type)
            verdicts.append(agree(hook, signer.qr_text(cred, f.HOST), AT, bundle)["reason"])
    assert {None, "out_of_scope", "organization_suspended"} <= set(verdicts)


def test_damaged_codes_and_bundles_are_judged_as_the_reference_does(hook: Any) -> None:
    bundle = (VECTORS / "bundle.json").read_text()
    vector = next(v for v in read_manifest(VECTORS)["vectors"] if v["name"] == "valid-typical")
    text = vector["qr_text"]
    start = text.index("/V/") + 3
    damaged = [text[:i] + ("A" if text[i] != "A" else "Q") + text[i + 1 :] for i in range(start, len(text), 3)]
    damaged += ["", "HTTPS://X/V/", "not a code", text + "A", text[:-1] + "9", "HTTPS://X/V/" + "A" * 8, " " + text]
    results = agree_all(hook, damaged, AT, bundle)
    assert {r["failed_check"] for r in results} == {"decodable", "known_key", "signature", None}
    obj = json.loads(bundle)
    broken_root = dict(obj, root_certificate=base64.b64encode(b"\x30\x00").decode())
    unsigned = dict(obj, trust_list=obj["status_lists"][0])
    for damaged_bundle in ({}, dict(obj, version=3), broken_root, unsigned, dict(obj, status_lists=None)):
        got = agree(hook, text, AT, json.dumps(damaged_bundle))
        assert got["status"] == "unknown"
    got = in_browser(hook, text, AT, json.dumps(None))
    assert (got["status"], got["reason"]) == ("unknown", "bundle_unusable")


def test_a_code_signed_with_sm2_is_judged_as_the_reference_does(hook: Any) -> None:
    """The page checks Ed25519 only; a code of the 国密 profile names a 4-byte kid, which no key
    of an Ed25519 trust list has: both say the signer is unknown, neither takes it as valid.
    A header of no suite is not decodable, in the reference's words."""
    bundle = (VECTORS / "bundle.json").read_text()
    payload = encode_payload(f.credential())
    sm2_key = Sm2PrivateKey.generate()
    signed = cose.sign(payload, sm2_key, suites.SM2_SM3.kid(b"an organization certificate"))
    parsed = cose.parse(signed)
    other_alg = cbor2.dumps(  # ES256 (-7): a registered algorithm of no suite
        cbor2.CBORTag(cose.COSE_SIGN1_TAG, [cose.protected_header(bytes(8), -7), {}, parsed.payload, parsed.signature])
    )
    results = agree_all(hook, [qrtext.encode(m, f.HOST) for m in (signed, other_alg)], AT, bundle)
    assert results[0]["failed_check"] == "known_key"
    assert results[1]["failed_check"] == "decodable" and "SM2 (-65537)" in results[1]["detail"]


def test_with_an_sm2_bundle_the_page_says_the_check_is_the_services(hook: Any) -> None:
    """WebCrypto has no SM2: given the trust bundle of a 国密 deployment (an SM2 root), the page
    says plainly that it cannot check and that the service's verdict is the one to rely on,
    where the reference verifier checks the credential and finds it valid."""
    world = f.world(suites.SM2_SM3)
    bundle = trust.make_bundle(
        world.authority.root_der,
        f.trust_list([world.organization]).sign(world.authority.key, world.authority.root),
        [f.status_list(world.signer)],
    )
    got = in_browser(hook, world.qr(), AT, json.dumps(bundle))
    assert (got["status"], got["reason"]) == ("unknown", "server_only")
    assert "国密SM2" in got["headline_zh"] and "rely on the service's verdict" in got["headline"]
    assert got["detail"] == "root key is SM2: this page checks Ed25519 only"
    assert verify(world.qr(), trust.load_bundle(json.dumps(bundle)), at=parse_instant(AT)).valid


def _packed(number: str) -> bytes:
    """Any 22 characters packed as claim -2 is (2·D + t), valid number or not."""
    return (int(number[1:]) * 2 + (number[0] == "S")).to_bytes(9, "big")


def test_claims_that_do_not_check_out_fail_at_claims_with_the_same_words(hook: Any) -> None:
    auth = f.authority()
    signer = f.org_signer(auth)
    bundle = f.bundle_json(auth, f.trust_list([f.organization([signer])]), [f.status_list(signer)])
    claims = f.credential().claims()
    for change in (
        {-3: " 张三丰"},
        {-3: "张三丰\u0000"},
        {-3: "e\u0301"},
        {-3: 5},
        {-8: "--"},
        {-8: " 维修电工"},
        {-8: ""},
        {-7: 2022},
        {-7: 1998},
        {-6: 9000000},
        {-9: 6},
        {-9: 6, -3: " 张三丰"},
        {-2: b"\xff" * 9},
        {-2: b"\x00" * 8},
        {-2: _packed("Y000199000001263000001")},
        {-2: _packed("Y000123000001260000001")},
        {-2: _packed("Y000123000001183000001")},
        {-2: _packed("Y000123000001263000000")},
        {-4: 0},
        {-5: b"x"},
        {-10: -1},
        {-10: 2**32},
        {-11: 2**32},
        {-11: -1},
        {-1: 3},
        {-12: 1},
        {1: 1},
    ):
        payload = cbor.encode({**claims, **change})
        got = agree(hook, qr(signer, payload), AT, bundle)
        assert got["failed_check"] == "claims", (change, got)
    version_1 = cbor.encode({**claims, -1: 1, -10: 20_786})
    assert agree(hook, qr(signer, version_1), AT, bundle)["status"] == "valid"


def test_every_byte_of_the_signed_claims_changed_gives_the_reference_verdict(hook: Any) -> None:
    """Signed after the change: the signature holds, so the claims decoder is what decides."""
    auth = f.authority()
    signer = f.org_signer(auth)
    bundle = f.bundle_json(auth, f.trust_list([f.organization([signer])]), [f.status_list(signer, [104729 ^ 1])])
    payload = encode_payload(f.credential())
    changed = []
    for i in range(len(payload)):
        for delta in (1, 0x20, 0x80):
            one = bytearray(payload)
            one[i] = (one[i] + delta) % 256
            changed.append(bytes(one))
    for cut in (1, 2, 5, len(payload) - 1):
        changed += [payload[:cut], payload + payload[:cut]]
    results = agree_all(hook, [qr(signer, c) for c in changed], AT, bundle)
    assert {r["failed_check"] for r in results} >= {"claims", "scope", "number", None}


def test_changed_trust_lists_set_aside_what_the_reference_sets_aside(hook: Any) -> None:
    """Bytes of the organization entries changed and the list signed again by the root: an
    entry that cannot be read affects its organization alone, or the whole list is unusable,
    exactly as trust.load_bundle decides."""
    auth = f.authority()
    signer = f.org_signer(auth)
    other = f.org_signer(auth, code="S000044000002", name="广东某某职业技能培训中心", seed="other")
    orgs = [f.organization([signer]), f.organization([other], code=other.org_code)]
    payload = f.trust_list(orgs).to_payload()
    payload["catalogue"]["occupations"] = {"6-31-01-03": "电工"}  # small, so that the entries are most of it
    encoded = cbor.encode(payload)
    lists = [f.status_list(signer), f.status_list(other)]
    codes = [
        signer.qr_text(f.credential(), f.HOST),
        other.qr_text(f.credential(number="S000044000002263000001"), f.HOST),
    ]
    rng = random.Random(20261129)
    for i in sorted(rng.sample(range(len(encoded)), 90)):
        changed = bytearray(encoded)
        changed[i] ^= 1 << rng.randrange(8)
        signed = cose.sign(bytes(changed), auth.key, pki.kid_of(auth.root_der))
        bundle = json.dumps(trust.make_bundle(auth.root_der, signed, lists))
        agree_all(hook, codes, AT, bundle)


def test_a_key_certificate_whose_subject_cannot_be_read_is_set_aside(hook: Any) -> None:
    """As the spec says (§5: a key certificate that does not parse is set aside alone), in the
    reference's words: cryptography reads a UTF8String only when asked, so the certificate loads
    and is "malformed" (pki.parse_organization_certificate)."""
    auth = f.authority()
    signer = f.org_signer(auth)
    other = f.org_signer(auth, code="S000044000002", name="广东某某职业技能培训中心", seed="other")
    der = signer.certificate.der
    at = der.index("黑龙江".encode())
    broken = der[:at] + b"\xff" + der[at + 1 :]  # not UTF-8 in organizationName
    org = f.organization([], keys=[trust.KeyEntry(broken)])
    tl = f.trust_list([org, f.organization([other], code=other.org_code)])
    bundle = f.bundle_json(auth, tl, [f.status_list(other)])
    got = agree(hook, qr(signer, encode_payload(f.credential()), kid=pki.kid_of(broken)), AT, bundle)
    assert (got["status"], got["reason"]) == ("unknown", "organization_unreadable"), got
    assert "Y000123000001" in got["detail"] and "organization certificate is malformed" in got["detail"]
    cred = f.credential(number="S000044000002263000001")
    assert agree(hook, other.qr_text(cred, f.HOST), AT, bundle)["status"] == "valid"
