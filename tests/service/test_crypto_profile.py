"""``ISSUER_CRYPTO_PROFILE``: the suite is chosen when the authority root is made, and every
key made after it follows the root. A deployment of the 国密 profile signs its trust list,
organization keys, credentials, status lists and tree heads with SM2, and its verification
says so; a profile that names another suite than the existing root's stops the service."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask

from issuer.app import create_app
from issuer.config import ConfigError
from issuer.core import auditor, cose, merkle, pki, qrtext, suites, trust
from issuer.core.manifest import read_unverified
from issuer.core.sm2 import Sm2PublicKey
from issuer.core.verify import verify
from issuer.service import audit, bootstrap
from issuer.service.pii import DocumentCipher
from issuer.service.principal import OPERATOR
from issuer.service.wiring import UseCases
from issuer.store.keystore import KeyStore
from tests.builders import issue_request
from tests.conftest import PROFILE, issuer_principal, register


def _sm2_keys(tmp_path: Path) -> Path:
    folder = tmp_path / "sm2-keys"
    made = bootstrap.init_authority(
        KeyStore(folder, "test-passphrase"),
        "人社部（国密测试）",
        now=datetime(2024, 1, 1, tzinfo=UTC),
        suite=suites.SM2_SM3,
    )
    assert made
    return folder


def test_a_deployment_of_the_sm2_profile_signs_everything_with_sm2(
    app_with: Callable[..., Flask], tmp_path: Path
) -> None:
    sm2_app = app_with(KEYS_DIR=str(_sm2_keys(tmp_path)), CRYPTO_PROFILE="sm2")
    use: UseCases = sm2_app.extensions["issuer.use_cases"]
    register(use)
    record, _ = use.issuing.issue(issuer_principal(use), issue_request())
    assert cose.parse(record.credential).alg == suites.SM2_SM3.alg
    assert use.ctx.cipher.lookup_hash("110105194912310021") == DocumentCipher(
        sm2_app.config["DATA_KEY"], suites.SM2_SM3
    ).lookup_hash("110105194912310021")  # HMAC-SM3, and SM4-GCM beside it
    _, bundle = use.publishing.bundle()
    store = trust.load_bundle(json.dumps(bundle))
    assert not store.problems and store.tree_head is not None  # the tree head: signed by an SM2 log key
    assert isinstance(pki.root_public_key(store.root), Sm2PublicKey)
    assert {log.suite for log in store.trust_list.logs} == {suites.SM2_SM3}
    verdict = verify(qrtext.encode(record.credential, use.ctx.qr_host), store, at=use.ctx.clock())
    assert verdict.valid and verdict.suite == "sm2-sm3"


def test_its_log_and_manifest_hash_with_sm3(app_with: Callable[..., Flask], tmp_path: Path) -> None:
    """The transparency log's Merkle tree and the manifest's digests use the suite's hash:
    the root of the tree head is the SM3 tree of the entries (RFC 9162 with SM3 for SHA-256),
    not the SHA-256 one, and proofs and the auditor follow it."""
    sm2_app = app_with(KEYS_DIR=str(_sm2_keys(tmp_path)), CRYPTO_PROFILE="sm2")
    use: UseCases = sm2_app.extensions["issuer.use_cases"]
    register(use)
    use.issuing.issue(issuer_principal(use), issue_request())
    head = use.log.latest_head()
    assert head is not None and head.tree_hash is merkle.SM3
    data = [d for _, d in use.log.entries(0, head.tree_size)]
    assert merkle.MemoryTree((merkle.SM3.leaf(d) for d in data), merkle.SM3).root() == head.root_hash
    assert merkle.MemoryTree(merkle.SHA256.leaf(d) for d in data).root() != head.root_hash
    proof = use.log.inclusion(leaf_index=head.tree_size - 1, number=None, tree_size=None)
    assert proof.leaf_hash == merkle.SM3.leaf(data[-1])
    merkle.verify_inclusion(proof.leaf_hash, proof.leaf_index, head.tree_size, proof.proof, head.root_hash, merkle.SM3)
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(proof.leaf_hash, proof.leaf_index, head.tree_size, proof.proof, head.root_hash)

    _, bundle = use.publishing.bundle()
    named = read_unverified(base64.b64decode(bundle["manifest"]))
    assert named.suite is suites.SM2_SM3
    assert named.tree_head == hashlib.new("sm3", head.signed).digest()
    store = trust.load_bundle(json.dumps(bundle))
    assert not store.problems and store.manifest == named
    report = auditor.audit(store, head.signed, enumerate(data))
    assert report.findings == [] and report.entries == head.tree_size


def test_its_audit_trail_is_chained_with_sm3(app_with: Callable[..., Flask], tmp_path: Path) -> None:
    sm2_app = app_with(KEYS_DIR=str(_sm2_keys(tmp_path)), CRYPTO_PROFILE="sm2")
    use: UseCases = sm2_app.extensions["issuer.use_cases"]
    register(use)
    page = use.audit.read(OPERATOR, after_id=0, limit=100)
    assert page.intact and page.events
    first = page.events[0]
    fields = (first.prev_hash, first.at, first.actor, first.action, first.target, first.details)
    assert first.hash == audit.event_hash(suites.SM2_SM3, *fields) != audit.event_hash(suites.ED25519, *fields)
    assert audit.first_break(page.events, suites.ED25519) is not None
    unset = app_with(
        KEYS_DIR=sm2_app.config["KEYS_DIR"], DATABASE_URL=sm2_app.config["DATABASE_URL"], CRYPTO_PROFILE=""
    )
    again: UseCases = unset.extensions["issuer.use_cases"]  # the profile unset: the root's suite
    assert again.ctx.crypto_suite is suites.SM2_SM3 and again.audit.read(OPERATOR, after_id=0, limit=100).events
    assert again.audit.check() is None


def test_the_api_says_which_suite_it_checked(app_with: Callable[..., Flask], tmp_path: Path) -> None:
    sm2_app = app_with(KEYS_DIR=str(_sm2_keys(tmp_path)), CRYPTO_PROFILE="sm2")
    use: UseCases = sm2_app.extensions["issuer.use_cases"]
    register(use)
    record, _ = use.issuing.issue(issuer_principal(use), issue_request())
    text = qrtext.encode(record.credential, use.ctx.qr_host)
    answer = sm2_app.test_client().post("/api/v1/verify", json={"qr_text": text})
    assert answer.status_code == 200, answer.get_json()
    assert (answer.get_json()["status"], answer.get_json()["signature_suite"]) == ("valid", "sm2-sm3")


def test_a_profile_that_is_not_the_roots_stops_the_service(app: Flask) -> None:
    other = "sm2" if PROFILE == "ed25519" else "ed25519"
    with pytest.raises(ConfigError) as stopped:
        create_app({**app.config, "CRYPTO_PROFILE": other})
    line = str(stopped.value)
    assert f"ISSUER_CRYPTO_PROFILE={other}" in line and "when the root is made" in line and "\n" not in line


@pytest.mark.parametrize("value", ["rsa", "SM3", "sm2-sm3"])
def test_a_profile_of_no_suite_is_refused_in_one_line(app: Flask, value: str) -> None:
    with pytest.raises(ConfigError, match="ISSUER_CRYPTO_PROFILE is ed25519 or sm2"):
        create_app({**app.config, "CRYPTO_PROFILE": value})


def test_the_sm2_profile_needs_the_file_backend(app: Flask, tmp_path: Path) -> None:
    module = tmp_path / "libtoken.so"
    module.write_bytes(b"")
    config = {**app.config, "CRYPTO_PROFILE": "sm2", "KEY_BACKEND": "pkcs11", "PKCS11_MODULE": str(module)}
    config |= {"PKCS11_TOKEN": "issuer", "PKCS11_PIN": "1234"}
    with pytest.raises(ConfigError, match="needs ISSUER_KEY_BACKEND=file"):
        create_app(config)
