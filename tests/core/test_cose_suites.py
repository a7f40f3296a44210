"""COSE_Sign1 in both signature suites: a message names its algorithm, a key verifies only
messages of its own suite, every changed byte of an SM2 message is refused, and what an
SM2 message signs is the RFC 9052 Sig_structure that ``openssl`` and ``gmssl`` check
with the standard distinguishing ID."""

from __future__ import annotations

from pathlib import Path

import cbor2
import pytest
import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from issuer.core import cose, pki, qrtext, sm2, suites
from issuer.core.credential import encode_payload
from issuer.core.errors import CredentialFormatError
from issuer.core.sm2 import DEFAULT_ID, Sm2PrivateKey
from tests import factories
from tests.core.test_sm2 import _gmssl, _openssl_verifies, needs_openssl

SM2_KEY, ED25519_KEY = Sm2PrivateKey.generate(), Ed25519PrivateKey.generate()
SM2_KID = suites.SM2_SM3.kid(b"the organization's certificate")
PAYLOAD = encode_payload(factories.credential())


def _message() -> bytes:
    return cose.sign(PAYLOAD, SM2_KEY, SM2_KID)


def test_an_sm2_message_names_sm2_in_a_header_as_long_as_ed25519s() -> None:
    signed = cose.parse(_message())
    assert signed.protected == bytes.fromhex("a2013a0001000004") + b"\x44" + SM2_KID
    assert len(signed.protected) == len(cose.protected_header(bytes(8))) == 13
    assert (signed.alg, signed.suite.name, signed.kid, signed.payload) == (-65537, "sm2-sm3", SM2_KID, PAYLOAD)


def test_a_key_verifies_only_messages_of_its_own_suite() -> None:
    sm2_message = cose.parse(_message())
    ed25519_message = cose.parse(cose.sign(PAYLOAD, ED25519_KEY, bytes(8)))
    assert sm2_message.verify(SM2_KEY.public_key())
    assert not sm2_message.verify(Sm2PrivateKey.generate().public_key())
    assert not sm2_message.verify(ED25519_KEY.public_key())
    assert ed25519_message.verify(ED25519_KEY.public_key())
    assert not ed25519_message.verify(SM2_KEY.public_key())


def test_an_ed25519_signature_relabelled_as_sm2_verifies_with_neither_key() -> None:
    message = cose.parse(cose.sign(PAYLOAD, ED25519_KEY, bytes(4) * 2))
    relabelled = cose.Sign1(
        cose.protected_header(SM2_KID, suites.SM2_SM3.alg), SM2_KID, PAYLOAD, message.signature, -65537
    )
    assert not relabelled.verify(ED25519_KEY.public_key())
    assert not relabelled.verify(SM2_KEY.public_key())


@pytest.mark.parametrize(("key", "kid"), [(SM2_KEY, bytes(8)), (ED25519_KEY, bytes(4))], ids=["sm2", "ed25519"])
def test_signing_refuses_a_kid_of_the_other_suites_length(key: object, kid: bytes) -> None:
    with pytest.raises(ValueError, match="kid"):
        cose.sign(PAYLOAD, key, kid)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("alg", "kid", "words"),
    [(-7, bytes(4), "neither EdDSA"), (-65537, bytes(8), "kid is not 4 bytes"), (-8, bytes(4), "kid is not 8 bytes")],
    ids=["ES256", "sm2 with an 8-byte kid", "ed25519 with a 4-byte kid"],
)
def test_a_header_of_no_suite_is_not_decodable(alg: int, kid: bytes, words: str) -> None:
    message = cose.parse(_message())
    protected = cose.protected_header(kid, alg)
    forged = cose.Sign1(protected, kid, message.payload, message.signature)
    with pytest.raises(CredentialFormatError, match=words):
        cose.parse(_encode(forged))


def _encode(message: cose.Sign1) -> bytes:
    return cbor2.dumps(cbor2.CBORTag(cose.COSE_SIGN1_TAG, [message.protected, {}, message.payload, message.signature]))


def test_every_changed_byte_of_an_sm2_message_is_refused() -> None:
    data = _message()
    public = SM2_KEY.public_key()
    for position in range(len(data)):
        changed = bytearray(data)
        changed[position] ^= 0x01
        try:
            accepted = cose.parse(bytes(changed)).verify(public)
        except CredentialFormatError:
            accepted = False
        assert not accepted, position


@needs_openssl
def test_openssl_and_gmssl_verify_the_sig_structure_an_sm2_message_signs(tmp_path: Path) -> None:
    message = cose.parse(_message())
    signed = cose.to_be_signed(message.protected, message.payload)
    assert signed.startswith(bytes.fromhex("846a") + b"Signature1" + b"\x4d" + message.protected)
    assert _openssl_verifies(tmp_path, SM2_KEY.public_key(), message.signature, signed, ident=DEFAULT_ID)
    assert _gmssl(SM2_KEY.public_key().raw()).verify_with_sm3(message.signature.hex(), signed)


def test_the_typical_credential_signed_with_sm2_fits_the_same_qr_version() -> None:
    ed25519 = factories.world().signer.sign(factories.credential())
    versions = [
        segno.make(qrtext.encode(m, factories.HOST), error="m", boost_error=False).version
        for m in (ed25519, _message())
    ]
    assert versions == [10, 10] and len(_message()) == len(ed25519)


def test_a_kid_is_the_suites_hash_of_the_certificate() -> None:
    certificate = b"DER of a certificate"
    assert suites.ED25519.kid(certificate) == pki.kid_of(certificate)
    assert suites.SM2_SM3.kid(certificate) == sm2.sm3(certificate)[:4]
