"""What the store hands out: plain, frozen dataclasses, never ORM rows.

A service reads a record, decides, and tells a repository what to change; nothing outside
``issuer/store`` holds a database session or an object attached to one, so nothing is
loaded lazily behind a caller's back and a record means the same after its transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple


@dataclass(frozen=True)
class StatusChangeRecord:
    status: str
    since: datetime
    note: str


@dataclass(frozen=True)
class ScopeRecord:
    id: int
    occupation: str
    edition: int
    levels: tuple[int, ...]
    work_types: tuple[str, ...]
    valid_from: datetime | None
    valid_until: datetime | None


@dataclass(frozen=True)
class KeyRecord:
    id: int
    kid: str
    """Hex of the 8-byte key id."""
    certificate: bytes
    status: str
    created_at: datetime
    retired_at: datetime | None
    compromised_at: datetime | None


@dataclass(frozen=True)
class OrganizationRecord:
    id: int
    code: str
    name: str
    registered_from: date
    registered_until: date | None
    status: str
    """The latest status decided (in force from its ``since``)."""
    created_at: datetime
    layout: str
    has_background: bool
    has_logo: bool
    has_seal: bool
    status_history: tuple[StatusChangeRecord, ...]
    scope: tuple[ScopeRecord, ...]
    keys: tuple[KeyRecord, ...]

    @property
    def active_key(self) -> KeyRecord | None:
        return next((k for k in self.keys if k.status == "active"), None)

    def key(self, kid: str) -> KeyRecord | None:
        return next((k for k in self.keys if k.kid == kid.lower()), None)


SCORE_SCALE = Decimal("0.01")
"""Scores are stored with two decimals."""


@dataclass(frozen=True)
class NewCertificate:
    number: str
    organization_id: int
    signing_key_id: int
    holder_name: str
    document_type: int
    document_number_encrypted: bytes
    document_number_hmac: str
    document_number_masked: str
    occupation: str
    occupation_edition: int
    work_type: str | None
    level: int
    issue_date: date
    issued_at: datetime | None
    qualification: str
    score_theory: Decimal | None
    score_practical: Decimal | None
    score_review: Decimal | None
    photo: bytes | None
    status_index: int
    credential: bytes
    created_at: datetime
    created_by: str
    log_index: int | None
    replaces: str | None = None
    assessment_method: int = 1
    assessment: list[dict[str, Any]] | None = None

    def stored(self, id: int, organization_code: str, organization_name: str) -> CertificateRecord:
        """The record of this certificate once stored as ``id`` (as ``get`` reads it back)."""
        fields = {k: v for k, v in vars(self).items() if k != "photo"}
        for score in ("score_theory", "score_practical", "score_review"):
            if fields[score] is not None:  # as the NUMERIC(5, 2) column gives it back
                fields[score] = Decimal(fields[score]).quantize(SCORE_SCALE)
        return CertificateRecord(
            id=id,
            organization_code=organization_code,
            organization_name=organization_name,
            has_photo=self.photo is not None,
            revoked_at=None,
            revocation_reason=None,
            revocation_note=None,
            revoked_by=None,
            replaced_by=None,
            **fields,
        )


@dataclass(frozen=True)
class CertificateRecord:
    id: int
    number: str
    organization_id: int
    organization_code: str
    organization_name: str
    signing_key_id: int
    holder_name: str
    document_type: int
    document_number_encrypted: bytes
    document_number_hmac: str
    document_number_masked: str
    occupation: str
    occupation_edition: int
    work_type: str | None
    level: int
    issue_date: date
    issued_at: datetime | None
    qualification: str
    score_theory: Decimal | None
    score_practical: Decimal | None
    score_review: Decimal | None
    has_photo: bool
    status_index: int
    credential: bytes
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    revocation_reason: str | None
    revocation_note: str | None
    revoked_by: str | None
    log_index: int | None
    replaces: str | None
    replaced_by: str | None
    assessment_method: int = 1
    """The assessment method's code (1 考试考核)."""
    assessment: list[dict[str, Any]] | None = None
    """Every component as judged (``core.assessment.Passed.to_json``), or None for a
    certificate issued before they were kept."""


