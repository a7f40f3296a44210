"""Batch issuance: an exam session's roster validated whole, then every valid row issued in
one transaction (one contiguous block of serials per year and level) together with a batch
record; the certificates' images are drawn afterwards in the background (``jobs``) and
packed into one archive (``batch_output``)."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from issuer.core.clock import china_date
from issuer.core.errors import Conflict, InvalidInput, NotFound
from issuer.service import batch_output, jobs
from issuer.service.context import Services
from issuer.service.idempotency import run_once
from issuer.service.issuance import IssueRequest, issue_in
from issuer.service.principal import Principal, Role, require_role
from issuer.service.roster import PhotoArchive, RosterReport, ValidRow, read_roster, validate_roster
from issuer.store import models as m

log = logging.getLogger(__name__)

ISSUE_CHUNK = 200
"""Certificates built and flushed together inside the one transaction, then let go."""
DEFAULT_FORMATS = ("png", "pdf")
DEFAULT_DPI = 300
BATCH_DPIS = (150, 200, 300, 600)


@dataclass(frozen=True)
class Upload:
    roster: bytes
    filename: str
    photos: IO[bytes] | None = None
    """The photos ZIP, read member by member (a spooled upload stays on disk)."""
    valid_rows_only: bool = False
    formats: tuple[str, ...] = DEFAULT_FORMATS
    dpi: int = DEFAULT_DPI

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for part in (self.roster, self.filename.encode(), _digest(self.photos)):
            h.update(hashlib.sha256(part).digest())
        h.update(f"{int(self.valid_rows_only)}|{','.join(self.formats)}|{self.dpi}".encode())
        return h.hexdigest()


def _digest(stream: IO[bytes] | None) -> bytes:
    if stream is None:
        return b""
    h = hashlib.sha256()
    stream.seek(0)
    while block := stream.read(1 << 20):
        h.update(block)
    stream.seek(0)
    return h.digest()


def _check_output(upload: Upload) -> None:
    if not upload.formats or any(f not in batch_output.FORMATS for f in upload.formats):
        raise InvalidInput("invalid_formats", "formats are png and/or pdf", "输出格式应为png和/或pdf")
    if upload.dpi not in BATCH_DPIS:
        dpis = "、".join(map(str, BATCH_DPIS))
        raise InvalidInput("invalid_dpi", f"dpi must be one of {dpis}", f"分辨率应为{dpis} dpi之一")


def check(svc: Services, principal: Principal | None, upload: Upload) -> RosterReport:
    """Read and validate without issuing (dry run)."""
    return _validate(svc, principal, upload)[0]


def _validate(svc: Services, principal: Principal | None, upload: Upload) -> tuple[RosterReport, PhotoArchive | None]:
    _check_output(upload)
    photos = PhotoArchive(upload.photos) if upload.photos is not None else None
    return validate_roster(svc, principal, read_roster(upload.roster, upload.filename), photos=photos), photos


def submit(
    svc: Services, principal: Principal | None, upload: Upload, *, idempotency_key: str | None = None
) -> tuple[dict[str, Any], bool]:
    """Validate and issue a roster, then queue its images. A retry with the same
    Idempotency-Key returns the first answer, issues nothing twice, and queues the images
    again if queueing failed the first time."""
    p = require_role(principal, Role.ORG_ISSUER)

    def work(session: Session, checked: tuple[RosterReport, PhotoArchive | None]) -> dict[str, Any]:
        report, photos = checked
        batch_id, issued = _issue(svc, session, p, report, photos, upload)
        return {
            "batch": {"id": batch_id},
            "report": report.to_dict(),
            "issued": [{"row": row, "number": number} for row, number in issued],
        }

    body, replayed = run_once(
        svc, p, idempotency_key, upload.fingerprint(), prepare=lambda: _validate(svc, p, upload), work=work
    )
    _dispatch(svc, body["batch"]["id"])
    return body, replayed


def _dispatch(svc: Services, batch_id: str) -> None:
    with svc.db.reading() as session:
        batch = session.get(m.Batch, batch_id)
        pending = batch is not None and batch.dispatched_at is None
    if pending:
        try:
            jobs.dispatch(svc, batch_id)
        except Exception:
            log.exception("batch %s: queueing its images failed; retry the upload or `issuer batch resume`", batch_id)


def _refuse_unless_issuable(svc: Services, report: RosterReport, valid_rows_only: bool) -> None:
    if report.problems and not valid_rows_only:
        raise InvalidInput(
            "roster_has_errors",
            f"{report.invalid_rows} of {report.rows} rows have problems; nothing was issued",
            f"名单中{report.rows}行有{report.invalid_rows}行存在问题，未发放任何证书",
            errors={"problems": [problem.to_dict() for problem in report.problems]},
        )
    if not report.valid:
        raise InvalidInput("roster_empty", "the roster has no valid row to issue", "名单中没有可发证的有效行")
    if report.issue_date != china_date(svc.clock()):
        raise Conflict(
            "roster_validated_another_day",
            "the roster was validated on another day; validate it again",
            "名单不是今天校验的，请重新校验",
        )


def _issue(
    svc: Services,
    session: Session,
    principal: Principal,
    report: RosterReport,
    photos: PhotoArchive | None,
    upload: Upload,
) -> tuple[str, list[tuple[int, str]]]:
    """Issue every valid row in ``session``'s transaction, ``ISSUE_CHUNK`` at a time: the
    serial counters stay locked for the whole transaction, so the blocks of successive
    chunks join into one contiguous block per level."""
    _refuse_unless_issuable(svc, report, upload.valid_rows_only)
    batch = m.Batch(
        id=uuid.uuid4().hex,
        organization_id=principal.organization_id,
        created_at=svc.clock(),
        created_by=principal.actor,
        roster_name=upload.filename[:255],
        rows=report.rows,
        issued=report.valid_rows,
        formats=",".join(upload.formats),
        dpi=upload.dpi,
        status="rendering",
        report=report.to_dict(),
    )
    session.add(batch)
    session.flush()
    issued: list[tuple[int, str]] = []
    for chunk in _chunks(report.valid, ISSUE_CHUNK):
        records = issue_in(svc, session, principal, [(_with_photo(v, photos), v.prepared) for v in chunk])
        items = []
        for v, done in zip(chunk, records, strict=True):
            items.append(m.BatchItem(batch_id=batch.id, position=len(issued), row=v.row, certificate_id=done.record.id))
            issued.append((v.row, done.record.number))
        session.add_all(items)
        session.flush()
        for obj in [*items, *(done.record for done in records)]:
            session.expunge(obj)  # written; nothing more to do with it in this transaction
    return batch.id, issued


def _with_photo(row: ValidRow, photos: PhotoArchive | None) -> IssueRequest:
    if row.photo_member is None or photos is None:
        return row.request
    return replace(row.request, photo=photos[row.photo_member])


def _chunks(rows: Iterable[ValidRow], size: int) -> Iterator[list[ValidRow]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


# --- reading batches ----------------------------------------------------------------------


@dataclass(frozen=True)
class BatchStatus:
    id: str
    status: str
    roster_name: str
    rows: int
    issued: int
    rendered: int
    formats: tuple[str, ...]
    dpi: int
    created_at: datetime
    created_by: str
    dispatched_at: datetime | None
    finished_at: datetime | None
    archive_bytes: int | None
    archive_sha256: str | None
    error: str | None
    report: dict[str, Any]


def _own(session: Session, principal: Principal, batch_id: str) -> m.Batch:
    batch = session.get(m.Batch, batch_id.strip().lower()) if len(batch_id) <= 64 else None
    if batch is None or batch.organization_id != principal.organization_id:
        raise NotFound("batch_not_found", f"no batch {batch_id}", f"没有批次{batch_id}")
    return batch


def _status_of(session: Session, batch: m.Batch) -> BatchStatus:
    rendered = session.scalar(
        select(func.count())
        .select_from(m.BatchItem)
        .where(m.BatchItem.batch_id == batch.id, m.BatchItem.rendered_at.is_not(None))
    )
    return BatchStatus(
        id=batch.id,
        status=batch.status,
        roster_name=batch.roster_name,
        rows=batch.rows,
        issued=batch.issued,
        rendered=rendered or 0,
        formats=tuple(batch.formats.split(",")),
        dpi=batch.dpi,
        created_at=batch.created_at,
        created_by=batch.created_by,
        dispatched_at=batch.dispatched_at,
        finished_at=batch.finished_at,
        archive_bytes=batch.archive_bytes,
        archive_sha256=batch.archive_sha256,
        error=batch.error,
        report=dict(batch.report),
    )


def status(svc: Services, principal: Principal | None, batch_id: str) -> BatchStatus:
    p = require_role(principal, Role.ORG_ISSUER)
    with svc.db.reading() as session:
        return _status_of(session, _own(session, p, batch_id))


def recent(svc: Services, principal: Principal | None, *, limit: int = 50) -> list[BatchStatus]:
    """The organization's latest batches, newest first."""
    p = require_role(principal, Role.ORG_ISSUER)
    with svc.db.reading() as session:
        found = session.scalars(
            select(m.Batch)
            .where(m.Batch.organization_id == p.organization_id)
            .order_by(m.Batch.created_at.desc(), m.Batch.id)
            .limit(limit)
        )
        return [_status_of(session, b) for b in found]


