"""The signature suites: what signs a credential, a trust list, a status list or a tree
head, named in each COSE message's protected header (``alg``). ``ed25519`` is every
deployment's today; ``sm2-sm3`` is the 国密 profile's (GB/T 32918.2 signatures over SM3,
``core.sm2``). A suite fixes the COSE algorithm, the public key's form and the key id: the
first ``kid_bytes`` of its hash over the signer's certificate (DER), or over a log key's raw
public key. FORMAT.md §2 gives the bytes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from . import merkle
from .sm2 import Sm2PrivateKey, Sm2PublicKey


class PublicKey(Protocol):
    def verify(self, signature: bytes, data: bytes) -> None:
        """Raise ``cryptography.exceptions.InvalidSignature`` unless ``signature`` signs ``data``."""
        ...


@dataclass(frozen=True)
class Suite:
    name: str
    alg: int
    """The COSE algorithm (RFC 9053; the IANA registry's private-use range for SM2)."""
    kid_bytes: int
    hash_name: str
    """The suite's hash (``hashlib`` name): of key ids, of the transparency log's Merkle tree
    and of the bundle manifest's digests."""
    public_key_bytes: int

    def kid(self, data: bytes) -> bytes:
        """The key id of a signer whose certificate (DER) or raw log key is ``data``."""
        return hashlib.new(self.hash_name, data).digest()[: self.kid_bytes]

    @property
    def tree_hash(self) -> merkle.TreeHash:
        """The Merkle tree hash of a log whose tree heads this suite signs."""
        return merkle.TreeHash.named(self.hash_name)

    def public_key(self, raw: bytes) -> PublicKey:
        """The verifying key of ``raw`` (32 bytes for Ed25519, the 65-byte point for SM2)."""
        if self is ED25519:
            return Ed25519PublicKey.from_public_bytes(raw)
        return Sm2PublicKey.from_raw(raw)


ED25519 = Suite("ed25519", alg=-8, kid_bytes=8, hash_name="sha256", public_key_bytes=32)
SM2_SM3 = Suite("sm2-sm3", alg=-65537, kid_bytes=4, hash_name="sm3", public_key_bytes=65)
"""-65537: the first value of COSE's private-use range (below -65536); no SM2 algorithm is
registered. Its header takes 4 bytes more than EdDSA's -8, which the 4-byte kid gives back:
the protected header stays 13 bytes and the typical credential's QR code at version 10."""
SUITES = (ED25519, SM2_SM3)
BY_ALG = {suite.alg: suite for suite in SUITES}
BY_NAME = {suite.name: suite for suite in SUITES}


def of_signer(key: object) -> Suite:
    """The suite a private key signs with (an Ed25519 key in this process or in a token)."""
    return SM2_SM3 if isinstance(key, Sm2PrivateKey) else ED25519


def of_key(key: object) -> Suite | None:
    """The suite a public key verifies, or ``None`` for a key of no suite."""
    if isinstance(key, Sm2PublicKey):
        return SM2_SM3
    return ED25519 if isinstance(key, Ed25519PublicKey) else None


def raw(key: PublicKey) -> bytes:
    """A public key's bytes: Ed25519's 32 raw bytes, or SM2's 65-byte point."""
    if isinstance(key, Sm2PublicKey):
        return key.raw()
    assert isinstance(key, Ed25519PublicKey)
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)
