"""Public verification: the offline verdict, plus the live status only the service knows."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime

from issuer.core import trust, verify
from issuer.core.errors import CredentialFormatError
from issuer.core.explain import Explanation, Revocation, explain
from issuer.core.qrtext import decode
from issuer.service import queries, registry
from issuer.service.context import Services
from issuer.service.issuance import reason_words
from issuer.store import models as m


@dataclass(frozen=True)
class LiveVerdict:
    verdict: verify.Verdict
    record: m.Certificate | None
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


class TrustCache:
    """The latest signed trust list, loaded once per sequence number."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sequence = -1
        self._store: trust.TrustStore | None = None

    def get(self, svc: Services) -> trust.TrustStore:
        latest = registry.latest_sequence(svc)
        with self._lock:
            if self._store is None or latest != self._sequence:
                sequence, bundle = registry.trust_bundle(svc)
                self._store = trust.load_bundle(json.dumps(bundle))
                self._sequence = sequence
            return self._store


def verify_text(svc: Services, cache: TrustCache, qr_text: str) -> LiveVerdict:
    now = svc.clock()
    store = cache.get(svc)
    # The revocation status comes from the database below, more current than any status list.
    verdict = verify.verify(qr_text, store, at=now, check_status=False)
    record = None
    if verdict.credential is not None and verdict.valid:
        record = queries.by_number(svc, str(verdict.credential.number))
        if record is not None:
            try:
                if record.credential != decode(qr_text):
                    record = None  # a different signed credential with the same number
            except CredentialFormatError:
                record = None
    return LiveVerdict(verdict, record, now, store)
