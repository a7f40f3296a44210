"""A stored certificate checked against the signed data it came with.

Anyone who can write to the database can change a row; nobody can sign without the keys.
So what the service says of a certificate comes from signed data: its fields from the
stored credential (its signature checked as the offline verifier checks it, with the trust
list the service published), whether it is revoked from the organization's latest signed
status list (signed in the same transaction as every revocation). A row that disagrees with
them is *damaged*: the service answers ``not_valid`` with the reason ``record_damaged``
(记录已损坏), except that a certificate its signed list shows revoked stays revoked
(revocation is final), and the storage audit reports the row."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime

from issuer.core import trust, verify
from issuer.core.credential import Credential
from issuer.core.errors import TrustError
from issuer.core.explain import Revocation
from issuer.core.statuslist import StatusList
from issuer.service.context import Context
from issuer.service.publishing import Publishing
from issuer.service.revoking import reason_words
from issuer.store.records import CertificateRecord, StatusListRow
from issuer.store.uow import UnitOfWork

SIGNATURE_CHECKS = frozenset({"decodable", "known_key", "signature", "claims"})
"""The checks whose failure means the stored bytes are not a credential any known key signed."""


def differences(record: CertificateRecord, credential: Credential) -> list[str]:
    """The row's columns that disagree with its signed credential."""
    signed = {
        "number": (record.number, str(credential.number)),
        "organization": (record.organization_code, str(credential.number.org)),
        "holder_name": (record.holder_name, credential.holder_name),
        "document_type": (record.document_type, credential.document_type),
        "occupation": (record.occupation, credential.occupation),
        "occupation_edition": (record.occupation_edition, credential.occupation_edition),
        "work_type": (record.work_type or None, credential.work_type),
        "level": (record.level, credential.level),
        "issue_date": (record.issue_date, credential.issue_date),
        "status_index": (record.status_index, credential.status_index),
        "assessment_method": (record.assessment_method, credential.assessment_method),
    }
    if credential.issued_at is not None:
        signed["issued_at"] = (record.issued_at, credential.issued_at)
    return [name for name, (stored, said) in signed.items() if stored != said]


@dataclass(frozen=True)
class CheckedRecord:
    """A certificate row, its stored credential as verified, and its signed revocation status."""

    record: CertificateRecord
    verdict: verify.Verdict
    """The stored credential verified without status (at the time of the check)."""
    listed_revoked: bool | None
    """Whether the organization's latest signed status list marks it revoked; ``None``: no
    usable list (or no signed credential to find the bit by)."""
    damage: tuple[str, ...]
    """The fields of the row that disagree with the signed data (``credential``: the stored
    bytes are not a credential a key of the trust list signed)."""

    @property
    def credential(self) -> Credential | None:
        return None if "credential" in self.damage else self.verdict.credential

    @property
    def damaged(self) -> bool:
        return bool(self.damage)

    @property
    def status(self) -> str:
        """``valid``, ``revoked``, ``not_valid`` (damaged) or ``unknown`` (no usable list)."""
        if "credential" in self.damage:
            return "not_valid"
        if self.listed_revoked:
            return "revoked"
        if self.damage:
            return "not_valid"
        return "unknown" if self.listed_revoked is None else "valid"

    @property
    def revocation(self) -> Revocation | None:
        """The revocation the signed list shows, with the row's reason, time and successor
        only when the row agrees that it is revoked."""
        if self.status != "revoked":
            return None
        record = self.record
        if record.revoked_at is None:
            return Revocation("", "")
        en, zh = reason_words(record.revocation_reason)
        return Revocation(zh, en, record.revoked_at, record.replaced_by)


