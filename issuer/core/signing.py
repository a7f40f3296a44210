"""Signing credentials with an organization key."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from . import cose, pki, qrtext, suites
from .credential import Credential, encode_payload
from .errors import IssuerError
from .keys import PrivateKey
from .pki import OrganizationCertificate, parse_organization_certificate


class SignerMismatch(IssuerError):
    """The key, its certificate or the credential's number belong to different parties."""

    kind = "conflict"


@dataclass(frozen=True)
class Signer:
    key: PrivateKey
    certificate: OrganizationCertificate

    @classmethod
    def from_der(cls, key: PrivateKey, certificate_der: bytes) -> Signer:
        cert = parse_organization_certificate(certificate_der)
        public = key.public_key()
        if suites.of_key(public) is not suites.of_key(cert.public_key) or suites.raw(public) != suites.raw(
            cert.public_key
        ):
            raise SignerMismatch(
                "key_certificate_mismatch",
                "the private key does not match the certificate",
                "私钥与机构证书不匹配",
            )
        return cls(key, cert)

    @cached_property
    def kid(self) -> bytes:
        return pki.kid_of(self.certificate.der)

    @property
    def org_code(self) -> str:
        return self.certificate.org_code

    def sign(self, credential: Credential) -> bytes:
        """The COSE_Sign1 bytes of ``credential``. Refuses a number of another organization."""
        if str(credential.number.org) != self.org_code:
            raise SignerMismatch(
                "number_not_of_signer",
                f"number {credential.number} does not belong to {self.org_code}",
                f"证书编号{credential.number}不属于机构{self.org_code}",
            )
        return cose.sign(encode_payload(credential), self.key, self.kid)

    def qr_text(self, credential: Credential, host: str) -> str:
        return qrtext.encode(self.sign(credential), host)
