"""Tables. Document numbers are stored encrypted (AES-GCM) with an HMAC for lookups;
private keys are not here at all (they live encrypted in the key store under keys/)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


def _ts() -> Mapped[datetime]:
    return mapped_column(UTCDateTime())


def _ts_or_none() -> Mapped[datetime | None]:
    return mapped_column(UTCDateTime(), nullable=True)


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(13), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    registered_from: Mapped[date] = mapped_column(Date)
    registered_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = _ts()
    layout: Mapped[str] = mapped_column(String(40), default="portrait", server_default="portrait")
    background: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    seal: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    revision: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """Random, set anew by every change to the organization or its children (the
    repository's writers do it): processes keep records while it stays the same. Anything
    else that writes these tables must set it too."""

    status_history: Mapped[list[StatusChange]] = relationship(
        back_populates="organization", order_by="StatusChange.id", cascade="all, delete-orphan"
    )
    scope: Mapped[list[ScopeEntry]] = relationship(
        back_populates="organization", order_by="ScopeEntry.id", cascade="all, delete-orphan"
    )
    keys: Mapped[list[SigningKey]] = relationship(
        back_populates="organization", order_by="SigningKey.id", cascade="all, delete-orphan"
    )


class StatusChange(Base):
    __tablename__ = "organization_status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    since: Mapped[datetime] = _ts()
    """Effective from this instant (inclusive)."""
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = _ts()

    organization: Mapped[Organization] = relationship(back_populates="status_history")


class ScopeEntry(Base):
    __tablename__ = "organization_scope"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    occupation: Mapped[str] = mapped_column(String(10))
    edition: Mapped[int] = mapped_column(Integer)
    levels: Mapped[list[int]] = mapped_column(JSON)
    work_types: Mapped[list[str]] = mapped_column(JSON)
    valid_from: Mapped[datetime | None] = _ts_or_none()
    """In force from this instant (inclusive); none: always."""
    valid_until: Mapped[datetime | None] = _ts_or_none()
    """In force until this instant (exclusive); none: open."""

    organization: Mapped[Organization] = relationship(back_populates="scope")


class SigningKey(Base):
    __tablename__ = "signing_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    kid: Mapped[str] = mapped_column(String(16), unique=True)
    certificate: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = _ts()
    retired_at: Mapped[datetime | None] = _ts_or_none()
    compromised_at: Mapped[datetime | None] = _ts_or_none()

    organization: Mapped[Organization] = relationship(back_populates="keys")


class SerialCounter(Base):
    """The last serial used per (organization code, two-digit year, level)."""

    __tablename__ = "serial_counters"

    org_code: Mapped[str] = mapped_column(String(13), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    level: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_serial: Mapped[int] = mapped_column(Integer)


class Certificate(Base):
    __tablename__ = "certificates"
    __table_args__ = (
        UniqueConstraint("organization_id", "status_index", name="uq_certificates_status_index"),
        Index("ix_certificates_org_issue_date", "organization_id", "issue_date"),
        Index(
            "uq_certificates_live_qualification",
            "organization_id",
            "qualification",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
        Index(
            "ix_certificates_unlogged",
            "id",
            sqlite_where=text("log_index IS NULL"),
            postgresql_where=text("log_index IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(22), unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    signing_key_id: Mapped[int] = mapped_column(ForeignKey("signing_keys.id"))
    holder_name: Mapped[str] = mapped_column(String(64))
    document_type: Mapped[int] = mapped_column(Integer)
    document_number_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    document_number_hmac: Mapped[str] = mapped_column(String(64), index=True)
    document_number_masked: Mapped[str] = mapped_column(String(40))
    occupation: Mapped[str] = mapped_column(String(10))
    occupation_edition: Mapped[int] = mapped_column(Integer)
    work_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    level: Mapped[int] = mapped_column(Integer)
    issue_date: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime | None] = _ts_or_none()
    """The instant in the credential (version 2); none for a version-1 credential."""
    qualification: Mapped[str] = mapped_column(String(64))
    """Who holds what: a hash of the holder's document (its HMAC and type), the occupation,
    edition, 工种 and level. One live certificate per organization and qualification."""
    score_theory: Mapped[Decimal | None] = mapped_column(Numeric(5, 2), nullable=True)
    score_practical: Mapped[Decimal | None] = mapped_column(Numeric(5, 2), nullable=True)
    score_review: Mapped[Decimal | None] = mapped_column(Numeric(5, 2), nullable=True)
    assessment_method: Mapped[int] = mapped_column(Integer, server_default="1")
    """The code of the assessment method (``core.assessment``; 1 考试考核), as the credential says."""
    assessment: Mapped[list[dict[str, object]] | None] = mapped_column(JSON, nullable=True)
    """Every component as judged: its score or competition result and the date it was passed
    (``assessment.Passed.to_json``); none for certificates issued before it was kept, whose
    exam scores are the columns above, passed on the issue date."""
    photo: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    status_index: Mapped[int] = mapped_column(Integer)
    credential: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = _ts()
    created_by: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = _ts_or_none()
    revocation_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    revocation_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    log_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True, unique=True)
    """The transparency-log leaf recording its issuance."""
    replaces: Mapped[str | None] = mapped_column(String(22), nullable=True)
    """The number of the certificate this one was issued to replace (换发)."""
    replaced_by: Mapped[str | None] = mapped_column(String(22), nullable=True)
    """The number of the certificate that replaced this one (it is then revoked, ``reissued``)."""

    organization: Mapped[Organization] = relationship()


class Batch(Base):
    """A roster issued in one transaction; its certificates' images are made afterwards,
    in the background, and packed into one archive."""

    __tablename__ = "batches"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    created_at: Mapped[datetime] = _ts()
    created_by: Mapped[str] = mapped_column(String(64))
    roster_name: Mapped[str] = mapped_column(String(255))
    rows: Mapped[int] = mapped_column(Integer)
    issued: Mapped[int] = mapped_column(Integer)
    formats: Mapped[str] = mapped_column(String(16))
    dpi: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)
    report: Mapped[dict[str, object]] = mapped_column(JSON)
    dispatched_at: Mapped[datetime | None] = _ts_or_none()
    """When the job of the batch's current stage (validating, then drawing) was queued."""
    finished_at: Mapped[datetime | None] = _ts_or_none()
    archive_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    archive_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    checked: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Rows validated so far."""
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    valid_rows_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    validation_holder: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """The holder of the validation lease the batch's validation runs under."""
    validation_started_at: Mapped[datetime | None] = _ts_or_none()
    validation_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    refusal: Mapped[dict[str, object] | None] = mapped_column(JSON, nullable=True)
    """Why a roster was rejected: ``{code, message, message_zh}``."""


class BatchItem(Base):
    """One issued row of a batch, in issue order; ``rendered_at`` once its files are on disk."""

    __tablename__ = "batch_items"

    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    row: Mapped[int] = mapped_column(Integer)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id"), unique=True)
    rendered_at: Mapped[datetime | None] = _ts_or_none()

    certificate: Mapped[Certificate] = relationship()


class ValidationLease(Base):
    """One of an organization's slots for validating a roster (a dry run or an upload),
    held while the validation runs. Its holder renews it; a holder that stops (a killed
    process) leaves a lease that expires at ``expires_at`` and is then taken over."""

    __tablename__ = "validation_leases"

    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holder: Mapped[str] = mapped_column(String(32))
    taken_at: Mapped[datetime] = _ts()
    expires_at: Mapped[datetime] = _ts()


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("principal", "key", name="uq_idempotency_principal_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    principal: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, object]] = mapped_column(JSON)
    """A reference to what the request made (certificate number, batch id), never its data."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), nullable=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = _ts()
    revoked_at: Mapped[datetime | None] = _ts_or_none()

    organization: Mapped[Organization | None] = relationship()


class TrustListRecord(Base):
    """Every trust list the authority signed, in order."""

    __tablename__ = "trust_lists"

    sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    issued_at: Mapped[datetime] = _ts()
    signed: Mapped[bytes] = mapped_column(LargeBinary)


class AuditEvent(Base):
    """Append-only, hash-chained: ``hash = SHA-256(prev_hash ‖ canonical JSON of the event)``."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = _ts()
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, object]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class LogState(Base):
    """The transparency log's size and frontier: one row, locked by every append so that
    leaves are numbered one after another. The frontier (``merkle.Frontier``: the hashes of
    the subtrees the tree splits into, concatenated) lets an append hash without reading
    ``log_nodes``."""

    __tablename__ = "log_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    frontier: Mapped[bytes] = mapped_column(LargeBinary, default=b"")


class LogEntry(Base):
    __tablename__ = "log_entries"

    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(16))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    logged_at: Mapped[datetime] = _ts()


