"""COSE_Sign1: our bytes are standard; a general-purpose COSE library verifies them."""

from __future__ import annotations

import hashlib

import cbor2
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pycose.algorithms import EdDSA
from pycose.headers import KID, Algorithm
from pycose.keys import OKPKey
from pycose.keys.curves import Ed25519
from pycose.messages import Sign1Message

from issuer.core import cbor, cose, pki, qrtext
from issuer.core.credential import encode_payload
from issuer.core.errors import CredentialFormatError
from tests import factories as f


def _message() -> tuple[bytes, f.World]:
    w = f.world()
    return qrtext.decode(w.qr()), w


def test_pycose_verifies_our_credential_with_the_organization_public_key() -> None:
    message, w = _message()
    decoded = Sign1Message.decode(message)
    raw = w.signer.certificate.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    decoded.key = OKPKey(crv=Ed25519, x=raw)
    assert decoded.verify_signature()
    assert decoded.get_attr(KID) == w.signer.kid
    assert decoded.get_attr(Algorithm) is EdDSA


def test_pycose_rejects_our_credential_under_another_key() -> None:
    message, _ = _message()
    other = f.seeded_key("someone else").public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    decoded = Sign1Message.decode(message)
    decoded.key = OKPKey(crv=Ed25519, x=other)
    assert not decoded.verify_signature()


def test_the_message_is_tag_18_with_alg_eddsa_and_the_kid_of_the_certificate() -> None:
    message, w = _message()
    outer = cbor2.loads(message)
    assert outer.tag == 18
    protected, unprotected, payload, signature = outer.value
    assert cbor2.loads(protected) == {1: -8, 4: pki.kid_of(w.signer.certificate.der)}
    assert dict(unprotected) == {}
    assert len(signature) == 64
    assert payload == encode_payload(f.credential())


def test_the_kid_is_the_first_eight_bytes_of_sha256_of_the_certificate() -> None:
    _, w = _message()
    assert w.signer.kid == hashlib.sha256(w.signer.certificate.der).digest()[:8]


def test_signatures_are_deterministic() -> None:
    assert _message()[0] == _message()[0]


def test_an_untagged_message_is_rejected() -> None:
    message, _ = _message()
    untagged = cbor2.dumps(list(cbor2.loads(message).value), canonical=True)
    with pytest.raises(CredentialFormatError):
        cose.parse(untagged)


def test_a_non_empty_unprotected_header_is_rejected() -> None:
    message, _ = _message()
    protected, _, payload, signature = cbor2.loads(message).value
    tampered = cbor2.dumps(cbor2.CBORTag(18, [protected, {4: b"x"}, payload, signature]))
    with pytest.raises(CredentialFormatError):
        cose.parse(tampered)


def test_another_algorithm_is_rejected() -> None:
    message, w = _message()
    _, _, payload, signature = cbor2.loads(message).value
    protected = cbor.encode({1: -7, 4: w.signer.kid})
    with pytest.raises(CredentialFormatError):
        cose.parse(cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, signature])))


def test_non_deterministic_encoding_is_rejected() -> None:
    message, _ = _message()
    signature = cbor2.loads(message).value[3]
    # The same structure with a needlessly long length prefix for the signature.
    prefix = message[: len(message) - 66]
    stretched = prefix + b"\x59\x00\x40" + signature
    assert cbor2.loads(stretched).value[3] == signature
    with pytest.raises(CredentialFormatError):
        cose.parse(stretched)


@pytest.mark.parametrize("size", [0, 23, 24, 255, 256, 65535, 65536])
def test_the_signed_bytes_and_the_message_are_written_as_cbor2_writes_them(size: int) -> None:
    """The heads are written by hand; at every length where a head grows they are cbor2's."""
    payload, key = bytes(range(256)) * (size // 256) + bytes(size % 256), f.seeded_key("cose")
    kid = bytes(range(8))
    protected = cbor2.dumps({1: -8, 4: kid}, canonical=True)
    tbs = cbor2.dumps(["Signature1", protected, b"", payload])
    assert cose.to_be_signed(protected, payload) == tbs
    signature = key.sign(tbs)
    assert cose.sign(payload, key, kid) == cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, signature]))
