"""Everything a use case needs, built once per process from configuration."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from issuer import config as settings
from issuer.core.catalogue import Catalogue, default_catalogue
from issuer.core.identity import DocumentTypes, default_document_types
from issuer.core.signing import Signer
from issuer.service.pii import DocumentCipher
from issuer.store.db import Database
from issuer.store.keystore import KeyStore

if TYPE_CHECKING:
    from issuer.service.jobs import JobQueue

T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    db: Database
    keystore: KeyStore
    cipher: DocumentCipher
    qr_host: str
    clock: Callable[[], datetime] = utc_now
    catalogue: Catalogue = field(default_factory=default_catalogue)
    document_types: DocumentTypes = field(default_factory=default_document_types)
    batch_dir: Path = Path("instance/batches")
    batch_chunk: int = 25
    """Certificates per background job."""
    max_backdate_days: int = 30
    """How many days before today a certificate's stated issue date may lie."""
    jobs: JobQueue | None = None
    _signers: dict[str, Signer] = field(default_factory=dict)
    _signers_lock: threading.Lock = field(default_factory=threading.Lock)
    _log_key: Ed25519PrivateKey | None = None
    _authority: tuple[Ed25519PrivateKey, x509.Certificate] | None = None

    def signer(self, org_code: str, kid: str) -> Signer:
        """The decrypted signing key, cached: PKCS#8 decryption is deliberately slow."""
        with self._signers_lock:
            if kid not in self._signers:
                self._signers[kid] = self.keystore.signer(org_code, bytes.fromhex(kid))
            return self._signers[kid]

    def authority(self) -> tuple[Ed25519PrivateKey, x509.Certificate]:
        """The root key and certificate, decrypted once: a registry transaction signs an
        organization certificate, a key event and the trust list with it."""
        with self._signers_lock:
            if self._authority is None:
                self._authority = self.keystore.load_authority()
            return self._authority

    def log_key(self) -> Ed25519PrivateKey:
        """The transparency log's key, decrypted once."""
        with self._signers_lock:
            if self._log_key is None:
                self._log_key = self.keystore.log_key()
            return self._log_key

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self.db.transaction() as session:
            yield session

    def retrying(self, work: Callable[[Session], T], *, attempts: int = 5) -> T:
        """Run ``work`` in a transaction, again when it lost a race on a unique key
        (audit chain head, trust-list sequence) or a serialization failure."""
        for attempt in range(attempts):
            try:
                with self.transaction() as session:
                    return work(session)
            except (IntegrityError, OperationalError):
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")


def build_services(
    config: Mapping[str, Any],
    instance_path: str,
    *,
    clock: Callable[[], datetime] | None = None,
    worker: bool = False,
) -> Services:
    """``worker``: this process runs background jobs (``issuer worker``) rather than only
    sending them."""
    from issuer.service.jobs import make_queue
    from issuer.store.db import database_url

    svc = Services(
        db=Database(database_url(config, instance_path)),
        keystore=KeyStore(settings.keys_dir(config), config["KEY_PASSPHRASE"]),
        cipher=DocumentCipher(config["DATA_KEY"]),
        qr_host=config["QR_HOST"],
        clock=clock or utc_now,
        batch_dir=settings.batch_dir(config, instance_path),
        batch_chunk=int(config["BATCH_CHUNK"]),
        max_backdate_days=int(config["MAX_BACKDATE_DAYS"]),
    )
    svc.jobs = make_queue(config, svc, worker=worker)
    return svc
