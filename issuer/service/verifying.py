"""Public verification: the offline verdict, with the trust list this service publishes,
plus what only the service knows, all of it from signed data: whether the service holds the
very credential, whether the organization's latest signed status list marks it revoked (more
current than any list a verifier holds: it is signed in the transaction of each revocation),
and whether the service's record of it still agrees with what was signed
(``integrity``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from issuer.core import identity, trust, verify
from issuer.core.credential import Credential
from issuer.core.errors import CredentialFormatError, InvalidInput, NotFound
from issuer.core.explain import Explanation, Revocation, explain, record_damaged, status_unusable
from issuer.core.numbering import CertificateNumber
from issuer.core.qrtext import decode
from issuer.service.certificates import Certificates
from issuer.service.context import Context
from issuer.service.integrity import CheckedRecord, RecordCheck, revoked_in
from issuer.store.records import VerificationRead

READS = 3
"""Statements a verification runs at most when trust lists are published meanwhile."""
PERSON_LOOKUP_MAX = 50
"""Certificates the lookup by a person lists at most (a person holds a handful)."""


@dataclass(frozen=True)
class LiveVerdict:
    verdict: verify.Verdict
    checked: CheckedRecord | None
    """The service's row of this very credential, checked against its signed data."""
    listed_revoked: bool | None
    """Whether the organization's latest signed status list marks it revoked (``None``: no
    usable list; not asked for a credential that is not valid)."""
    checked_at: datetime
    trust: trust.TrustStore

    @property
    def recorded(self) -> bool:
        """Whether this service holds the very credential (a valid signature on a number
        the service never issued means a key was used outside it)."""
        return self.checked is not None

    @property
    def damaged(self) -> bool:
        """The service's row of this credential disagrees with it or with the signed list."""
        return self.checked is not None and self.status == "not_valid" and self.checked.damaged

    @property
    def status(self) -> str:
        """``valid``, ``revoked``, ``not_valid`` or ``unknown``."""
        if not self.verdict.valid:
            return self.verdict.status.value
        if self.checked is not None:
            return self.checked.status
        if self.listed_revoked is None:
            return "unknown"
        return "revoked" if self.listed_revoked else "valid"

    @property
    def revocation(self) -> Revocation | None:
        """The revocation the signed list shows (with the row's reason, time and successor
        when the row agrees)."""
        if self.status != "revoked":
            return None
        return self.checked.revocation if self.checked is not None else Revocation("", "")

    @property
    def explanation(self) -> Explanation:
        if self.damaged:
            return record_damaged()
        if self.verdict.valid and self.status == "unknown":
            return status_unusable()
        return explain(self.verdict, self.revocation)


@dataclass(frozen=True)
class LookedUp:
    checked: CheckedRecord
    document_number_masked: str
    """The number as typed (it matched the signed commitment), masked."""
    photo: bytes | None = None
    """The holder's photo, shown as the national site shows it to whom proved who they look
    up; none for a record that disagrees with its signed data."""


class Reads(Protocol):
    """The one statement of a verification (``issuer.store.verification.VerificationReader``)."""

    def read(self, number: str | None, organization: str | None) -> VerificationRead: ...


