"""The bundle manifest binds a bundle's parts: a status list or tree head it does not name
is set aside, so an older list cannot be slipped in beside the current trust list."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from issuer.core import trust
from issuer.core.manifest import Manifest, ManifestError, open_manifest
from issuer.core.transparency import TreeHead
from issuer.core.verify import Status, verify
from tests import factories as f

LOG_KEY, LOG = f.log_key()
REVOKED = f.credential().status_index
assert REVOKED is not None


def _bundle(*, lists: list[bytes], named: bytes, head: bytes | None = None, sign_with: object = LOG_KEY) -> str:
    """A bundle holding ``lists`` whose manifest names the organization's list ``named`` (and ``head``)."""
    auth = f.authority()
    tl = f.trust_list([f.world().organization], logs=[LOG])
    signed_tl = tl.sign(auth.key, auth.root)
    manifest = Manifest.of(f.STATUS_AT, signed_tl, head, {f.ORG_CODE: named})
    signed_manifest = manifest.sign(sign_with, LOG.kid)  # type: ignore[arg-type]
    return json.dumps(trust.make_bundle(auth.root_der, signed_tl, lists, head, signed_manifest))


def _lists() -> tuple[bytes, bytes]:
    signer = f.world().signer
    before = f.status_list(signer, issued_at=f.STATUS_AT - timedelta(hours=1))
    after = f.status_list(signer, [REVOKED], issued_at=f.STATUS_AT)
    return before, after


def test_the_list_the_manifest_names_is_kept() -> None:
    _, after = _lists()
    store = trust.load_bundle(_bundle(lists=[after], named=after))
    assert store.manifest is not None and not store.problems
    assert verify(f.world().qr(), store, at=f.NOW).status is Status.REVOKED


def test_an_older_list_in_place_of_the_named_one_is_set_aside() -> None:
    before, after = _lists()
    store = trust.load_bundle(_bundle(lists=[before], named=after))
    verdict = verify(f.world().qr(), store, at=f.NOW)
    assert verdict.status is Status.UNKNOWN  # never valid: the revocation cannot be hidden
    assert [(p.part, p.code) for p in store.problems] == [("status_list", "invalid_manifest")]


def test_without_a_manifest_the_newest_list_wins_as_before() -> None:
    before, after = _lists()
    auth = f.authority()
    bundle = f.bundle_json(auth, f.trust_list([f.world().organization]), [before, after])
    assert verify(f.world().qr(), trust.load_bundle(bundle), at=f.NOW).status is Status.REVOKED


def test_a_tree_head_the_manifest_does_not_name_is_set_aside() -> None:
    _, after = _lists()
    head = TreeHead(3, bytes(32), f.STATUS_AT).sign(LOG_KEY, LOG.kid).signed
    other = TreeHead(2, bytes(32), f.STATUS_AT).sign(LOG_KEY, LOG.kid).signed
    bundle = json.loads(_bundle(lists=[after], named=after, head=head))
    assert trust.load_bundle(json.dumps(bundle)).tree_head is not None
    bundle["tree_head"] = base64.b64encode(other).decode()
    store = trust.load_bundle(json.dumps(bundle))
    assert store.tree_head is None and [p.code for p in store.problems] == ["invalid_manifest"]


def test_a_manifest_not_signed_by_a_log_key_is_set_aside_and_binds_nothing() -> None:
    before, after = _lists()
    store = trust.load_bundle(_bundle(lists=[before, after], named=after, sign_with=f.seeded_key("not the log")))
    assert store.manifest is None and [p.part for p in store.problems] == ["manifest"]
    assert store.status_list(f.ORG_CODE) is not None


def test_a_manifest_of_another_trust_list_is_refused() -> None:
    auth = f.authority()
    tl = f.trust_list([f.world().organization], logs=[LOG])
    signed = tl.sign(auth.key, auth.root)
    other = f.trust_list([f.world().organization], logs=[LOG], sequence=9).sign(auth.key, auth.root)
    store = trust.TrustStore.from_signed(signed, auth.root)
    manifest = Manifest.of(f.STATUS_AT, other, None, {}).sign(LOG_KEY, LOG.kid)
    with pytest.raises(ManifestError):
        store.set_manifest(manifest)
    assert open_manifest(manifest, store).trust_list != bytes(32)


@pytest.mark.parametrize("version", [True, 2**64, -1], ids=["true", "bignum", "negative"])
def test_a_manifest_whose_version_is_not_the_uint_1_is_set_aside(version: object) -> None:
    """It binds nothing: the list the bundle holds is kept although the manifest names another."""
    from issuer.core import cbor, cose

    before, after = _lists()
    auth = f.authority()
    tl = f.trust_list([f.world().organization], logs=[LOG])
    signed_tl = tl.sign(auth.key, auth.root)
    payload = {**Manifest.of(f.STATUS_AT, signed_tl, None, {f.ORG_CODE: after}).to_payload(), "version": version}
    signed_manifest = cose.sign(cbor.encode(payload), LOG_KEY, LOG.kid)
    store = trust.load_bundle(json.dumps(trust.make_bundle(auth.root_der, signed_tl, [before], None, signed_manifest)))
    assert store.manifest is None and [p.part for p in store.problems] == ["manifest"]
    assert verify(f.world().qr(), store, at=f.NOW).status is Status.VALID


def test_its_digests_are_made_with_the_hash_of_its_signers_suite() -> None:
    import hashlib

    from issuer.core import suites
    from issuer.core.sm2 import Sm2PrivateKey

    signed_tl = b"a signed trust list"
    sm2 = Manifest.of(f.STATUS_AT, signed_tl, None, {}, suites.SM2_SM3)
    assert sm2.trust_list == hashlib.new("sm3", signed_tl).digest() == sm2.digest(signed_tl)
    assert Manifest.of(f.STATUS_AT, signed_tl, None, {}).trust_list == hashlib.sha256(signed_tl).digest()
    sm2_key = Sm2PrivateKey.generate()
    kid = trust.LogKey.of("", sm2_key).kid
    with pytest.raises(ValueError):  # SHA-256 digests under an SM2 signature: the verifier would use SM3
        Manifest.of(f.STATUS_AT, signed_tl, None, {}).sign(sm2_key, kid)
    opened = open_manifest(sm2.sign(sm2_key, kid), _Keys(trust.LogKey.of("", sm2_key)))
    assert opened == sm2 and opened.suite is suites.SM2_SM3


class _Keys:
    def __init__(self, key: trust.LogKey) -> None:
        self._key = key

    def log_key(self, kid: bytes) -> trust.LogKey | None:
        return self._key if kid == self._key.kid else None
