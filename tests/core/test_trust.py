"""Trust lists and bundles: nothing is read before the root's signature is checked."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import cbor2
import pytest

from issuer.core import pki, statuslist, trust
from issuer.core.errors import TrustError
from issuer.core.verify import Outcome, Status, verify
from tests import factories as f


def _bundle() -> tuple[f.Authority, dict[str, str]]:
    auth = f.authority()
    signer = f.org_signer(auth)
    return auth, json.loads(f.bundle_json(auth, f.trust_list([f.organization([signer])])))


def test_a_bundle_round_trips_its_trust_list() -> None:
    auth = f.authority()
    signer = f.org_signer(auth)
    tl = f.trust_list([f.organization([signer])])
    store = trust.load_bundle(f.bundle_json(auth, tl))
    assert store.trust_list == tl
    assert store.key(signer.kid) is not None
    assert store.occupation_name("6-31-01-03") == "电工"


def test_a_tampered_trust_list_is_refused() -> None:
    _, bundle = _bundle()
    raw = bytearray(base64.b64decode(bundle["trust_list"]))
    raw[len(raw) // 2] ^= 0x20
    bundle["trust_list"] = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(TrustError):
        trust.load_bundle(json.dumps(bundle))


def test_a_trust_list_signed_by_another_root_is_refused() -> None:
    _, bundle = _bundle()
    other = f.authority("impostor")
    bundle["root_certificate"] = base64.b64encode(other.root_der).decode()
    with pytest.raises(TrustError):
        trust.load_bundle(json.dumps(bundle))


def test_a_pinned_root_must_be_the_bundle_root() -> None:
    auth, bundle = _bundle()
    assert trust.load_bundle(json.dumps(bundle), pinned_root=auth.root).root == auth.root
    with pytest.raises(TrustError):
        trust.load_bundle(json.dumps(bundle), pinned_root=f.authority("impostor").root)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[]",
        "{}",
        '{"format": "issuer-trust-bundle", "version": 2}',
        "\xff",
        '{"format": "issuer-trust-bundle", "version": 1, "root_certificate": "!!", "trust_list": ""}',
    ],
)
def test_malformed_bundles_are_a_trust_error(text: str) -> None:
    with pytest.raises(TrustError):
        trust.load_bundle(text)


def test_the_json_view_carries_certificates_in_base64() -> None:
    auth = f.authority()
    signer = f.org_signer(auth)
    view = f.trust_list([f.organization([signer])]).to_json()
    cert = view["organizations"][0]["keys"][0]["certificate"]
    assert base64.b64decode(cert) == signer.certificate.der


def test_the_status_at_an_instant_and_on_a_date_follow_the_history() -> None:
    suspended = f.china("2026-06-01 09:37")
    org = replace(
        f.organization([]),
        status_history=(trust.StatusChange("active", f.REGISTERED), trust.StatusChange("suspended", suspended)),
    )
    assert org.status_at(f.china("2024-12-31 23:59:59")) is None
    assert org.status_at(suspended - timedelta(seconds=1)) == "active"
    assert org.status_at(suspended) == "suspended"
    assert org.status_on(date(2026, 5, 31)) == "active"
    assert org.status_on(date(2026, 6, 1)) == "suspended"  # a date holds every change made on it


def test_of_two_changes_at_one_instant_the_later_in_the_list_counts() -> None:
    at = f.china("2026-06-01 09:37")
    org = replace(
        f.organization([]),
        status_history=(trust.StatusChange("suspended", at), trust.StatusChange("active", at)),
    )
    assert org.status_at(at) == "active"


def test_a_version_1_trust_list_reads_dates_as_the_instants_that_bound_the_day() -> None:
    auth = f.authority()
    signer = f.org_signer(auth)
    payload = f.trust_list([f.organization([signer])]).to_payload()
    payload["version"] = 1
    org = payload["organizations"][0]
    org["status"] = [{"status": "active", "since": "2025-01-01"}, {"status": "suspended", "since": "2026-06-01"}]
    org["scope"] = [
        {
            "occupation": "6-31-01-03",
            "edition": 2022,
            "levels": [3],
            "work_types": [],
            "from": "2025-01-01",
            "until": "2026-05-31",
        }
    ]
    store = trust.load_bundle(f.signed_trust_list_bundle(auth, payload))
    entry = store.organization(f.ORG_CODE)
    assert entry is not None and not store.problems
    assert entry.status_history[1].since == f.china("2026-06-01 00:00")
    assert entry.scope[0].valid_from == f.china("2025-01-01 00:00")
    assert entry.scope[0].valid_until == f.china("2026-06-01 00:00")  # the end of the inclusive last day


def test_a_version_2_trust_list_refuses_a_date_where_an_instant_belongs() -> None:
    auth = f.authority()
    signer = f.org_signer(auth)
    payload = f.trust_list([f.organization([signer])]).to_payload()
    payload["organizations"][0]["status"][0]["since"] = "2025-01-01"
    store = trust.load_bundle(f.signed_trust_list_bundle(auth, payload))
    assert [p.part for p in store.problems] == ["organization"]


# --- one organization's trouble never breaks the others' -------------------------------------

OTHER = "S000044000002"


def _two(auth: f.Authority) -> tuple[f.Signer, f.Signer, trust.TrustList]:
    a = f.org_signer(auth)
    b = f.org_signer(auth, code=OTHER, name="广东某某职业技能培训中心", seed="org-b")
    tl = f.trust_list([f.organization([a]), f.organization([b], code=OTHER, name="广东某某职业技能培训中心")])
    return a, b, tl


def _entry_of_b(payload: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = next(o for o in payload["organizations"] if o["code"] == OTHER)
    return entry


def _credential_of_b() -> f.Credential:
    return f.credential(number=f"{OTHER}263000001")


def test_a_broken_status_list_makes_only_its_organization_unknown() -> None:
    auth = f.authority()
    a, b, tl = _two(auth)
    broken = bytearray(f.status_list(b))
    broken[-3] ^= 1
    store = f.store(auth, tl, [f.status_list(a), bytes(broken)])
    assert verify(a.qr_text(f.credential(), f.HOST), store, at=f.NOW).status is Status.VALID
    verdict = verify(b.qr_text(_credential_of_b(), f.HOST), store, at=f.NOW)
    assert (verdict.status, verdict.reason) == (Status.UNKNOWN, "status_list_unusable")
    assert [(p.part, p.organization) for p in store.problems] == [("status_list", OTHER)]


def test_a_list_signed_after_the_signing_certificate_expired_is_set_aside_but_an_older_one_serves() -> None:
    auth = f.authority()
    a = f.org_signer(auth)
    expired = f.org_signer(
        auth, code=OTHER, seed="org-b", not_after=f.china("2026-11-01 00:00"), name="广东某某职业技能培训中心"
    )
    org_b = replace(
        f.organization([expired], code=OTHER, name="广东某某职业技能培训中心"), registered_until=date(2026, 10, 31)
    )
    tl = f.trust_list([f.organization([a]), org_b])
    late = f.status_list(expired)  # signed 2026-11-29, after the certificate ended
    store = f.store(auth, tl, [f.status_list(a), late])
    assert verify(a.qr_text(f.credential(), f.HOST), store, at=f.NOW).status is Status.VALID
    assert store.status_list(OTHER) is None
    old_cred = f.credential(number=f"{OTHER}263000001", when=f.china("2026-10-20 10:00"))
    older = f.status_list(expired, issued_at=f.china("2026-10-31 12:00"))
    store = f.store(auth, tl, [f.status_list(a), older])
    at = f.china("2026-11-02 10:00")  # within the old list's maximum age
    assert verify(expired.qr_text(old_cred, f.HOST), store, at=at).status is Status.VALID


def test_the_root_signs_the_status_list_of_an_organization_that_can_no_longer_sign() -> None:
    auth = f.authority()
    a, b, tl = _two(auth)
    store = f.store(auth, tl, [f.status_list(a), f.root_status_list(auth, OTHER, [104729])])
    verdict = verify(b.qr_text(_credential_of_b(), f.HOST), store, at=f.NOW)
    assert verdict.status is Status.REVOKED
    assert verify(b.qr_text(replace(_credential_of_b(), status_index=1), f.HOST), store, at=f.NOW).valid


def test_a_root_signed_list_for_an_organization_not_in_the_trust_list_is_set_aside() -> None:
    auth = f.authority()
    a, _, tl = _two(auth)
    store = f.store(auth, tl, [f.status_list(a), f.root_status_list(auth, "Y000999000009")])
    assert store.status_list("Y000999000009") is None
    assert [(p.part, p.organization) for p in store.problems] == [("status_list", None)]


def test_a_bad_tree_head_is_set_aside_and_verification_goes_on() -> None:
    auth = f.authority()
    a, _, tl = _two(auth)
    bundle = json.loads(f.bundle_json(auth, tl, [f.status_list(a)]))
    bundle["tree_head"] = base64.b64encode(b"\xd2\x84not a tree head").decode()
    store = trust.load_bundle(json.dumps(bundle))
    assert store.tree_head is None and [p.part for p in store.problems] == ["tree_head"]
    assert verify(a.qr_text(f.credential(), f.HOST), store, at=f.NOW).valid


def test_an_unreadable_organization_entry_makes_only_its_credentials_unknown() -> None:
    auth = f.authority()
    a, b, tl = _two(auth)
    payload = tl.to_payload()
    _entry_of_b(payload)["status"] = [{"status": "dormant", "since": "2025-01-01T00:00:00Z"}]
    store = trust.load_bundle(f.signed_trust_list_bundle(auth, payload, [f.status_list(a)]))
    assert verify(a.qr_text(f.credential(), f.HOST), store, at=f.NOW).valid
    verdict = verify(b.qr_text(_credential_of_b(), f.HOST), store, at=f.NOW)
    assert (verdict.status, verdict.reason, verdict.checks[1].outcome) == (
        Status.UNKNOWN,
        "organization_unreadable",
        Outcome.UNKNOWN,
    )
    assert OTHER in verdict.checks[1].detail and "dormant" in verdict.checks[1].detail
    stranger = f.org_signer(auth, seed="stranger")
    assert verify(stranger.qr_text(f.credential(), f.HOST), store, at=f.NOW).failed_check == "known_key"


def test_an_unreadable_key_certificate_makes_only_its_credentials_unknown() -> None:
    auth = f.authority()
    a, _, tl = _two(auth)
    payload = tl.to_payload()
    _entry_of_b(payload)["keys"][0]["certificate"] = b"not DER"
    store = trust.load_bundle(f.signed_trust_list_bundle(auth, payload, [f.status_list(a)]))
    assert verify(a.qr_text(f.credential(), f.HOST), store, at=f.NOW).valid
    assert [p.part for p in store.problems] == ["key"]
    assert store.unreadable(trust.KeyEntry(b"not DER").kid) is not None


def test_an_organization_entry_without_readable_keys_leaves_unknown_kids_undecided() -> None:
    auth = f.authority()
    a, b, tl = _two(auth)
    payload = tl.to_payload()
    _entry_of_b(payload)["keys"] = "none"
    store = trust.load_bundle(f.signed_trust_list_bundle(auth, payload, [f.status_list(a)]))
    verdict = verify(b.qr_text(_credential_of_b(), f.HOST), store, at=f.NOW)
    assert verdict.status is Status.UNKNOWN and verdict.reason == "organization_unreadable"


def test_a_malformed_log_key_is_set_aside() -> None:
    auth = f.authority()
    a, _, tl = _two(auth)
    payload = tl.to_payload()
    payload["logs"] = [{"name": "日志", "public_key": b"short"}]
    store = trust.load_bundle(f.signed_trust_list_bundle(auth, payload, [f.status_list(a)]))
    assert store.trust_list.logs == () and [p.part for p in store.problems] == ["log"]


def test_a_trust_list_whose_envelope_cannot_be_read_makes_the_bundle_unusable() -> None:
    auth = f.authority()
    _, _, tl = _two(auth)
    payload = tl.to_payload()
    payload["organizations"] = "everyone"
    with pytest.raises(TrustError):
        trust.load_bundle(f.signed_trust_list_bundle(auth, payload))


def test_organization_certificates_carry_the_organization_code() -> None:
    auth = f.authority()
    signer = f.org_signer(auth, code="S000044000002")
    parsed = pki.parse_organization_certificate(signer.certificate.der)
    assert parsed.org_code == "S000044000002"
    assert parsed.issued_by(auth.root)
    assert not parsed.issued_by(f.authority("impostor").root)


def test_a_key_certificate_with_a_malformed_name_is_set_aside_not_an_error() -> None:
    """The certificate library reads names lazily: a broken one must be caught on load."""
    auth = f.authority()
    a, b, tl = _two(auth)
    der = bytearray(b.certificate.der)
    name = "广东某某职业技能培训中心".encode()
    start = der.index(name)
    der[start] = 0xFF  # no longer UTF-8
    payload = tl.to_payload()
    _entry_of_b(payload)["keys"][0]["certificate"] = bytes(der)
    store = trust.load_bundle(f.signed_trust_list_bundle(auth, payload, [f.status_list(a)]))
    assert [p.part for p in store.problems] == ["key"]
    assert verify(a.qr_text(f.credential(), f.HOST), store, at=f.NOW).valid


def test_two_keys_with_one_kid_are_both_set_aside() -> None:
    """The same certificate under two organizations: which one signed cannot be told."""
    auth = f.authority()
    a, b, _ = _two(auth)
    shared = trust.KeyEntry(a.certificate.der)
    orgs = [f.organization([a]), f.organization([b], code=OTHER, keys=[trust.KeyEntry(b.certificate.der), shared])]
    store = f.store(auth, f.trust_list(orgs), [f.status_list(a), f.status_list(b)])
    verdict = verify(a.qr_text(f.credential(), f.HOST), store, at=f.NOW)
    assert (verdict.status, verdict.reason) == (Status.UNKNOWN, "organization_unreadable")
    assert "相同" in verdict.checks[1].detail_zh
    assert verify(b.qr_text(_credential_of_b(), f.HOST), store, at=f.NOW).valid


# --- decided after the independent verifier's comparison (tests/independent/NOTES.md) ---------


def _main_bundle() -> tuple[f.Authority, f.Signer, dict[str, Any]]:
    auth = f.authority()
    signer = f.org_signer(auth)
    tl = f.trust_list([f.organization([signer])])
    return auth, signer, json.loads(f.bundle_json(auth, tl, [f.status_list(signer)]))


@pytest.mark.parametrize("version", [True, False, "2", None, 3, 2.5], ids=repr)
def test_the_bundle_version_is_the_json_number_1_or_2(version: object) -> None:
    _, _, bundle = _main_bundle()
    bundle["version"] = version
    with pytest.raises(TrustError):
        trust.load_bundle(json.dumps(bundle))


def test_the_bundle_version_2_may_be_written_2_0() -> None:
    _, signer, bundle = _main_bundle()
    store = trust.load_bundle(json.dumps(bundle).replace('"version": 2', '"version": 2.0'))
    assert verify(signer.qr_text(f.credential(), f.HOST), store, at=f.NOW).valid


def test_a_bundle_is_utf_8_and_one_leading_byte_order_mark_is_ignored() -> None:
    _, signer, bundle = _main_bundle()
    text = json.dumps(bundle)
    for data in (b"\xef\xbb\xbf" + text.encode(), "\ufeff" + text):
        assert verify(signer.qr_text(f.credential(), f.HOST), trust.load_bundle(data), at=f.NOW).valid
    for data in (
        b"\xef\xbb\xbf\xef\xbb\xbf" + text.encode(),
        text.encode("utf-16"),
        text.encode("utf-16-le"),
        text.encode("utf-32"),
        text.replace("}", ', "x": NaN}').encode(),
    ):
        with pytest.raises(TrustError):
            trust.load_bundle(data)


@pytest.mark.parametrize("lists", [None, {}, "x"], ids=repr)
def test_status_lists_that_are_not_an_array_are_set_aside_and_the_bundle_loads(lists: object) -> None:
    _, signer, bundle = _main_bundle()
    bundle["status_lists"] = lists
    store = trust.load_bundle(json.dumps(bundle))
    assert [p.part for p in store.problems] == ["status_list"] and not store.status_lists
    verdict = verify(signer.qr_text(f.credential(), f.HOST), store, at=f.NOW)
    assert (verdict.status, verdict.reason) == (Status.UNKNOWN, "status_unknown")


@pytest.mark.parametrize("logs", [None, {}, "log"], ids=repr)
def test_logs_that_are_not_an_array_name_no_log_and_the_list_loads(logs: object) -> None:
    auth = f.authority()
    a, _, tl = _two(auth)
    payload = tl.to_payload()
    payload["logs"] = logs
    store = trust.load_bundle(f.signed_trust_list_bundle(auth, payload, [f.status_list(a)]))
    assert store.trust_list.logs == () and [p.part for p in store.problems] == ["log"]
    assert verify(a.qr_text(f.credential(), f.HOST), store, at=f.NOW).valid


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p.update(sequence=-1),
        lambda p: p.update(sequence=True),
        lambda p: p.update(version=True),
        lambda p: p["catalogue"].update(edition=-1),
        lambda p: p.update(sequence=2**64),  # a bignum: a tag, which no signed map holds
        lambda p: p.update(note=1.5),  # a float, even under a key nobody reads
        lambda p: p.update(note=cbor2.CBORTag(1000, 1)),  # a tag, likewise
    ],
    ids=["sequence-negative", "sequence-true", "version-true", "edition-negative", "sequence-bignum", "float", "tag"],
)
def test_an_envelope_field_that_is_not_a_uint_makes_the_list_unusable(change: Any) -> None:
    from issuer.core import cose

    auth = f.authority()
    _, _, tl = _two(auth)
    payload = tl.to_payload()
    change(payload)
    signed = cose.sign(cbor2.dumps(payload, canonical=True), auth.key, pki.kid_of(auth.root_der))
    with pytest.raises(TrustError):
        trust.load_bundle(json.dumps(trust.make_bundle(auth.root_der, signed)))


def test_a_scope_edition_that_is_not_a_uint_sets_the_organization_aside() -> None:
    auth = f.authority()
    a, b, tl = _two(auth)
    payload = tl.to_payload()
    _entry_of_b(payload)["scope"][0]["edition"] = -2022
    store = trust.load_bundle(f.signed_trust_list_bundle(auth, payload, [f.status_list(a)]))
    verdict = verify(b.qr_text(_credential_of_b(), f.HOST), store, at=f.NOW)
    assert (verdict.status, verdict.reason) == (Status.UNKNOWN, "organization_unreadable")
    assert verify(a.qr_text(f.credential(), f.HOST), store, at=f.NOW).valid


@pytest.mark.parametrize(
    "unreadable",
    [lambda keys: keys.append(5), lambda keys: keys[0].update(certificate="not bytes")],
    ids=["key-entry-not-a-map", "certificate-not-bytes"],
)
def test_an_entry_set_aside_with_an_unreadable_key_makes_every_kid_no_usable_key_has_unknown(unreadable: Any) -> None:
    """§6, §8 check 2: the unreadable key could be any credential's signer, so a kid that no
    usable key has is unknown (organization_unreadable), never not_valid."""
    auth = f.authority()
    a, b, tl = _two(auth)
    payload = tl.to_payload()
    entry = _entry_of_b(payload)
    entry["keys"].append({**entry["keys"][0], "certificate": f.org_signer(auth, code=OTHER, seed="b2").certificate.der})
    unreadable(entry["keys"])
    entry["name"] = 7  # set aside
    store = trust.load_bundle(f.signed_trust_list_bundle(auth, payload, [f.status_list(a)]))
    assert verify(a.qr_text(f.credential(), f.HOST), store, at=f.NOW).valid
    stranger = f.org_signer(auth, seed="stranger")
    for text in (b.qr_text(_credential_of_b(), f.HOST), stranger.qr_text(f.credential(), f.HOST)):
        verdict = verify(text, store, at=f.NOW)
        assert (verdict.status, verdict.failed_check, verdict.reason) == (
            Status.UNKNOWN,
            None,
            "organization_unreadable",
        )


def test_a_certificate_an_entry_set_aside_holds_is_not_usable_under_another_organization() -> None:
    auth = f.authority()
    a, _, tl = _two(auth)
    payload = tl.to_payload()
    entry = _entry_of_b(payload)
    entry["keys"].append(dict(entry["keys"][0], certificate=a.certificate.der))
    entry["status"] = "active"  # set aside
    store = trust.load_bundle(f.signed_trust_list_bundle(auth, payload, [f.status_list(a)]))
    assert store.key(a.kid) is None
    verdict = verify(a.qr_text(f.credential(), f.HOST), store, at=f.NOW)
    assert (verdict.status, verdict.reason) == (Status.UNKNOWN, "organization_unreadable")


def test_a_refused_list_signed_by_a_key_set_aside_concerns_its_organization() -> None:
    """§7: the organization whose entry lists the signing key, usable or set aside, has its
    list set aside (status_list_unusable); a root-signed list set aside concerns none."""
    auth = f.authority()
    a, _, tl = _two(auth)
    payload = tl.to_payload()
    garbage = b"\x30\x03\x02\x01\x01"
    next(o for o in payload["organizations"] if o["code"] == f.ORG_CODE)["keys"].append(
        {"certificate": garbage, "status": "active", "compromised_at": None, "retired_at": None}
    )

    by_aside = statuslist.StatusList.of(f.ORG_CODE, set(), f.STATUS_AT).sign(a.key, pki.kid_of(garbage))
    store = trust.load_bundle(f.signed_trust_list_bundle(auth, payload, [by_aside]))
    verdict = verify(a.qr_text(f.credential(), f.HOST), store, at=f.NOW)
    assert (verdict.status, verdict.reason) == (Status.UNKNOWN, "status_list_unusable")
    broken_root_list = bytearray(f.root_status_list(auth))
    broken_root_list[-1] ^= 1
    store = trust.load_bundle(f.signed_trust_list_bundle(auth, payload, [bytes(broken_root_list)]))
    verdict = verify(a.qr_text(f.credential(), f.HOST), store, at=f.NOW)
    assert (verdict.status, verdict.reason) == (Status.UNKNOWN, "status_unknown")


def test_a_key_of_an_algorithm_nobody_knows_sets_its_organization_aside_and_loads_the_rest() -> None:
    """The certificate library cannot even name such a key; the bundle still loads."""
    from issuer.core import pki
    from issuer.core.errors import TrustError

    auth = f.authority()
    good, odd = f.org_signer(auth), f.org_signer(auth, code="S000044000002", seed="odd")
    ed25519 = bytes.fromhex("06032b6570")  # the OID 1.3.101.112: in the TBS signature, the key, the signature
    der = odd.certificate.der
    at = der.index(ed25519, der.index(ed25519) + 1)  # the key's
    unknown = der[:at] + bytes.fromhex("06032b6579") + der[at + len(ed25519) :]
    with pytest.raises(TrustError) as refused:
        pki.parse_organization_certificate(unknown)
    assert refused.value.message == "organization key is not Ed25519"
    entries = [
        f.organization([good]),
        f.organization([odd], code="S000044000002", keys=[trust.KeyEntry(unknown)]),
    ]
    store = f.store(auth, f.trust_list(entries), [f.status_list(good)])
    assert [(p.part, p.organization) for p in store.problems] == [("key", "S000044000002")]
    assert store.key(good.kid) is not None
