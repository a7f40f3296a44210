"""Batch issuance: an exam session's roster validated whole, then every valid row issued in
one transaction (one contiguous block of serials per year and level) together with a batch
record; the certificates' images are drawn afterwards by background jobs (``drawing``,
queued on ``jobs``) and packed into one archive."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import timedelta
from itertools import islice
from pathlib import Path
from typing import IO, Any

from issuer.core.clock import china_date
from issuer.core.errors import Conflict, InvalidInput, NotFound
from issuer.service.context import Context
from issuer.service.drawing import FORMATS, Chunk, Drawing
from issuer.service.idempotency import run_once
from issuer.service.issuing import IssueRequest, Issuing
from issuer.service.jobs import JobQueue
from issuer.service.principal import Principal, Role, require_role
from issuer.service.roster import MAX_ROWS, PhotoArchive, RosterReport, ValidRow, read_roster, validate_roster
from issuer.service.validations import ValidationSlots
from issuer.store.records import BatchRecord
from issuer.store.uow import UnitOfWork

log = logging.getLogger(__name__)

ISSUE_CHUNK = 200
"""Certificates built and stored together inside the one transaction."""
DEFAULT_FORMATS = ("png", "pdf")
DEFAULT_DPI = 300
BATCH_DPIS = (150, 200, 300, 600)
DEFAULT_CHUNK = 25
"""Certificates drawn per background job."""


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
    if not upload.formats or any(f not in FORMATS for f in upload.formats):
        raise InvalidInput("invalid_formats", "formats are png and/or pdf", "输出格式应为png和/或pdf")
    if upload.dpi not in BATCH_DPIS:
        dpis = "、".join(map(str, BATCH_DPIS))
        raise InvalidInput("invalid_dpi", f"dpi must be one of {dpis}", f"分辨率应为{dpis} dpi之一")


def _with_photo(row: ValidRow, photos: PhotoArchive | None) -> IssueRequest:
    if row.photo_member is None or photos is None:
        return row.request
    return replace(row.request, photo=photos[row.photo_member])


def _chunks(rows: Iterable[ValidRow], size: int) -> Iterator[list[ValidRow]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


@dataclass(frozen=True)
class IssuedRow:
    row: int
    """The roster's row (spreadsheet row number)."""
    number: str


@dataclass(frozen=True)
class Submitted:
    """A roster issued: its batch (with the validation report) and each row's number."""

    batch: BatchRecord
    issued: list[IssuedRow]


def _not_found(batch_id: str) -> NotFound:
    return NotFound("batch_not_found", f"no batch {batch_id}", f"没有批次{batch_id}")


