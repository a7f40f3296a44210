"""Personal data at rest: document numbers encrypted with AES-256-GCM, plus a keyed hash
(HMAC-SHA-256) for exact-match lookups; in the 国密 profile with SM4-GCM and HMAC-SM3
(``Sm4DocumentCipher``). Every key derives from one configured data key with HKDF
(``derive_key``: also the key of uploaded rosters waiting to be validated,
``service/uploads.py``), so one secret is configured and no two uses share a key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from issuer.core.identity import normalize_document_number
from issuer.core.suites import SM2_SM3, Suite

NONCE_BYTES = 12
TAG_BYTES = 16


class DataKeyError(Exception):
    """The configured data key is unusable, or a stored value does not decrypt."""


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"issuer/" + purpose).derive(master)


def derive_key(data_key: str, purpose: bytes) -> bytes:
    """A 256-bit key for one ``purpose`` (``b"uploads/aes-gcm"``), derived from the
    configured data key: every process of a deployment derives the same one."""
    try:
        master = base64.b64decode(data_key, validate=True)
    except ValueError:
        raise DataKeyError("ISSUER_DATA_KEY must be base64 of 32 random bytes") from None
    if len(master) != 32:
        raise DataKeyError("ISSUER_DATA_KEY must be base64 of 32 random bytes")
    return _derive(master, purpose)


class DocumentCipher:
    """AES-256-GCM and HMAC-SHA-256: the Ed25519 profile's."""

    def __init__(self, data_key: str) -> None:
        self._aead = AESGCM(derive_key(data_key, b"document-number/aes-gcm"))
        self._mac_key = derive_key(data_key, b"document-number/hmac")

    def encrypt(self, number: str, *, context: bytes) -> bytes:
        """``nonce ‖ ciphertext``; ``context`` (the certificate number) is bound as AAD so a
        ciphertext cannot be moved to another row."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, normalize_document_number(number).encode(), context)

    def decrypt(self, blob: bytes, *, context: bytes) -> str:
        try:
            return self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context).decode()
        except InvalidTag:
            raise DataKeyError("a stored document number does not decrypt with the data key") from None

    def lookup_hash(self, number: str) -> str:
        return hmac.new(self._mac_key, normalize_document_number(number).encode(), hashlib.sha256).hexdigest()


class Sm4DocumentCipher(DocumentCipher):
    """SM4-GCM (128-bit key) and HMAC-SM3, the 国密 profile's: the same stored shape, ``nonce ‖
    ciphertext ‖ tag`` and a hex lookup hash. A deployment keeps one profile from its first
    row (``ISSUER_CRYPTO_PROFILE``, fixed when its root is made), so rows never mix."""

    def __init__(self, data_key: str) -> None:
        self._key = derive_key(data_key, b"document-number/sm4-gcm")[:16]
        self._mac_key = derive_key(data_key, b"document-number/hmac-sm3")

    def encrypt(self, number: str, *, context: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        sealing = Cipher(algorithms.SM4(self._key), modes.GCM(nonce)).encryptor()
        sealing.authenticate_additional_data(context)
        body = sealing.update(normalize_document_number(number).encode()) + sealing.finalize()
        return nonce + body + sealing.tag

    def decrypt(self, blob: bytes, *, context: bytes) -> str:
        nonce, body, tag = blob[:NONCE_BYTES], blob[NONCE_BYTES:-TAG_BYTES], blob[-TAG_BYTES:]
        try:
            opening = Cipher(algorithms.SM4(self._key), modes.GCM(nonce, tag)).decryptor()
            opening.authenticate_additional_data(context)
            return (opening.update(body) + opening.finalize()).decode()
        except (InvalidTag, ValueError):
            raise DataKeyError("a stored document number does not decrypt with the data key") from None

    def lookup_hash(self, number: str) -> str:
        return hmac.new(self._mac_key, normalize_document_number(number).encode(), "sm3").hexdigest()


def document_cipher(data_key: str, suite: Suite) -> DocumentCipher:
    """The cipher of a deployment of ``suite``."""
    return Sm4DocumentCipher(data_key) if suite is SM2_SM3 else DocumentCipher(data_key)