class Verifying:
    """Verifies with the latest published trust list and signed status lists."""

    def __init__(
        self,
        ctx: Context,
        records: RecordCheck,
        certificates: Certificates,
        reads: Reads,
        observe: Callable[[LiveVerdict], None] | None = None,
    ) -> None:
        """``observe``: told every verdict ``verify_text`` gives (``service.metrics`` counts them)."""
        self._ctx = ctx
        self._records = records
        self._certificates = certificates
        self._reads = reads
        self._observe = observe

    def trust_store(self) -> trust.TrustStore:
        return self._records.trust_store()

    def verify_text(self, qr_text: str) -> LiveVerdict:
        """One statement reads all a verification needs (``Reads``): the latest
        trust list's sequence number, the row of the credential's number and its
        organization's signed status list, from one snapshot. The credential is verified
        first, with the trust store kept from the requests before; when the statement shows
        another trust list, the store is loaded again and the credential verified again, so
        that nothing committed before the statement is missed (no staleness)."""
        now = self._ctx.clock()
        sequence, store = self._records.kept_store()
        for _ in range(READS):
            # The status comes from the organization's latest signed list, not the bundle's.
            verdict = verify.verify(qr_text, store, at=now, check_status=False)
            wanted = verdict.credential if verdict.valid else None
            number = None if wanted is None else wanted.number
            read = self._reads.read(
                None if number is None else str(number), None if number is None else str(number.org)
            )
            if read.trust_sequence == sequence:
                break
            sequence, store = self._records.store_at(read.trust_sequence)
        live = self._live(qr_text, verdict, read, now, store)
        if self._observe is not None:
            self._observe(live)
        return live

    def _live(
        self, qr_text: str, verdict: verify.Verdict, read: VerificationRead, now: datetime, store: trust.TrustStore
    ) -> LiveVerdict:
        credential = verdict.credential
        if credential is None or not verdict.valid:
            return LiveVerdict(verdict, None, None, now, store)
        organization = str(credential.number.org)
        listed = revoked_in(self._records.opened(store, organization, read.status_list), credential)
        record = read.certificate
        if record is None:
            return LiveVerdict(verdict, None, listed, now, store)
        same = record.credential == _bytes(qr_text)
        stored = verdict if same else None
        checked = self._records.check_with(record, now, store, lambda c: self._listed(store, c, read), stored)
        if not same and not checked.damaged:  # a different signed credential with the same number: not ours
            return LiveVerdict(verdict, None, listed, now, store)
        return LiveVerdict(verdict, checked, checked.listed_revoked, now, store)

    def _listed(self, store: trust.TrustStore, credential: Credential, read: VerificationRead) -> bool | None:
        """What the signed list says of a stored credential: from the list read with the
        row when it is its organization's (a row holding another organization's credential
        is damaged; its list is read then)."""
        organization = str(credential.number.org)
        if read.status_list is not None and read.status_list.organization_code == organization:
            return revoked_in(self._records.opened(store, organization, read.status_list), credential)
        return self._records.listed_revoked(store, credential)

    def lookup(self, number: str, name: str, document_number: str) -> LookedUp:
        """The public lookup: all three must match, any mismatch is the same "not found".
        The name and document number are matched against the signed credential (its name,
        its commitment) as well as the row: a row changed to another name or number finds
        the certificate, which then says that its record is damaged."""
        try:
            parsed = str(CertificateNumber.parse(number, self._ctx.catalogue))
        except InvalidInput:
            raise _no_match() from None
        record = self._certificates.by_number(parsed)
        if record is None or record.document_number_hmac != self._ctx.cipher.lookup_hash(document_number):
            raise _no_match()
        checked = self._records.check(record, self._ctx.clock())
        signed = checked.credential
        if name.strip() not in {record.holder_name, signed.holder_name if signed else record.holder_name}:
            raise _no_match()
        if signed is not None and not identity.matches(signed.document_commitment, document_number):
            checked = replace(checked, damage=(*checked.damage, "document_number"))
        return self._looked_up(checked, document_number)

    def _looked_up(self, checked: CheckedRecord, document_number: str) -> LookedUp:
        photo = None if checked.damage else self._certificates.holder_photo(checked.record.number)
        return LookedUp(checked, identity.mask(identity.normalize_document_number(document_number)), photo)

    def lookup_person(self, name: str, document_number: str) -> list[LookedUp]:
        """The public lookup by a person, as the national site offers it: every certificate
        of this service whose holder has this name and document number, the latest first
        (at most ``PERSON_LOOKUP_MAX``), each checked as ``lookup`` checks one. None: the
        same "not found" whatever did not match."""
        wanted = name.strip()
        if not wanted or not document_number.strip():
            raise _no_person()
        found = []
        for record in self._certificates.of_document(self._ctx.cipher.lookup_hash(document_number), PERSON_LOOKUP_MAX):
            checked = self._records.check(record, self._ctx.clock())
            signed = checked.credential
            if wanted not in {record.holder_name, signed.holder_name if signed else record.holder_name}:
                continue
            if signed is not None and not identity.matches(signed.document_commitment, document_number):
                checked = replace(checked, damage=(*checked.damage, "document_number"))
            found.append(self._looked_up(checked, document_number))
        if not found:
            raise _no_person()
        return found


def _no_person() -> NotFound:
    return NotFound(
        "no_matching_certificate",
        "no certificate matches this name and document number",
        "未查到与该姓名和证件号码相符的证书",
    )


def _no_match() -> NotFound:
    return NotFound(
        "no_matching_certificate",
        "no certificate matches this number, name and document number",
        "未查到与该编号、姓名和证件号码相符的证书",
    )


def _bytes(qr_text: str) -> bytes | None:
    try:
        return decode(qr_text)
    except CredentialFormatError:
        return None
