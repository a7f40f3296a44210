"""The encrypted-file key store with keys of both suites: an SM2 key (written by libcrypto,
PBES2 with SM4) comes back from its file and signs what verifies, an Ed25519 key is written
and read by ``cryptography`` as before, and a file with a wrong passphrase, damaged bytes or
another kind of key is refused with the store's errors."""

from __future__ import annotations

import base64
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from issuer.core import pki
from issuer.core.numbering import OrganizationCode
from issuer.core.sm2 import Sm2PrivateKey
from issuer.core.verify import verify
from issuer.store.keystore import KeyRing, KeyStore, KeyStoreError
from tests import factories as f

PASSPHRASE = "test-passphrase"
AES_256_CBC = bytes.fromhex("060960864801650304012a")  # OID 2.16.840.1.101.3.4.1.42

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl command is not installed")


def _authority(key: Ed25519PrivateKey | Sm2PrivateKey) -> f.Authority:
    return f.Authority(key, pki.create_root(key, f.AUTHORITY, not_before=f.T0))


def _save_organization_key(
    store: KeyStore, auth: f.Authority, key: Ed25519PrivateKey | Sm2PrivateKey
) -> tuple[bytes, Path]:
    """The kid of ``key`` saved under a certificate of ``auth``, and its key file."""
    cert = pki.create_organization_certificate(
        root_key=auth.key,
        root=auth.root,
        public_key=key.public_key(),
        org_code=OrganizationCode.parse(f.ORG_CODE),
        org_name=f.ORG_NAME,
        not_before=f.T0,
        not_after=f.T_END,
    )
    kid = store.save_organization_key(key, cert)
    return kid, store.org_dir(f.ORG_CODE) / f"{kid.hex()}.key.pem"


def _der(pem: bytes) -> bytes:
    lines = pem.strip().splitlines()
    return base64.b64decode(b"".join(lines[1:-1]))


def test_an_sm2_organization_key_comes_back_and_signs_credentials_that_verify(tmp_path: Path) -> None:
    store, auth, key = (
        KeyStore(tmp_path / "keys", PASSPHRASE),
        _authority(Sm2PrivateKey.generate()),
        Sm2PrivateKey.generate(),
    )
    kid, _ = _save_organization_key(store, auth, key)

    from_store = store.signer(f.ORG_CODE, kid)
    from_ring = KeyRing(store).signer(f.ORG_CODE, kid.hex())
    trusted = f.store(auth, f.trust_list([f.organization([from_store])]), [f.status_list(from_store)])
    for signer in (from_store, from_ring):
        assert isinstance(signer.key, Sm2PrivateKey) and signer.key.public_key() == key.public_key()
        assert signer.kid == kid
        verdict = verify(signer.qr_text(f.credential(), f.HOST), trusted, at=f.NOW)
        assert verdict.valid and verdict.suite == "sm2-sm3", verdict


def test_an_sm2_key_file_is_mode_0600_and_holds_no_clear_scalar(tmp_path: Path) -> None:
    store, key = KeyStore(tmp_path / "keys", PASSPHRASE), Sm2PrivateKey.generate()
    _, path = _save_organization_key(store, _authority(Sm2PrivateKey.generate()), key)
    assert path.stat().st_mode & 0o777 == 0o600
    data = path.read_bytes()
    assert data.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    assert key.private_raw() not in _der(data) and PASSPHRASE.encode() not in data


def test_an_sm2_authority_key_is_saved_and_loaded(tmp_path: Path) -> None:
    store, auth = KeyStore(tmp_path / "keys", PASSPHRASE), _authority(Sm2PrivateKey.generate())
    store.save_authority(auth.key, auth.root)
    assert store.authority_key_path.stat().st_mode & 0o777 == 0o600
    for key, root in (store.load_authority(), KeyRing(store).authority()):
        assert isinstance(key, Sm2PrivateKey) and key.public_key() == auth.key.public_key()
        assert root == auth.root


def test_an_ed25519_key_is_written_by_cryptography_as_before(tmp_path: Path) -> None:
    store, auth = KeyStore(tmp_path / "keys", PASSPHRASE), _authority(Ed25519PrivateKey.generate())
    store.save_authority(auth.key, auth.root)
    data = store.authority_key_path.read_bytes()
    assert data.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n") and AES_256_CBC in _der(data)
    again = serialization.load_pem_private_key(data, PASSPHRASE.encode())
    assert isinstance(again, Ed25519PrivateKey)
    key, _ = store.load_authority()
    assert isinstance(key, Ed25519PrivateKey) and key.public_key() == auth.key.public_key()


@pytest.mark.parametrize("make", [Sm2PrivateKey.generate, Ed25519PrivateKey.generate], ids=["sm2", "ed25519"])
def test_a_wrong_passphrase_or_a_damaged_file_is_unreadable_for_either_suite(
    tmp_path: Path, make: Callable[[], Ed25519PrivateKey | Sm2PrivateKey]
) -> None:
    store, auth = KeyStore(tmp_path / "keys", PASSPHRASE), _authority(make())
    store.save_authority(auth.key, auth.root)
    with pytest.raises(KeyStoreError) as refused:
        KeyStore(store.root, "another passphrase").load_authority()
    assert refused.value.code == "key_unreadable"
    path = store.authority_key_path
    path.write_bytes(path.read_bytes()[:100] + b"\n-----END ENCRYPTED PRIVATE KEY-----\n")
    with pytest.raises(KeyStoreError) as refused:
        store.load_authority()
    assert refused.value.code == "key_unreadable"


def test_a_missing_key_file_is_key_missing(tmp_path: Path) -> None:
    with pytest.raises(KeyStoreError) as refused:
        KeyStore(tmp_path / "keys", PASSPHRASE).load_authority()
    assert refused.value.code == "key_missing"


def test_a_key_of_another_kind_is_refused(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys", PASSPHRASE)
    store.authority_key_path.parent.mkdir(parents=True)
    store.authority_key_path.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(PASSPHRASE.encode()),
        )
    )
    with pytest.raises(KeyStoreError) as refused:
        store.load_authority()
    assert refused.value.code == "key_type"


@needs_openssl
def test_an_ed25519_key_encrypted_with_sm4_is_refused_as_not_sm2(tmp_path: Path) -> None:
    """cryptography cannot open SM4, so libcrypto does, and finds a key that is not SM2."""
    store = KeyStore(tmp_path / "keys", PASSPHRASE)
    (tmp_path / "clear.pem").write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    (tmp_path / "pass").write_text(PASSPHRASE)
    store.authority_key_path.parent.mkdir(parents=True)
    command = ["openssl", "pkcs8", "-topk8", "-in", "clear.pem", "-v2", "sm4-cbc", "-passout", "file:pass"]
    command += ["-out", str(store.authority_key_path)]
    subprocess.run(command, cwd=tmp_path, capture_output=True, check=True)
    with pytest.raises(KeyStoreError) as refused:
        store.load_authority()
    assert refused.value.code == "key_type"


@needs_openssl
def test_openssl_reads_an_sm2_key_file_of_the_store(tmp_path: Path) -> None:
    store, key = KeyStore(tmp_path / "keys", PASSPHRASE), Sm2PrivateKey.generate()
    _, path = _save_organization_key(store, _authority(Sm2PrivateKey.generate()), key)
    (tmp_path / "pass").write_text(PASSPHRASE)
    command = ["openssl", "pkey", "-in", str(path), "-passin", "file:pass", "-pubout", "-outform", "DER"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, check=False)
    assert done.returncode == 0 and done.stdout == key.public_key().spki(), done.stderr
