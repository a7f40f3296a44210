"""X.509 certificates for the trust model: the authority's self-signed root, and one
signing certificate per organization key that binds the key to the 13-character
organization code (subject attribute organizationIdentifier, OID 2.5.4.97). The keys and
signatures are Ed25519, or SM2-with-SM3 in the 国密 profile (``sm2x509``): a root signs
only certificates of its own suite."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import NameOID

from . import sm2x509, suites
from .errors import IssuerError, TrustError
from .keys import PrivateKey
from .numbering import OrganizationCode
from .sm2 import Sm2KeyError, Sm2PrivateKey, Sm2PublicKey
from .suites import PublicKey

_ED25519_ALGORITHM = bytes.fromhex("300506032b6570")  # AlgorithmIdentifier { id-Ed25519 }


class CertificateSigningError(IssuerError):
    """The key signed something its own public key does not verify: a faulty token or a
    handle to another key than the one the certificate names."""

    kind = "keystore"


def _serial(public_key: PublicKey, not_before: datetime) -> int:
    raw = suites.raw(public_key)
    digest = hashlib.sha256(raw + not_before.isoformat().encode()).digest()
    return int.from_bytes(digest[:16], "big") >> 1


def create_root(key: PrivateKey, name: str, *, not_before: datetime, years: int = 20) -> x509.Certificate:
    """A self-signed authority root, in ``key``'s suite. Serial numbers derive from key and
    time, so the same inputs give the same Ed25519 certificate (Ed25519 signatures are
    deterministic; SM2's are not)."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
            x509.NameAttribute(NameOID.COMMON_NAME, "职业技能等级证书根证书"),
        ]
    )
    public = key.public_key()
    extensions = [
        _extension(x509.BasicConstraints(ca=True, path_length=0), critical=True),
        _extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True),
        _extension(x509.SubjectKeyIdentifier(key_identifier(public)), critical=False),
    ]
    return _certificate(subject, subject, public, not_before, not_before + timedelta(days=365 * years), extensions, key)