@dataclass(frozen=True)
class Revocation:
    at: datetime
    reason: str
    note: str
    by: str
    replaced_by: str | None = None


@dataclass(frozen=True)
class CertificateFilter:
    """What an organization searches its certificates by (all optional, combined)."""

    number_prefix: str | None = None
    name_contains: str | None = None
    document_number_hmac: str | None = None
    document_tail: str | None = None
    """The last characters (at most 4) of the document number: what its masked form keeps."""
    batch_id: str | None = None
    occupation: str | None = None
    level: int | None = None
    issued_from: date | None = None
    issued_until: date | None = None
    revoked: bool | None = None


@dataclass(frozen=True)
class BatchRecord:
    id: str
    organization_id: int
    created_at: datetime
    created_by: str
    roster_name: str
    rows: int
    issued: int
    formats: tuple[str, ...]
    dpi: int
    status: str
    report: dict[str, Any]
    dispatched_at: datetime | None
    finished_at: datetime | None
    archive_bytes: int | None
    archive_sha256: str | None
    error: str | None
    rendered: int = 0
    """Items whose files are on disk."""
    checked: int = 0
    """Rows validated so far."""
    dry_run: bool = False
    valid_rows_only: bool = False
    validation_holder: str | None = None
    """The holder of the validation lease the batch's validation runs under."""
    validation_started_at: datetime | None = None
    validation_attempts: int = 0
    refusal: dict[str, Any] | None = None
    """Why a roster was rejected: ``{code, message, message_zh}``."""


@dataclass(frozen=True)
class BatchLine:
    """One issued row of a batch as the result spreadsheet and the drawing need it."""

    position: int
    row: int
    number: str
    holder_name: str
    document_number_masked: str
    occupation: str
    work_type: str | None
    level: int
    issue_date: date
    revoked: bool


@dataclass(frozen=True)
class IdempotentAnswer:
    request_hash: str
    status_code: int
    response: dict[str, Any]


@dataclass(frozen=True)
class AuditEventRecord:
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ApiKeyRecord:
    id: int
    prefix: str
    secret_hash: str
    role: str
    organization_id: int | None
    organization_code: str | None
    name: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class AccountRecord:
    id: int
    username: str
    display_name: str
    role: str
    organization_id: int | None
    organization_code: str | None
    password_hash: str
    session_epoch: int
    failed_logins: int
    locked_until: datetime | None
    created_at: datetime
    disabled_at: datetime | None


@dataclass(frozen=True)
class TrustListRow:
    sequence: int
    issued_at: datetime
    signed: bytes


@dataclass(frozen=True)
class StatusListRow:
    organization_id: int
    organization_code: str
    issued_at: datetime
    signed: bytes


@dataclass(frozen=True)
class VerificationRead:
    """What one public verification reads, in one statement (one snapshot of the database)."""

    trust_sequence: int
    """The latest trust list's sequence number (0: none published)."""
    certificate: CertificateRecord | None
    status_list: StatusListRow | None


class UnloggedCertificate(NamedTuple):
    """A certificate whose issuance the transparency log has yet to append."""

    id: int
    credential: bytes
    created_at: datetime
    """When it was issued: its log entry's time."""


@dataclass(frozen=True)
class TreeHeadRow:
    tree_size: int
    root_hash: bytes
    timestamp: datetime
    signed: bytes


@dataclass(frozen=True)
class ManifestRow:
    issued_at: datetime
    signed: bytes


@dataclass(frozen=True)
class UpkeepRow:
    name: str
    holder: str
    expires_at: datetime
    ran_at: datetime | None


@dataclass(frozen=True)
class Statistic:
    organization: str
    level: int
    issued: int
    revoked: int


@dataclass(frozen=True)
class DailyCount:
    """Certificates of one organization, occupation and level issued on one day."""

    organization: str
    occupation: str
    level: int
    day: date
    issued: int
    revoked: int


@dataclass
class Page:
    items: list[Any] = field(default_factory=list)
    total: int = 0
