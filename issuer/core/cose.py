"""COSE_Sign1 (RFC 9052), the one way anything is signed here: EdDSA over Ed25519, or SM2
over SM3 in the 国密 profile (``suites``).

``to_be_signed`` is the only function that builds signed bytes; signing and verifying
both call it. The protected header is the deterministic CBOR map ``{1: alg, 4: kid}``
(``{1: -8, 4: kid}`` for Ed25519); the unprotected header is always the empty map; the
message is tagged 18. A key verifies only messages of its own suite's algorithm.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from . import cbor, suites
from .errors import CredentialFormatError
from .keys import PrivateKey
from .suites import PublicKey

COSE_SIGN1_TAG = 18
HEADER_ALG = 1
HEADER_KID = 4
ALG_EDDSA = -8
KID_BYTES = 8
SIGNATURE_BYTES = 64


_SIG_STRUCTURE_HEAD = cbor.head(4, 4) + cbor.encode("Signature1")
_EMPTY_BYTES = cbor.encode(b"")
_MESSAGE_HEAD = cbor.head(6, COSE_SIGN1_TAG) + cbor.head(4, 4)
_EMPTY_MAP = cbor.encode({})
_SIGNATURE_HEAD = cbor.head(2, SIGNATURE_BYTES)


def to_be_signed(protected: bytes, payload: bytes) -> bytes:
    """The Sig_structure of RFC 9052 §4.4 for COSE_Sign1 with empty external AAD,
    ``["Signature1", protected, h'', payload]``, written item by item."""
    protected_head, payload_head = cbor.head(2, len(protected)), cbor.head(2, len(payload))
    return b"".join((_SIG_STRUCTURE_HEAD, protected_head, protected, _EMPTY_BYTES, payload_head, payload))


@lru_cache(maxsize=1024)
def protected_header(kid: bytes, alg: int = ALG_EDDSA) -> bytes:
    """``{1: alg, 4: kid}``, encoded once per key."""
    return cbor.encode({HEADER_ALG: alg, HEADER_KID: kid})


def sign(payload: bytes, key: PrivateKey, kid: bytes) -> bytes:
    """The message, tag 18 around ``[protected, {}, payload, signature]``, written item by
    item, with the algorithm of ``key``'s suite."""
    suite = suites.of_signer(key)
    if len(kid) != suite.kid_bytes:
        raise ValueError(f"a kid of {suite.name} is {suite.kid_bytes} bytes, got {len(kid)}")
    protected = protected_header(kid, suite.alg)
    signature = key.sign(to_be_signed(protected, payload))
    parts = (_MESSAGE_HEAD, cbor.head(2, len(protected)), protected, _EMPTY_MAP, cbor.head(2, len(payload)), payload)
    return b"".join((*parts, _SIGNATURE_HEAD, signature))


@dataclass(frozen=True)
class Sign1:
    protected: bytes
    kid: bytes
    payload: bytes
    signature: bytes
    alg: int = ALG_EDDSA

    @property
    def suite(self) -> suites.Suite:
        return suites.BY_ALG[self.alg]

    def verify(self, public_key: PublicKey | Ed25519PublicKey) -> bool:
        """Whether ``public_key`` signed this message; never for a key of another suite
        than the message's algorithm names."""
        if suites.of_key(public_key) is not self.suite:
            return False
        try:
            public_key.verify(self.signature, to_be_signed(self.protected, self.payload))
        except InvalidSignature:
            return False
        return True


def _malformed(what_en: str, what_zh: str) -> CredentialFormatError:
    return CredentialFormatError(f"not a COSE_Sign1 message: {what_en}", f"不是COSE_Sign1签名消息：{what_zh}")


