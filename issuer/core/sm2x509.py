"""X.509 certificates of the 国密 profile (GM/T 0015): SM2 keys (id-ecPublicKey on the curve
1.2.156.10197.1.301) and SM2-with-SM3 signatures (1.2.156.10197.1.501) made with the
distinguishing ID of GB/T 35276. ``cryptography`` reads such a certificate (its names,
validity, extensions, signature) but can neither sign one nor return its key nor check its
signature: this module writes the to-be-signed part itself (names and extensions encoded by
``cryptography``), signs it with ``core.sm2``, and reads the key and checks the signature."""

from __future__ import annotations

from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ObjectIdentifier

from .sm2 import Sm2PrivateKey, Sm2PublicKey, from_der, sm3, to_der

SM2_WITH_SM3 = ObjectIdentifier("1.2.156.10197.1.501")
EC_PUBLIC_KEY = ObjectIdentifier("1.2.840.10045.2.1")
_SIGNATURE_ALGORITHM = bytes.fromhex("300a06082a811ccf55018375")  # SEQUENCE { OID 1.2.156.10197.1.501 }
_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d03420004")
"""Every SM2 SubjectPublicKeyInfo up to the point's x: the algorithm, the curve, the BIT STRING."""


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _length(len(body)) + body


def _integer(value: int) -> bytes:
    return _tlv(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=False))


def _time(at: datetime) -> bytes:
    """UTCTime through 2049, GeneralizedTime after (RFC 5280 §4.1.2.5), to the second."""
    if at.year < 2050:
        return _tlv(0x17, at.strftime("%y%m%d%H%M%SZ").encode())
    return _tlv(0x18, at.strftime("%Y%m%d%H%M%SZ").encode())


def _oid(oid: ObjectIdentifier) -> bytes:
    first, second, *rest = (int(arc) for arc in oid.dotted_string.split("."))
    body = bytearray()
    for arc in (40 * first + second, *rest):
        chunk = [arc & 0x7F]
        while arc := arc >> 7:
            chunk.append(0x80 | (arc & 0x7F))
        body += bytes(reversed(chunk))
    return _tlv(0x06, bytes(body))


def _extension(extension: x509.Extension[x509.ExtensionType]) -> bytes:
    critical = _tlv(0x01, b"\xff") if extension.critical else b""
    return _tlv(0x30, _oid(extension.oid) + critical + _tlv(0x04, extension.value.public_bytes()))


def _header_length(der: bytes, at: int) -> int:
    """The bytes of the length field at ``at``."""
    return 1 if der[at] < 0x80 else 1 + (der[at] & 0x7F)


def key_identifier(public: Sm2PublicKey) -> bytes:
    """The subject key identifier: the first 20 bytes of SM3 over the point (RFC 7093 §2)."""
    return sm3(public.raw())[:20]


def build(
    *,
    issuer: x509.Name,
    subject: x509.Name,
    public: Sm2PublicKey,
    serial: int,
    not_before: datetime,
    not_after: datetime,
    extensions: list[x509.Extension[x509.ExtensionType]],
    key: Sm2PrivateKey,
) -> x509.Certificate:
    """A version-3 certificate of ``public`` signed by ``key`` with SM2-with-SM3."""
    tbs = _tlv(
        0x30,
        b"".join(
            (
                _tlv(0xA0, _integer(2)),
                _integer(serial),
                _SIGNATURE_ALGORITHM,
                issuer.public_bytes(),
                _tlv(0x30, _time(not_before) + _time(not_after)),
                subject.public_bytes(),
                public.spki(),
                _tlv(0xA3, _tlv(0x30, b"".join(_extension(e) for e in extensions))),
            )
        ),
    )
    signature = b"\x00" + to_der(key.sign(tbs))
    return x509.load_der_x509_certificate(_tlv(0x30, tbs + _SIGNATURE_ALGORITHM + _tlv(0x03, signature)))


def _elements(der: bytes) -> list[bytes]:
    """The TLVs inside the SEQUENCE ``der`` (definite lengths, as DER has)."""
    at = 1 + _header_length(der, 1)
    found = []
    while at < len(der):
        size_bytes = _header_length(der, at + 1)
        size = der[at + 1] if size_bytes == 1 else int.from_bytes(der[at + 2 : at + 1 + size_bytes], "big")
        end = at + 1 + size_bytes + size
        found.append(der[at:end])
        at = end
    return found


def _sm2_point(certificate: x509.Certificate) -> bytes | None:
    """The 64 bytes ``x ‖ y`` of the certificate's key if it is an SM2 key (an EC key on the
    SM2 curve, uncompressed), else ``None``."""
    if certificate.public_key_algorithm_oid != EC_PUBLIC_KEY:
        return None
    try:
        parts = _elements(certificate.tbs_certificate_bytes)
        spki = parts[6] if parts[0][0] == 0xA0 else parts[5]
    except IndexError:
        return None
    if len(spki) != len(_SPKI_PREFIX) + 64 or not spki.startswith(_SPKI_PREFIX):
        return None
    return spki[len(_SPKI_PREFIX) :]


def has_sm2_key(certificate: x509.Certificate) -> bool:
    return _sm2_point(certificate) is not None


def public_key(certificate: x509.Certificate) -> Sm2PublicKey | None:
    """The certificate's key if it is an SM2 key, else ``None``. Raises ``Sm2KeyError`` for
    an SM2 key whose point is not on the curve."""
    point = _sm2_point(certificate)
    return None if point is None else Sm2PublicKey.from_raw(b"\x04" + point)


def issued_by(certificate: x509.Certificate, issuer: Sm2PublicKey) -> bool:
    """Whether ``issuer`` signed ``certificate`` with SM2-with-SM3 (the standard ID)."""
    if certificate.signature_algorithm_oid != SM2_WITH_SM3:
        return False
    try:
        issuer.verify(from_der(certificate.signature), certificate.tbs_certificate_bytes)
    except (ValueError, InvalidSignature):  # a signature that is not DER, or not the issuer's
        return False
    return True