def create_organization_certificate(
    *,
    root_key: PrivateKey,
    root: x509.Certificate,
    public_key: PublicKey,
    org_code: OrganizationCode,
    org_name: str,
    not_before: datetime,
    not_after: datetime,
) -> x509.Certificate:
    """The signing certificate of an organization's key, issued by the root (both of one
    suite: ``TrustError`` otherwise)."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org_name),
            x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, str(org_code)),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{org_code} 证书签名"),
        ]
    )
    if suites.of_key(public_key) is not suites.of_signer(root_key):
        raise TrustError(
            "the organization's key and the root are of different signature suites",
            "机构密钥与根证书的签名算法体系不同",
        )
    extensions = [
        _extension(x509.BasicConstraints(ca=False, path_length=None), critical=True),
        _extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True),
        _extension(x509.AuthorityKeyIdentifier(key_identifier(root_public_key(root)), None, None), critical=False),
    ]
    return _certificate(root.subject, subject, public_key, not_before, not_after, extensions, root_key)


Extension = x509.Extension[x509.ExtensionType]


def _extension(value: x509.ExtensionType, *, critical: bool) -> Extension:
    return x509.Extension(value.oid, critical, value)


def key_identifier(public: PublicKey) -> bytes:
    """The subject key identifier of ``public``: SHA-1 of the key's bits for Ed25519 (RFC
    5280 §4.2.1.2, as ``cryptography`` computes it), the first 20 bytes of SM3 for SM2."""
    if isinstance(public, Sm2PublicKey):
        return sm2x509.key_identifier(public)
    assert isinstance(public, Ed25519PublicKey)
    return x509.SubjectKeyIdentifier.from_public_key(public).digest


def _certificate(
    issuer: x509.Name,
    subject: x509.Name,
    public: PublicKey,
    not_before: datetime,
    not_after: datetime,
    extensions: list[Extension],
    key: PrivateKey,
) -> x509.Certificate:
    if isinstance(key, Sm2PrivateKey):
        assert isinstance(public, Sm2PublicKey)
        serial = _serial(public, not_before)
        return sm2x509.build(
            issuer=issuer,
            subject=subject,
            public=public,
            serial=serial,
            not_before=not_before,
            not_after=not_after,
            extensions=extensions,
            key=key,
        )
    assert isinstance(public, Ed25519PublicKey)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public)
        .serial_number(_serial(public, not_before))
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    for extension in extensions:
        builder = builder.add_extension(extension.value, critical=extension.critical)
    return _signed(builder, key)


def _signed(builder: x509.CertificateBuilder, key: PrivateKey) -> x509.Certificate:
    """The certificate signed by ``key`` wherever it is kept. ``CertificateBuilder.sign``
    takes only keys held in this process, so it signs a draft with a throwaway key: for
    Ed25519 the to-be-signed part does not depend on the signing key (the subject's and the
    issuer's public keys were given to the builder), and ``key``'s signature of those bytes
    replaces the draft's. The same inputs still give the same certificate."""
    tbs = builder.sign(Ed25519PrivateKey.generate(), None).tbs_certificate_bytes
    signature = key.sign(tbs)
    bits = b"\x03" + _der_length(len(signature) + 1) + b"\x00" + signature
    body = tbs + _ED25519_ALGORITHM + bits
    cert = x509.load_der_x509_certificate(b"\x30" + _der_length(len(body)) + body)
    try:
        key.public_key().verify(cert.signature, cert.tbs_certificate_bytes)
    except InvalidSignature:
        raise CertificateSigningError(
            "signature_invalid",
            "the signing key made a certificate signature its public key does not verify",
            "签名密钥生成的证书签名无法用其公钥验证",
        ) from None
    return cert


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


@dataclass(frozen=True)
class OrganizationCertificate:
    """A parsed organization signing certificate. What a verifier reads of it for every
    credential (its validity, whether it may sign) is read from the certificate once."""

    certificate: x509.Certificate
    der: bytes
    org_code: str
    public_key: Ed25519PublicKey | Sm2PublicKey

    @cached_property
    def not_before(self) -> datetime:
        return self.certificate.not_valid_before_utc

    @cached_property
    def not_after(self) -> datetime:
        return self.certificate.not_valid_after_utc

    def is_signing_certificate(self) -> bool:
        """An end-entity certificate whose key may sign (digitalSignature, not a CA)."""
        return self._signing

    @cached_property
    def _signing(self) -> bool:
        try:
            constraints = self.certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
            usage = self.certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        except x509.ExtensionNotFound:
            return False
        return not constraints.ca and usage.digital_signature

    def issued_by(self, root: x509.Certificate) -> bool:
        """Whether ``root`` signed this certificate (in the root's suite)."""
        try:
            root_key = root_public_key(root)
        except TrustError:
            return False
        if isinstance(root_key, Sm2PublicKey):
            return sm2x509.issued_by(self.certificate, root_key)
        try:
            self.certificate.verify_directly_issued_by(root)
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
            return False
        return True


def load_certificate(der: bytes) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError:
        raise TrustError("a certificate is not valid DER", "证书不是有效的DER编码") from None


def parse_organization_certificate(der: bytes) -> OrganizationCertificate:
    """Parse what a verifier reads of an organization certificate, all of it now: the
    library parses names and extensions lazily, and a malformed one must be refused here
    (``TrustError``), never raise later in the middle of a verification."""
    cert = load_certificate(der)
    public = _public_key(
        cert,
        TrustError("organization key is not Ed25519", "机构密钥不是Ed25519"),
        malformed=TrustError("organization certificate is malformed", "机构证书格式错误"),
    )
    try:
        codes = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)
        _ = cert.issuer, cert.extensions, cert.not_valid_before_utc, cert.not_valid_after_utc
    except (ValueError, TypeError):
        raise TrustError("organization certificate is malformed", "机构证书格式错误") from None
    if len(codes) != 1:
        raise TrustError("organization certificate carries no organization code", "机构证书缺少机构代码")
    return OrganizationCertificate(cert, der, str(codes[0].value), public)


def root_public_key(root: x509.Certificate) -> Ed25519PublicKey | Sm2PublicKey:
    not_ours = TrustError("root key is not Ed25519", "根证书密钥不是Ed25519")
    return _public_key(root, not_ours, malformed=not_ours)


def _public_key(
    cert: x509.Certificate, not_ours: TrustError, *, malformed: TrustError
) -> Ed25519PublicKey | Sm2PublicKey:
    """The certificate's Ed25519 or SM2 key; ``not_ours`` for a key of any other kind,
    ``malformed`` for one that does not parse. (The words name Ed25519 alone: the scan page,
    which reads Ed25519 keys only, says the same of every other key, SM2's included.)"""
    try:
        public = cert.public_key()
    except UnsupportedAlgorithm:
        try:
            sm2_key = sm2x509.public_key(cert)
        except Sm2KeyError:
            sm2_key = None
        if sm2_key is None:
            raise not_ours from None
        return sm2_key
    except (ValueError, TypeError):
        raise malformed from None
    if not isinstance(public, Ed25519PublicKey):
        raise not_ours
    return public


def kid_of(certificate_der: bytes) -> bytes:
    """The key id of a certificate's key (FORMAT.md §2): the first 8 bytes of SHA-256 over the
    DER, as the EU DCC has it, or for an SM2 key the first 4 bytes of SM3. Bytes that are
    not a certificate get the Ed25519 kid (no key has it)."""
    try:
        sm2 = sm2x509.has_sm2_key(x509.load_der_x509_certificate(certificate_der))
    except ValueError:
        sm2 = False
    return (suites.SM2_SM3 if sm2 else suites.ED25519).kid(certificate_der)


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the DER, hex, as a person compares it."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def utc(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def organization_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return str(names[0].value) if names else ""