_HEADER_PREFIX = cbor.encode({HEADER_ALG: ALG_EDDSA, HEADER_KID: bytes(KID_BYTES)})[:-KID_BYTES]
_PREFIX = _MESSAGE_HEAD + cbor.head(2, len(_HEADER_PREFIX) + KID_BYTES) + _HEADER_PREFIX
_PAYLOAD_AT = len(_PREFIX) + KID_BYTES + len(_EMPTY_MAP)
_TAIL = len(_SIGNATURE_HEAD) + SIGNATURE_BYTES
_BSTR_HEAD_BYTES = {0x58: 2, 0x59: 3, 0x5A: 5, 0x5B: 9}


def _as_signed(data: bytes) -> Sign1 | None:
    """``data`` cut into its parts if it is laid out exactly as ``sign`` writes a message.
    Every message ``parse`` accepts from a signer that follows FORMAT.md §2 has this layout,
    so it is tried first; ``None`` for anything else."""
    if len(data) < _PAYLOAD_AT + 1 + _TAIL or not data.startswith(_PREFIX):
        return None
    initial = data[_PAYLOAD_AT]
    head_bytes = 1 if 0x40 <= initial < 0x58 else _BSTR_HEAD_BYTES.get(initial, 0)
    start, end = _PAYLOAD_AT + head_bytes, len(data) - _TAIL
    if (
        start > end
        or data[_PAYLOAD_AT - 1] != _EMPTY_MAP[0]
        or data[_PAYLOAD_AT:start] != cbor.head(2, end - start)
        or data[end : end + len(_SIGNATURE_HEAD)] != _SIGNATURE_HEAD
    ):
        return None
    kid_at = len(_PREFIX)
    protected = data[kid_at - len(_HEADER_PREFIX) : kid_at + KID_BYTES]
    return Sign1(protected, data[kid_at : kid_at + KID_BYTES], data[start:end], data[len(data) - SIGNATURE_BYTES :])


def parse(data: bytes) -> Sign1:
    """Parse the structure only (nothing is trusted yet). Raises ``CredentialFormatError``.

    A message laid out as ``sign`` writes it is cut into its parts at once; anything else is
    decoded item by item, which accepts the same messages (the tests hold it to the cbor2
    reference) and says what is wrong with the others."""
    signed = _as_signed(data)
    if signed is not None:
        return signed
    msg = cbor.decode_strict(data, tag=COSE_SIGN1_TAG)
    if not isinstance(msg, cbor2.CBORTag) or msg.tag != COSE_SIGN1_TAG:
        raise _malformed("missing tag 18", "缺少标签18")
    parts = msg.value
    # cbor2 decodes the contents of a tag as immutable containers (tuple, frozendict).
    if not isinstance(parts, list | tuple) or len(parts) != 4:
        raise _malformed("not an array of four", "不是四元素数组")
    protected, unprotected, payload, signature = parts
    if not isinstance(protected, bytes) or not isinstance(payload, bytes):
        raise _malformed("protected header or payload is not a byte string", "受保护头或载荷不是字节串")
    if not isinstance(unprotected, Mapping) or len(unprotected) != 0:
        raise _malformed("unprotected header must be empty", "非保护头必须为空")
    if not isinstance(signature, bytes) or len(signature) != SIGNATURE_BYTES:
        raise _malformed("signature is not 64 bytes", "签名不是64字节")
    header = cbor.decode_strict(protected)
    if not isinstance(header, dict) or set(header) != {HEADER_ALG, HEADER_KID}:
        raise _malformed("protected header must hold alg and kid only", "受保护头只能含算法和密钥标识")
    suite = suites.BY_ALG.get(header[HEADER_ALG]) if type(header[HEADER_ALG]) is int else None
    if suite is None:
        raise _malformed("algorithm is neither EdDSA (-8) nor SM2 (-65537)", "算法既不是EdDSA（-8）也不是SM2（-65537）")
    kid = header[HEADER_KID]
    if not isinstance(kid, bytes) or len(kid) != suite.kid_bytes:
        raise _malformed(
            f"kid is not {suite.kid_bytes} bytes ({suite.name})", f"密钥标识不是{suite.kid_bytes}字节（{suite.name}）"
        )
    return Sign1(protected, kid, payload, signature, suite.alg)