class LogNode(Base):
    """The hash of an aligned perfect subtree of the log: leaves
    [position·2^level, (position+1)·2^level). Level 0 holds the leaf hashes."""

    __tablename__ = "log_nodes"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary)


class TreeHeadRecord(Base):
    __tablename__ = "tree_heads"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary)
    timestamp: Mapped[datetime] = _ts()
    signed: Mapped[bytes] = mapped_column(LargeBinary)


class StatusListRecord(Base):
    """An organization's latest signed status list."""

    __tablename__ = "status_lists"

    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    issued_at: Mapped[datetime] = _ts()
    signed: Mapped[bytes] = mapped_column(LargeBinary)


class BundleManifestRecord(Base):
    """The trust bundle's manifest as last signed (one row, ``id`` 1): signed by the log key
    in the transaction of every change to a part it names, read as it is by every GET."""

    __tablename__ = "bundle_manifest"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    issued_at: Mapped[datetime] = _ts()
    signed: Mapped[bytes] = mapped_column(LargeBinary)


class UpkeepJob(Base):
    """A scheduled upkeep job (``service/upkeep.py``): who runs it now (until
    ``expires_at``) and when a run last started. However many schedulers run, the one
    whose statement takes the row runs the job."""

    __tablename__ = "upkeep_jobs"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[datetime] = _ts()
    ran_at: Mapped[datetime | None] = _ts_or_none()


class Account(Base):
    """A person who signs in to the web console: an organization's issuer, or an authority
    administrator. The password is stored as a salted scrypt hash only."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), nullable=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    """Raised on sign-out and password change: older session cookies stop working."""
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = _ts_or_none()
    created_at: Mapped[datetime] = _ts()
    disabled_at: Mapped[datetime | None] = _ts_or_none()

    organization: Mapped[Organization | None] = relationship()