class RecordCheck:
    """Checks rows against the service's signed data: the latest trust list (loaded once per
    sequence number) and each organization's latest signed status list (opened once per
    signed list)."""

    def __init__(self, ctx: Context, publishing: Publishing) -> None:
        self._ctx = ctx
        self._publishing = publishing
        self._lock = threading.Lock()
        self._sequence = -1
        self._store: trust.TrustStore | None = None
        self._lists: dict[str, tuple[bytes, StatusList]] = {}

    def trust_store(self, uow: UnitOfWork | None = None) -> trust.TrustStore:
        """The latest published trust list (its sequence number read in ``uow``)."""
        with self._reading(uow) as reading:
            latest = reading.trust_lists.latest_sequence()
        return self.store_at(latest)[1]

    def store_at(self, sequence: int) -> tuple[int, trust.TrustStore]:
        """The trust store kept when it is the trust list ``sequence``'s; else the latest,
        loaded (its sequence may be later than ``sequence``) and kept; with its sequence."""
        with self._lock:
            if self._store is None or sequence != self._sequence:
                self._load()
            assert self._store is not None
            return self._sequence, self._store

    def kept_store(self) -> tuple[int, trust.TrustStore]:
        """The trust store kept from the last load and its sequence number (on first use,
        the latest, loaded now)."""
        with self._lock:
            if self._store is None:
                self._load()
            assert self._store is not None
            return self._sequence, self._store

    def _load(self) -> None:
        parts = self._publishing.parts()
        self._store, self._sequence = parts.store(), parts.sequence
        self._lists = {}

    def status_list(
        self, store: trust.TrustStore, organization: str, uow: UnitOfWork | None = None
    ) -> StatusList | None:
        """The organization's latest signed status list (read in ``uow``), ``None`` when it
        is missing or does not check out."""
        with self._reading(uow) as reading:
            row = reading.status_lists.get(organization)
        return self.opened(store, organization, row)

    def opened(self, store: trust.TrustStore, organization: str, row: StatusListRow | None) -> StatusList | None:
        """``row``'s signed list opened with ``store`` (once per signed bytes), ``None`` when
        there is none or it does not check out as ``organization``'s."""
        if row is None:
            return None
        with self._lock:
            cached = self._lists.get(organization)
            if cached is not None and cached[0] == row.signed:
                return cached[1]
        try:
            found = store.open_status_list(row.signed)
        except TrustError:
            return None
        if found.organization != organization:
            return None
        with self._lock:
            self._lists[organization] = (row.signed, found)
        return found

    @contextmanager
    def _reading(self, uow: UnitOfWork | None) -> Iterator[UnitOfWork]:
        """The caller's unit of work (one transaction for all a request reads), else a new one."""
        with nullcontext(uow) if uow is not None else self._ctx.reading() as reading:
            yield reading

    def listed_revoked(
        self, store: trust.TrustStore, credential: Credential, uow: UnitOfWork | None = None
    ) -> bool | None:
        """Whether the signer's latest signed list marks ``credential`` revoked (``None``:
        no usable list, or no index in it)."""
        return revoked_in(self.status_list(store, str(credential.number.org), uow), credential)

    def check(
        self,
        record: CertificateRecord,
        at: datetime,
        store: trust.TrustStore | None = None,
        verdict: verify.Verdict | None = None,
        uow: UnitOfWork | None = None,
    ) -> CheckedRecord:
        """``record`` against its stored credential and its organization's signed list;
        ``verdict``: the caller's verdict (without status, at ``at``, with ``store``) of the
        very bytes stored, so that they are not verified twice; ``uow``: the caller's open
        unit of work."""
        store = store or self.trust_store(uow)
        return self.check_with(record, at, store, lambda c: self.listed_revoked(store, c, uow), verdict)

    def check_with(
        self,
        record: CertificateRecord,
        at: datetime,
        store: trust.TrustStore,
        listed_revoked: Callable[[Credential], bool | None],
        verdict: verify.Verdict | None = None,
    ) -> CheckedRecord:
        """``check``, with the signed list's answer for the stored credential from
        ``listed_revoked`` (a list the caller has read)."""
        verdict = verdict or verify.verify_signed(record.credential, store, at=at, check_status=False)
        if verdict.credential is None or verdict.failed_check in SIGNATURE_CHECKS:
            if verdict.status is verify.Status.UNKNOWN:  # the signer's entry is set aside: cannot tell
                return CheckedRecord(record, verdict, None, ())
            return CheckedRecord(record, verdict, None, ("credential",))
        credential = verdict.credential
        damage = differences(record, credential)
        listed = listed_revoked(credential)
        if listed is not None and listed != (record.revoked_at is not None):
            damage.append("revoked_at")
        if record.replaced_by is not None and record.revoked_at is None:
            damage.append("replaced_by")
        return CheckedRecord(record, verdict, listed, tuple(damage))


def revoked_in(found: StatusList | None, credential: Credential) -> bool | None:
    """Whether ``found`` marks ``credential`` revoked (``None``: no list, or no index in it)."""
    index = credential.status_index
    if found is None or index is None or not 0 <= index < found.size:
        return None
    return found.revoked(index)
