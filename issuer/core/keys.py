"""What the core signs with: an Ed25519 private key wherever it is kept, or an SM2 key of the
国密 profile (``sm2.Sm2PrivateKey``). It may be ``cryptography``'s ``Ed25519PrivateKey`` in
this process (the encrypted-file key store) or a handle to a key that never leaves a PKCS#11
token (``issuer.store.pkcs11``); the core uses only these two methods, so it signs through
either without knowing which."""

from __future__ import annotations

from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .sm2 import Sm2PublicKey


class PrivateKey(Protocol):
    def sign(self, data: bytes) -> bytes:
        """The 64-byte signature of ``data``: pure Ed25519 (RFC 8032), or SM2's ``r ‖ s``."""
        ...

    def public_key(self) -> Ed25519PublicKey | Sm2PublicKey: ...