def purge(svc: Services, older_than: timedelta) -> list[str]:
    """Remove the archives of batches finished more than ``older_than`` ago (status
    ``expired``); the certificates, their numbers and the result are kept, and any
    certificate can still be drawn again one at a time. Returns the batches purged."""
    cutoff = svc.clock() - older_than
    with svc.db.reading() as session:
        ids = list(session.scalars(select(m.Batch.id).where(m.Batch.status == "done", m.Batch.finished_at < cutoff)))
    for batch_id in ids:
        with svc.transaction() as session:
            session.execute(
                update(m.Batch)
                .where(m.Batch.id == batch_id, m.Batch.status == "done")
                .values(status="expired", archive_bytes=None, archive_sha256=None)
            )
        batch_output.archive_path(svc, batch_id).unlink(missing_ok=True)
    return ids


def archive(svc: Services, principal: Principal | None, batch_id: str) -> tuple[Path, BatchStatus]:
    """The finished archive on disk; ``Conflict`` while it is still being made."""
    current = status(svc, principal, batch_id)
    if current.status == "expired":
        raise Conflict(
            "batch_expired",
            "the archive was removed after its retention period; each certificate can still be downloaded",
            "压缩包已超过保存期限并删除；证书仍可逐张下载",
        )
    if current.status == "failed":
        raise Conflict(
            "batch_failed",
            f"drawing this batch failed: {current.error}",
            f"该批次证书图片生成失败：{current.error}",
        )
    if current.status != "done":
        raise Conflict(
            "batch_not_ready",
            f"the archive is not ready: {current.rendered} of {current.issued} certificates drawn",
            f"压缩包尚未生成：已生成{current.rendered}/{current.issued}张证书",
            errors={"rendered": current.rendered, "issued": current.issued},
        )
    path = batch_output.archive_path(svc, current.id)
    if not path.exists():
        raise NotFound("batch_archive_missing", "the archive is no longer on disk", "压缩包已不在存储中")
    return path, current