class Batches:
    def __init__(
        self,
        ctx: Context,
        issuing: Issuing,
        drawing: Drawing,
        queue: JobQueue,
        slots: ValidationSlots,
        *,
        chunk: int = DEFAULT_CHUNK,
        max_rows: int = MAX_ROWS,
    ) -> None:
        self._ctx = ctx
        self._issuing = issuing
        self._drawing = drawing
        self._queue = queue
        self._slots = slots
        self._chunk = chunk
        self._max_rows = max_rows

    # --- submitting -------------------------------------------------------------------------

    def check(self, principal: Principal | None, upload: Upload) -> RosterReport:
        """Read and validate without issuing (dry run), in one of the organization's
        validation slots (``TooManyValidations`` when none is free)."""
        with self._slots.held(principal):
            return self._validate(principal, upload)[0]

    def _validate(self, principal: Principal | None, upload: Upload) -> tuple[RosterReport, PhotoArchive | None]:
        """Every row checked; first the rows are only counted (about 0.1 ms a row of XLSX,
        against milliseconds to check one), so a roster over ``max_rows`` is refused at
        once rather than after its first ``max_rows`` rows were checked."""
        _check_output(upload)
        for _ in read_roster(upload.roster, upload.filename, max_rows=self._max_rows):
            pass
        photos = PhotoArchive(upload.photos) if upload.photos is not None else None
        roster = read_roster(upload.roster, upload.filename, max_rows=self._max_rows)
        return validate_roster(self._issuing, principal, roster, photos=photos), photos

    def submit(
        self, principal: Principal | None, upload: Upload, *, idempotency_key: str | None = None
    ) -> tuple[Submitted, bool]:
        """Validate and issue a roster, then queue its images. A retry with the same
        Idempotency-Key returns the first answer, issues nothing twice, and queues the images
        again if queueing failed the first time. Returns what was made and whether it was a
        retry's. Validating and issuing hold one of the organization's validation slots
        (``TooManyValidations`` when none is free); a replayed answer needs none."""
        p = require_role(principal, Role.ORG_ISSUER)

        def work(uow: UnitOfWork, checked: tuple[RosterReport, PhotoArchive | None]) -> dict[str, Any]:
            report, photos = checked
            return {"batch": self._issue(uow, p, report, photos, upload)}

        with ExitStack() as slot:

            def prepare() -> tuple[RosterReport, PhotoArchive | None]:
                slot.enter_context(self._slots.held(p))
                return self._validate(p, upload)

            reference, replayed = run_once(
                self._ctx, p, idempotency_key, upload.fingerprint(), prepare=prepare, work=work
            )
        batch_id = reference["batch"]
        self._dispatch_unless_queued(batch_id)
        with self._ctx.reading() as uow:
            batch = uow.batches.get(batch_id)
            assert batch is not None
            issued = [IssuedRow(line.row, line.number) for line in uow.batches.lines(batch_id)]
        return Submitted(batch, issued), replayed

    def _refuse_unless_issuable(self, report: RosterReport, valid_rows_only: bool) -> None:
        if report.problems and not valid_rows_only:
            raise InvalidInput(
                "roster_has_errors",
                f"{report.invalid_rows} of {report.rows} rows have problems; nothing was issued",
                f"名单中{report.rows}行有{report.invalid_rows}行存在问题，未发放任何证书",
                errors={"problems": [problem.to_dict() for problem in report.problems]},
            )
        if not report.valid:
            raise InvalidInput("roster_empty", "the roster has no valid row to issue", "名单中没有可发证的有效行")
        if report.issue_date != china_date(self._ctx.clock()):
            raise Conflict(
                "roster_validated_another_day",
                "the roster was validated on another day; validate it again",
                "名单不是今天校验的，请重新校验",
            )

    def _issue(
        self, uow: UnitOfWork, principal: Principal, report: RosterReport, photos: PhotoArchive | None, upload: Upload
    ) -> str:
        """Issue every valid row in ``uow``'s transaction, ``ISSUE_CHUNK`` at a time: the
        serial counters stay locked for the whole transaction, so the blocks of successive
        chunks join into one contiguous block per level."""
        self._refuse_unless_issuable(report, upload.valid_rows_only)
        assert principal.organization_id is not None
        batch_id = uuid.uuid4().hex
        uow.batches.add(
            BatchRecord(
                id=batch_id,
                organization_id=principal.organization_id,
                created_at=self._ctx.clock(),
                created_by=principal.actor,
                roster_name=upload.filename[:255],
                rows=report.rows,
                issued=report.valid_rows,
                formats=upload.formats,
                dpi=upload.dpi,
                status="rendering",
                report=report.to_dict(),
                dispatched_at=None,
                finished_at=None,
                archive_bytes=None,
                archive_sha256=None,
                error=None,
            )
        )
        position = 0
        for chunk in _chunks(report.valid, ISSUE_CHUNK):
            requests = [(_with_photo(v, photos), v.prepared) for v in chunk]
            done = self._issuing.issue_in(uow, principal, requests, checked_for=report.imprint)
            items = []
            for v, certificate in zip(chunk, done, strict=True):
                items.append((position, v.row, certificate.id))
                position += 1
            uow.batches.add_items(batch_id, items)
        return batch_id

    # --- drawing ----------------------------------------------------------------------------

    def _dispatch_unless_queued(self, batch_id: str) -> None:
        with self._ctx.reading() as uow:
            batch = uow.batches.get(batch_id)
        if batch is not None and batch.dispatched_at is None:
            try:
                self.dispatch(batch_id)
            except Exception:
                log.exception(
                    "batch %s: queueing its images failed; retry the upload or `issuer batch resume`", batch_id
                )

    def dispatch(self, batch_id: str) -> None:
        """Queue a batch's drawing and note when. A batch whose queueing failed (Redis down)
        keeps ``dispatched_at`` empty and is queued again by a retried upload."""
        with self._ctx.reading() as uow:
            positions = uow.batches.all_undrawn(batch_id)
        firsts = sorted({p - p % self._chunk for p in positions})
        for first in firsts:
            self._queue.send(Chunk(batch_id, first, self._chunk))
        if not firsts:  # every item drawn already: only the archive is missing
            self._queue.send(Chunk(batch_id, 0, 0))

        def work(uow: UnitOfWork) -> None:
            uow.batches.update(batch_id, dispatched_at=self._ctx.clock())
            uow.commit()

        self._ctx.run(work)

    def resume(self) -> list[str]:
        """Queue again every batch still being drawn (after the in-process service
        restarted, or by hand with ``issuer batch resume``). Returns their ids."""
        with self._ctx.reading() as uow:
            ids = uow.batches.ids(status="rendering")
        for batch_id in ids:
            self.dispatch(batch_id)
        return ids

    # --- reading ----------------------------------------------------------------------------

    def status(self, principal: Principal | None, batch_id: str) -> BatchRecord:
        p = require_role(principal, Role.ORG_ISSUER)
        with self._ctx.reading() as uow:
            batch = uow.batches.get(batch_id.strip().lower()) if len(batch_id) <= 64 else None
        if batch is None or batch.organization_id != p.organization_id:
            raise _not_found(batch_id)
        return batch

    def recent(self, principal: Principal | None, *, limit: int = 50) -> list[BatchRecord]:
        """The organization's latest batches, newest first."""
        p = require_role(principal, Role.ORG_ISSUER)
        assert p.organization_id is not None
        with self._ctx.reading() as uow:
            return uow.batches.recent(p.organization_id, limit)

    def archive(self, principal: Principal | None, batch_id: str) -> tuple[Path, BatchRecord]:
        """The finished archive on disk; ``Conflict`` while it is still being made."""
        current = self.status(principal, batch_id)
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
        path = self._drawing.archive_path(current.id)
        if not path.exists():
            raise NotFound("batch_archive_missing", "the archive is no longer on disk", "压缩包已不在存储中")
        return path, current

    def purge(self, older_than: timedelta) -> list[str]:
        """Remove the archives of batches finished more than ``older_than`` ago (status
        ``expired``); the certificates, their numbers and the result are kept, and any
        certificate can still be drawn again one at a time. Returns the batches purged."""
        cutoff = self._ctx.clock() - older_than
        with self._ctx.reading() as uow:
            ids = uow.batches.ids(status="done", finished_before=cutoff)
        for batch_id in ids:

            def work(uow: UnitOfWork, batch_id: str = batch_id) -> None:
                uow.batches.update(
                    batch_id, only_if_status="done", status="expired", archive_bytes=None, archive_sha256=None
                )
                uow.commit()

            self._ctx.run(work)
            self._drawing.archive_path(batch_id).unlink(missing_ok=True)
        return ids
