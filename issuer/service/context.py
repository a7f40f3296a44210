"""The ports every use case is built with: where to keep things (units of work), the keys,
the cipher for document numbers, the clock, and the reference data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from cryptography import x509

from issuer.core.assessment import Methods, default_methods
from issuer.core.catalogue import Catalogue, default_catalogue
from issuer.core.identity import DocumentTypes, default_document_types
from issuer.core.keys import PrivateKey
from issuer.core.signing import Signer
from issuer.core.suites import ED25519, Suite
from issuer.service.pii import DocumentCipher
from issuer.store import uow as units
from issuer.store.uow import UnitOfWork, UnitOfWorkFactory

T = TypeVar("T")
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class AuthorityKeys(Protocol):
    """Where the authority root key is made (``issuer keys init-authority``)."""

    def has_authority(self) -> bool: ...
    def new_authority_key(self, suite: Suite) -> PrivateKey: ...
    def save_authority(self, key: PrivateKey, root: x509.Certificate) -> None: ...


class Keys(AuthorityKeys, Protocol):
    """The key ring: encrypted files (``issuer.store.keystore.KeyRing``) or a PKCS#11 token
    (``issuer.store.pkcs11.TokenKeys``). Private keys stay behind it; a key is made by the
    backend (``new_…``), never here, and what it returns may only sign."""

    def signer(self, org_code: str, kid: str) -> Signer: ...
    def authority(self) -> tuple[PrivateKey, x509.Certificate]: ...
    def root_certificate(self) -> x509.Certificate: ...
    def log_key(self) -> PrivateKey: ...
    def existing_log_key(self) -> PrivateKey | None: ...
    def new_organization_key(self, org_code: str) -> PrivateKey: ...
    def save_organization_key(self, key: PrivateKey, cert: x509.Certificate) -> bytes:
        """Keep ``key`` (from ``new_organization_key``) under its certificate; the kid."""
        ...


@dataclass(frozen=True)
class Context:
    units: UnitOfWorkFactory
    keys: Keys
    cipher: DocumentCipher
    qr_host: str
    clock: Clock = utc_now
    catalogue: Catalogue = field(default_factory=default_catalogue)
    document_types: DocumentTypes = field(default_factory=default_document_types)
    min_holder_age: int = 16
    """How old a holder must be on the issue date, judged by the birth date their document
    number carries (0: no minimum)."""
    methods: Methods = field(default_factory=default_methods)
    """The assessment methods (评价方式) and their pass rules."""
    max_backdate_days: int = 30
    """How many days before today a certificate's stated issue date may lie."""
    idempotency_retention: timedelta = timedelta(hours=24)
    """How long a retry with the same Idempotency-Key replays the first answer; older
    answers are purged."""
    crypto_suite: Suite = ED25519
    """The deployment's signature suite: its root's, or before there is a root the one
    ``ISSUER_CRYPTO_PROFILE`` names, in which the root is made. Every key follows it, and
    its hash chains the audit trail."""

    def run(self, work: Callable[[UnitOfWork], T]) -> T:
        """``work`` in a writing transaction (it commits), run again when it lost a race."""
        return units.run(self.units, work)

    @contextmanager
    def reading(self) -> Iterator[UnitOfWork]:
        with units.reading(self.units) as uow:
            yield uow
