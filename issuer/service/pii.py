"""Personal data at rest: document numbers encrypted with AES-256-GCM, plus a keyed hash
(HMAC-SHA-256) for exact-match lookups; in the 国密 profile with SM4-GCM and HMAC-SM3. Every
key derives from one configured data key with HKDF (``derive_key``: also the key of uploaded
rosters waiting to be validated, ``service/uploads.py``), so one secret is configured and no
two uses share a key."""

from __future__ import annotations

import base64
import hmac
import os
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from issuer.core.identity import normalize_document_number
from issuer.core.suites import ED25519, SM2_SM3, Suite

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


class Aead(Protocol):
    """What ``AESGCM`` offers: ``encrypt`` returns ciphertext ‖ 16-byte tag, ``decrypt``
    raises ``InvalidTag`` for anything it did not make with this key, nonce and data."""

    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes: ...
    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes: ...


class Sm4Gcm:
    """SM4-GCM (GB/T 32907, 128-bit key) with ``AESGCM``'s interface."""

    def __init__(self, key: bytes) -> None:
        self._key = key[:16]

    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes:
        sealing = Cipher(algorithms.SM4(self._key), modes.GCM(nonce)).encryptor()
        sealing.authenticate_additional_data(associated_data or b"")
        return sealing.update(data) + sealing.finalize() + sealing.tag

    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes:
        if len(data) < TAG_BYTES:
            raise InvalidTag
        opening = Cipher(algorithms.SM4(self._key), modes.GCM(nonce, data[-TAG_BYTES:])).decryptor()
        opening.authenticate_additional_data(associated_data or b"")
        return opening.update(data[:-TAG_BYTES]) + opening.finalize()


def _aead(data_key: str, purpose: bytes, suite: Suite) -> Aead:
    """The cipher of ``purpose`` in a deployment of ``suite``: AES-256-GCM, or SM4-GCM in the
    国密 profile, each under its own key (``purpose/aes-gcm``, ``purpose/sm4-gcm``)."""
    if suite is SM2_SM3:
        return Sm4Gcm(derive_key(data_key, purpose + b"/sm4-gcm"))
    return AESGCM(derive_key(data_key, purpose + b"/aes-gcm"))


def upload_aead(data_key: str, suite: Suite) -> Aead:
    """The cipher of rosters waiting to be validated (``service/uploads.py``)."""
    return _aead(data_key, b"uploads", suite)


class DocumentCipher:
    """Document numbers at rest, ``nonce ‖ ciphertext ‖ tag``, and their keyed lookup hash:
    AES-256-GCM and HMAC-SHA-256, or in the 国密 profile SM4-GCM and HMAC-SM3. A deployment
    keeps one profile from its first row (fixed when its root is made), so rows never mix."""

    def __init__(self, data_key: str, suite: Suite = ED25519) -> None:
        self._aead = _aead(data_key, b"document-number", suite)
        self._mac_hash = suite.hash_name  # HMAC-SHA-256, or HMAC-SM3
        self._mac_key = derive_key(data_key, b"document-number/hmac" + (b"-sm3" if suite is SM2_SM3 else b""))

    def encrypt(self, number: str, *, context: bytes) -> bytes:
        """``context`` (the certificate number) is bound as AAD so a ciphertext cannot be
        moved to another row."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, normalize_document_number(number).encode(), context)

    def decrypt(self, blob: bytes, *, context: bytes) -> str:
        try:
            return self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context).decode()
        except (InvalidTag, ValueError):
            raise DataKeyError("a stored document number does not decrypt with the data key") from None

    def lookup_hash(self, number: str) -> str:
        return hmac.new(self._mac_key, normalize_document_number(number).encode(), self._mac_hash).hexdigest()
