"""Public verification: the offline verdict, with the trust list this service publishes,
plus the live status only the service knows (a revocation not yet on a status list, the
certificate that replaced a re-issued one, whether the service holds the credential)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from issuer.core import trust, verify
from issuer.core.errors import CredentialFormatError
from issuer.core.explain import Explanation, Revocation, explain
from issuer.core.qrtext import decode
from issuer.service.certificates import Certificates
from issuer.service.context import Context
from issuer.service.publishing import Publishing
from issuer.service.revoking import reason_words
from issuer.store.records import CertificateRecord


@dataclass(frozen=True)
class LiveVerdict:
    verdict: verify.Verdict
    record: CertificateRecord | None
    checked_at: datetime
    trust: trust.TrustStore

    @property
    def recorded(self) -> bool:
        """Whether this service holds the very credential (a valid signature on a number
        the service never issued means a key was used outside it)."""
        return self.record is not None

    @property
    def status(self) -> str:
        """``valid``, ``revoked``, ``not_valid`` or ``unknown``."""
        if self.verdict.valid and self.revocation is not None:
            return "revoked"
        return self.verdict.status.value

    @property
    def revocation(self) -> Revocation | None:
        """The revocation as the service knows it (reason, time, the replacing certificate)."""
        record = self.record
        if record is None or record.revoked_at is None:
            return None
        en, zh = reason_words(record.revocation_reason)
        return Revocation(zh, en, record.revoked_at, record.replaced_by)

    @property
    def explanation(self) -> Explanation:
        return explain(self.verdict, self.revocation)


class Verifying:
    """Verifies with the latest published trust list, loaded once per sequence number."""

    def __init__(self, ctx: Context, publishing: Publishing, certificates: Certificates) -> None:
        self._ctx = ctx
        self._publishing = publishing
        self._certificates = certificates
        self._lock = threading.Lock()
        self._sequence = -1
        self._store: trust.TrustStore | None = None

    def trust_store(self) -> trust.TrustStore:
        latest = self._publishing.latest_sequence()
        with self._lock:
            if self._store is None or latest != self._sequence:
                parts = self._publishing.parts()
                self._store, self._sequence = parts.store(), parts.sequence
            return self._store

    def verify_text(self, qr_text: str) -> LiveVerdict:
        now = self._ctx.clock()
        store = self.trust_store()
        # The revocation status comes from the store below, more current than any status list.
        verdict = verify.verify(qr_text, store, at=now, check_status=False)
        record = None
        if verdict.credential is not None and verdict.valid:
            record = self._certificates.by_number(str(verdict.credential.number))
            if record is not None:
                try:
                    if record.credential != decode(qr_text):
                        record = None  # a different signed credential with the same number
                except CredentialFormatError:
                    record = None
        return LiveVerdict(verdict, record, now, store)
