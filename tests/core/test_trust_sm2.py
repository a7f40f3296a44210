"""Offline verification in the 国密 suite: a trust list, status lists, a log key and its tree
heads signed with SM2 are read as the Ed25519 ones are, a credential verifies with the
verifier's own rules, and the verdict says which suite it checked. The suites never vouch
for each other."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from issuer.core import cose, merkle, sm2, suites, trust
from issuer.core.sm2 import Sm2PrivateKey
from issuer.core.transparency import TreeHead
from issuer.core.verify import verify
from tests import factories as f

SM2 = suites.SM2_SM3


def test_an_sm2_credential_verifies_offline_and_says_which_suite_it_checked() -> None:
    world = f.world(SM2)
    message = cose.parse(world.signer.sign(f.credential()))
    assert (message.alg, len(message.kid)) == (SM2.alg, 4)
    verdict = verify(world.qr(), world.store, at=f.NOW)
    assert verdict.valid and verdict.suite == "sm2-sm3"
    ed25519_world = f.world()
    assert verify(ed25519_world.qr(), ed25519_world.store, at=f.NOW).suite == "ed25519"


def test_an_sm2_credential_is_refused_by_an_ed25519_trust_list_and_the_other_way_round() -> None:
    sm2_world, ed25519_world = f.world(SM2), f.world()
    assert verify(sm2_world.qr(), ed25519_world.store, at=f.NOW).failed_check == "known_key"
    assert verify(ed25519_world.qr(), sm2_world.store, at=f.NOW).failed_check == "known_key"


def _bundle_with_log(world: f.World, log: trust.LogKey, head: bytes | None) -> trust.TrustStore:
    listed = f.trust_list([world.organization], logs=[log])
    signed = listed.sign(world.authority.key, world.authority.root)
    bundle = trust.make_bundle(world.authority.root_der, signed, [f.status_list(world.signer)], head)
    return trust.load_bundle(json.dumps(bundle))


def test_an_sm2_log_key_signs_tree_heads_that_the_trust_list_vouches_for() -> None:
    world, key = f.world(SM2), Sm2PrivateKey.generate()
    log = trust.LogKey.of("国密日志", key)
    assert (len(log.public_key_raw), log.kid) == (65, sm2.sm3(log.public_key_raw)[:4])
    head = TreeHead(1, merkle.SHA256.leaf(b"an entry"), datetime(2026, 11, 28, tzinfo=UTC)).sign(key, log.kid)
    assert cose.parse(head.signed).alg == SM2.alg
    store = _bundle_with_log(world, log, head.signed)
    assert not store.problems and store.tree_head is not None and store.tree_head.tree_size == 1


def test_a_65_byte_log_key_off_the_curve_is_set_aside() -> None:
    world = f.world(SM2)
    store = _bundle_with_log(world, trust.LogKey("坏日志", b"\x04" + bytes(64)), None)
    assert [p.message for p in store.problems] == ["trust list: an SM2 log key is not a point of the curve"]
    assert store.log_key(suites.SM2_SM3.kid(b"\x04" + bytes(64))) is None
