"""The reference ``issuer.core.cose.parse`` is held to: the simple implementation it
replaced, kept for the tests only. It decodes the whole message and then the protected
header with the reference CBOR decoder, and checks the parts one by one."""

from __future__ import annotations

from collections.abc import Mapping

import cbor2

from issuer.core.cose import COSE_SIGN1_TAG, HEADER_ALG, HEADER_KID, SIGNATURE_BYTES, Sign1
from issuer.core.errors import CredentialFormatError
from tests.core import reference_cbor

KID_BYTES = {-8: ("ed25519", 8), -65537: ("sm2-sm3", 4)}
"""The algorithms of FORMAT.md §2 and the length of their kids."""


def _malformed(what_en: str, what_zh: str) -> CredentialFormatError:
    return CredentialFormatError(f"not a COSE_Sign1 message: {what_en}", f"不是COSE_Sign1签名消息：{what_zh}")


def parse(data: bytes) -> Sign1:
    msg = reference_cbor.decode_strict(data, tag=COSE_SIGN1_TAG)
    if not isinstance(msg, cbor2.CBORTag) or msg.tag != COSE_SIGN1_TAG:
        raise _malformed("missing tag 18", "缺少标签18")
    parts = msg.value
    if not isinstance(parts, list | tuple) or len(parts) != 4:
        raise _malformed("not an array of four", "不是四元素数组")
    protected, unprotected, payload, signature = parts
    if not isinstance(protected, bytes) or not isinstance(payload, bytes):
        raise _malformed("protected header or payload is not a byte string", "受保护头或载荷不是字节串")
    if not isinstance(unprotected, Mapping) or len(unprotected) != 0:
        raise _malformed("unprotected header must be empty", "非保护头必须为空")
    if not isinstance(signature, bytes) or len(signature) != SIGNATURE_BYTES:
        raise _malformed("signature is not 64 bytes", "签名不是64字节")
    header = reference_cbor.decode_strict(protected)
    if not isinstance(header, dict) or set(header) != {HEADER_ALG, HEADER_KID}:
        raise _malformed("protected header must hold alg and kid only", "受保护头只能含算法和密钥标识")
    alg = header[HEADER_ALG]
    if type(alg) is not int or alg not in KID_BYTES:
        raise _malformed("algorithm is neither EdDSA (-8) nor SM2 (-65537)", "算法既不是EdDSA（-8）也不是SM2（-65537）")
    name, size = KID_BYTES[alg]
    kid = header[HEADER_KID]
    if not isinstance(kid, bytes) or len(kid) != size:
        raise _malformed(f"kid is not {size} bytes ({name})", f"密钥标识不是{size}字节（{name}）")
    return Sign1(protected, kid, payload, signature, alg)
