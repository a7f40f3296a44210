"""Document numbers at rest, in both profiles: encrypted and bound to their certificate's
number, looked up by a keyed hash. The 国密 profile's cipher is SM4-GCM with HMAC-SM3, checked
against the reference primitives, never AES or SHA-256."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from issuer.core import suites
from issuer.service.pii import NONCE_BYTES, DataKeyError, DocumentCipher, Sm4Gcm, derive_key, upload_aead

DATA_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
NUMBER, CERTIFICATE = "11010519491231002x", b"Y000123000001263000001"


@pytest.mark.parametrize("suite", suites.SUITES, ids=lambda s: s.name)
def test_a_number_comes_back_only_for_its_certificate(suite: suites.Suite) -> None:
    cipher = DocumentCipher(DATA_KEY, suite)
    blob = cipher.encrypt(NUMBER, context=CERTIFICATE)
    assert cipher.decrypt(blob, context=CERTIFICATE) == "11010519491231002X"
    with pytest.raises(DataKeyError):
        cipher.decrypt(blob, context=b"Y000123000001263000002")
    damaged = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(DataKeyError):
        cipher.decrypt(damaged, context=CERTIFICATE)


def test_the_sm2_profile_encrypts_with_sm4_gcm_and_looks_up_with_hmac_sm3() -> None:
    cipher = DocumentCipher(DATA_KEY, suites.SM2_SM3)
    blob = cipher.encrypt(NUMBER, context=CERTIFICATE)
    key = derive_key(DATA_KEY, b"document-number/sm4-gcm")[:16]
    nonce, body, tag = blob[:NONCE_BYTES], blob[NONCE_BYTES:-16], blob[-16:]
    opening = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    opening.authenticate_additional_data(CERTIFICATE)
    assert opening.update(body) + opening.finalize() == b"11010519491231002X"
    mac_key = derive_key(DATA_KEY, b"document-number/hmac-sm3")
    assert cipher.lookup_hash(NUMBER) == hmac.new(mac_key, b"11010519491231002X", "sm3").hexdigest()


def test_the_two_profiles_share_neither_ciphertexts_nor_lookup_hashes() -> None:
    ed25519, sm2 = DocumentCipher(DATA_KEY), DocumentCipher(DATA_KEY, suites.SM2_SM3)
    with pytest.raises(DataKeyError):
        sm2.decrypt(ed25519.encrypt(NUMBER, context=CERTIFICATE), context=CERTIFICATE)
    assert ed25519.lookup_hash(NUMBER) != sm2.lookup_hash(NUMBER)
    mac_key = derive_key(DATA_KEY, b"document-number/hmac")
    assert ed25519.lookup_hash(NUMBER) == hmac.new(mac_key, b"11010519491231002X", hashlib.sha256).hexdigest()


def test_uploads_wait_under_sm4_gcm_in_the_sm2_profile() -> None:
    aead = upload_aead(DATA_KEY, suites.SM2_SM3)
    assert isinstance(aead, Sm4Gcm)
    nonce = bytes(12)
    sealed = aead.encrypt(nonce, b"a roster", b"batch 1")
    key = derive_key(DATA_KEY, b"uploads/sm4-gcm")[:16]
    opening = Cipher(algorithms.SM4(key), modes.GCM(nonce, sealed[-16:])).decryptor()
    opening.authenticate_additional_data(b"batch 1")
    assert opening.update(sealed[:-16]) + opening.finalize() == b"a roster"
    with pytest.raises(InvalidTag):
        aead.decrypt(nonce, sealed, b"batch 2")
