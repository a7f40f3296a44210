"""X.509 in the 国密 suite: an SM2 root and SM2 organization certificates signed with
SM2-with-SM3. ``openssl`` checks the chain with the standard distinguishing ID; ``gmssl``
checks the certificate's signature. A root certifies keys of its own suite only."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from issuer.core import pki, sm2, sm2x509, suites
from issuer.core.errors import TrustError
from issuer.core.numbering import OrganizationCode
from issuer.core.signing import Signer, SignerMismatch
from issuer.core.sm2 import DEFAULT_ID, Sm2PrivateKey, Sm2PublicKey
from tests import factories as f
from tests.core.test_sm2 import _gmssl

SM2 = suites.SM2_SM3


def _org_certificate(auth: f.Authority, key: object, code: str = f.ORG_CODE) -> bytes:
    cert = pki.create_organization_certificate(
        root_key=auth.key,
        root=auth.root,
        public_key=key,  # type: ignore[arg-type]
        org_code=OrganizationCode.parse(code),
        org_name=f.ORG_NAME,
        not_before=f.T0,
        not_after=f.T_END,
    )
    return pki.der(cert)


def test_an_sm2_root_is_self_signed_with_sm2_with_sm3() -> None:
    auth = f.authority("sm2 root", suite=SM2)
    assert auth.root.signature_algorithm_oid == sm2x509.SM2_WITH_SM3
    assert pki.root_public_key(auth.root) == auth.key.public_key()
    assert sm2x509.issued_by(auth.root, auth.key.public_key())  # type: ignore[arg-type]
    assert pki.kid_of(auth.root_der) == sm2.sm3(auth.root_der)[:4]


def test_an_organization_certificate_binds_its_sm2_key_to_the_code_under_the_root() -> None:
    auth, key = f.authority("sm2 root", suite=SM2), Sm2PrivateKey.generate()
    parsed = pki.parse_organization_certificate(_org_certificate(auth, key.public_key()))
    assert (parsed.org_code, parsed.public_key) == (f.ORG_CODE, key.public_key())
    assert parsed.is_signing_certificate() and parsed.issued_by(auth.root)
    assert not parsed.issued_by(f.authority("another sm2 root", suite=SM2).root)
    assert not parsed.issued_by(f.authority().root)  # an Ed25519 root


def test_a_changed_byte_of_the_signed_part_breaks_the_chain() -> None:
    auth = f.authority("sm2 root", suite=SM2)
    der = _org_certificate(auth, Sm2PrivateKey.generate().public_key())
    at = der.index(f.ORG_CODE.encode())
    changed = der[:at] + b"Z" + der[at + 1 :]
    assert not pki.parse_organization_certificate(changed).issued_by(auth.root)


@pytest.mark.parametrize(
    ("root_suite", "key"),
    [(SM2, f.seeded_key("ed25519 org").public_key()), (suites.ED25519, Sm2PrivateKey.generate().public_key())],
    ids=["ed25519 key under an sm2 root", "sm2 key under an ed25519 root"],
)
def test_a_root_certifies_keys_of_its_own_suite_only(root_suite: suites.Suite, key: object) -> None:
    with pytest.raises(TrustError, match="different signature suites"):
        _org_certificate(f.authority("root", suite=root_suite), key)


def test_a_signer_refuses_a_key_that_is_not_its_certificates() -> None:
    auth = f.authority("sm2 root", suite=SM2)
    der = _org_certificate(auth, Sm2PrivateKey.generate().public_key())
    with pytest.raises(SignerMismatch):
        Signer.from_der(Sm2PrivateKey.generate(), der)


def _pem(der: bytes) -> bytes:
    from cryptography import x509

    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl command is not installed")
def test_openssl_verifies_the_sm2_chain_with_the_standard_id(tmp_path: Path) -> None:
    auth = f.authority("sm2 root", suite=SM2)
    (tmp_path / "root.pem").write_bytes(_pem(auth.root_der))
    (tmp_path / "org.pem").write_bytes(_pem(_org_certificate(auth, Sm2PrivateKey.generate().public_key())))
    (tmp_path / "other.pem").write_bytes(_pem(f.authority("another sm2 root", suite=SM2).root_der))

    def check(ca: str) -> subprocess.CompletedProcess[bytes]:
        command = ["openssl", "verify", "-vfyopt", f"distid:{DEFAULT_ID.decode()}", "-CAfile", ca, "org.pem"]
        return subprocess.run(command, cwd=tmp_path, capture_output=True, check=False)

    good = check("root.pem")
    assert good.returncode == 0 and b"org.pem: OK" in good.stdout, good.stderr
    assert check("other.pem").returncode != 0


def test_gmssl_verifies_the_organization_certificates_signature() -> None:
    from cryptography import x509

    auth = f.authority("sm2 root", suite=SM2)
    cert = x509.load_der_x509_certificate(_org_certificate(auth, Sm2PrivateKey.generate().public_key()))
    root_key = pki.root_public_key(auth.root)
    assert isinstance(root_key, Sm2PublicKey)
    signature = sm2.from_der(cert.signature)
    assert _gmssl(root_key.raw()).verify_with_sm3(signature.hex(), cert.tbs_certificate_bytes)
