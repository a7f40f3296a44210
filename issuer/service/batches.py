"""Batch issuance: an exam session's roster uploaded, validated whole in the background,
then every valid row issued in one transaction (one contiguous block of serials per year
and level); the certificates' images are drawn afterwards by background jobs
(``drawing``) and packed into one archive.

A batch goes ``validating`` → ``issuing`` → ``rendering`` → ``done``; a roster that may
not be issued ends ``rejected`` (with every problem, and why), a dry run ends ``checked``,
a batch that no retry could finish ends ``failed``. The upload itself only makes the
cheap checks (the options, a readable roster of at most ``max_rows`` rows, a readable
photos archive, a free validation slot of the organization), stores the files encrypted
(``uploads``) and records the batch, holding one of the organization's validation slots,
in one transaction; it is answered at once. The job (``run_validation``) takes the slot
over, validates, issues and queues the drawing; it can be cut off at any point and run
again (``resume``, a redelivered message), and a batch that never finishes its validation
after ``MAX_VALIDATION_ATTEMPTS`` starts is failed, never left ``validating``."""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import timedelta
from itertools import islice
from pathlib import Path
from typing import IO, Any

from issuer.core.clock import china_date
from issuer.core.errors import Conflict, InvalidInput, IssuerError, NotFound
from issuer.service.context import Context
from issuer.service.drawing import FORMATS, Chunk, Drawing
from issuer.service.idempotency import keyed_fingerprint, run_once
from issuer.service.issuing import IssueRequest, Issuing
from issuer.service.jobs import JobQueue, Later, Validation
from issuer.service.principal import Principal, Role, require_role
from issuer.service.printing import PrintedBatch, print_batch
from issuer.service.roster import (
    MAX_ROWS,
    PhotoArchive,
    RosterReport,
    ValidRow,
    count_rows,
    read_roster,
    validate_roster,
)
from issuer.service.sequencer import Sequencer
from issuer.service.uploads import Uploads, UploadUnreadable
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
MAX_VALIDATION_ATTEMPTS = 3
"""Starts of a batch's validation (a process killed while validating counts one) before
the batch is failed rather than started again."""
SLOT_WAIT = 5.0
"""Seconds a validation job waits before looking again for a free slot of its organization."""
ORPHAN_UPLOAD_AGE = timedelta(hours=1)
"""An upload whose batch was never recorded (the request failed after storing it) is
deleted by ``resume`` once this old."""

VALIDATING, ISSUING, RENDERING, DONE = "validating", "issuing", "rendering", "done"
CHECKED, REJECTED, FAILED, EXPIRED = "checked", "rejected", "failed", "expired"
WAITING = (VALIDATING, ISSUING)
"""The statuses of a batch whose validation job has not finished."""
KEPT = (CHECKED, REJECTED)
"""The statuses of a batch whose files are kept (``KEPT_UPLOAD_AGE``) to be sent again,
fixed, or issued after a dry run (``rework``)."""
KEPT_UPLOAD_AGE = timedelta(hours=24)
STATUSES = (VALIDATING, ISSUING, RENDERING, DONE, CHECKED, REJECTED, FAILED, EXPIRED)


@dataclass(frozen=True)
class Upload:
    roster: bytes
    filename: str
    photos: IO[bytes] | None = None
    """The photos ZIP, read member by member (a spooled upload stays on disk)."""
    valid_rows_only: bool = False
    formats: tuple[str, ...] = DEFAULT_FORMATS
    dpi: int = DEFAULT_DPI
    dry_run: bool = False
    """Validate only: the batch ends ``checked`` with its report and issues nothing."""

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for part in (self.roster, self.filename.encode(), _digest(self.photos)):
            h.update(hashlib.sha256(part).digest())
        options = f"{int(self.valid_rows_only)}|{','.join(self.formats)}|{self.dpi}"
        h.update((options + ("|dry" if self.dry_run else "")).encode())
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


def _not_found(batch_id: str) -> NotFound:
    return NotFound("batch_not_found", f"no batch {batch_id}", f"没有批次{batch_id}")


def _pending_report(rows: int) -> dict[str, Any]:
    return {"rows": rows, "valid_rows": 0, "invalid_rows": 0, "issue_date": None, "problems": []}


def _refusal(error: IssuerError) -> dict[str, str]:
    return {"code": error.code, "message": error.message, "message_zh": error.message_zh}


def _principal_of(batch: BatchRecord) -> Principal:
    """Who uploaded the roster, as its certificates name them (``created_by``)."""
    _, _, prefix = batch.created_by.partition(":")
    return Principal(Role.ORG_ISSUER, prefix, batch.organization_id)


@dataclass(frozen=True)
class _Claim:
    """A validation job's hold on its batch: the slot it keeps and the holder it keeps it as."""

    batch: BatchRecord
    slot: int
    holder: str


class Batches:
    def __init__(
        self,
        ctx: Context,
        issuing: Issuing,
        sequencer: Sequencer,
        drawing: Drawing,
        queue: JobQueue,
        slots: ValidationSlots,
        uploads: Uploads,
        *,
        chunk: int = DEFAULT_CHUNK,
        max_rows: int = MAX_ROWS,
        threads: int = 0,
    ) -> None:
        self._ctx = ctx
        self._issuing = issuing
        self._sequencer = sequencer
        self._drawing = drawing
        self._queue = queue
        self._slots = slots
        self._uploads = uploads
        self._chunk = chunk
        self._max_rows = max_rows
        self._threads = threads

    # --- accepting an upload ----------------------------------------------------------------

    def submit(
        self, principal: Principal | None, upload: Upload, *, idempotency_key: str | None = None
    ) -> tuple[BatchRecord, bool]:
        """Accept a roster: the cheap checks, its files stored, its batch recorded
        (``validating``) holding one of the organization's validation slots
        (``TooManyValidations`` when none is free), its validation queued. Returns the
        batch and whether the answer was a retry's: a retry with the same Idempotency-Key
        answers the same batch, validates nothing twice, and queues the batch's job again
        if queueing failed the first time."""
        p = require_role(principal, Role.ORG_ISSUER)
        organization_id = p.organization_id
        assert organization_id is not None
        _check_output(upload)
        stored: list[str] = []

        def prepare() -> tuple[str, int]:
            self._slots.refuse_if_full(organization_id)
            rows = self._count(upload)
            batch_id = uuid.uuid4().hex
            stored.append(batch_id)
            self._uploads.save(batch_id, "roster", upload.roster)
            if upload.photos is not None:
                self._uploads.save(batch_id, "photos", upload.photos)
            return batch_id, rows

        def work(uow: UnitOfWork, accepted: tuple[str, int]) -> dict[str, Any]:
            batch_id, rows = accepted
            self._slots.take_in(uow, organization_id, batch_id)  # held by the batch until its job takes it
            uow.batches.add(self._new_batch(p, upload, batch_id, rows))
            return {"batch": batch_id}

        try:
            reference, replayed = run_once(
                self._ctx,
                p,
                idempotency_key,
                keyed_fingerprint(idempotency_key, upload.fingerprint),
                prepare=prepare,
                work=work,
            )
        except BaseException:
            for batch_id in stored:
                self._uploads.delete(batch_id)
            raise
        batch_id = reference["batch"]
        for other in stored:
            if other != batch_id:  # a concurrent retry recorded its batch first
                self._uploads.delete(other)
        self._queue_unless_queued(batch_id)
        return self._get(batch_id), replayed

    def _count(self, upload: Upload) -> int:
        """The rows of a readable roster, counted cheaply (``count_rows``: exactly for a
        CSV, a bound for an XLSX until its job has read it), so that a roster over
        ``max_rows`` is refused at once; and a photos archive that opens."""
        rows = count_rows(upload.roster, upload.filename, max_rows=self._max_rows)
        if rows == 0:
            raise InvalidInput("roster_empty", "the roster has no rows below its header", "花名册表头下没有数据行")
        if upload.photos is not None:
            PhotoArchive(upload.photos)
            upload.photos.seek(0)
        return rows

    def _new_batch(self, principal: Principal, upload: Upload, batch_id: str, rows: int) -> BatchRecord:
        assert principal.organization_id is not None
        return BatchRecord(
            id=batch_id,
            organization_id=principal.organization_id,
            created_at=self._ctx.clock(),
            created_by=principal.actor,
            roster_name=upload.filename[:255],
            rows=rows,
            issued=0,
            formats=upload.formats,
            dpi=upload.dpi,
            status=VALIDATING,
            report=_pending_report(rows),
            dispatched_at=None,
            finished_at=None,
            archive_bytes=None,
            archive_sha256=None,
            error=None,
            dry_run=upload.dry_run,
            valid_rows_only=upload.valid_rows_only,
            validation_holder=batch_id,
        )

    def _queue_unless_queued(self, batch_id: str) -> None:
        """Queue the job of the batch's current stage unless that was done (a failure to
        queue is logged: the batch says ``queued: false`` and a retried upload queues it)."""
        batch = self._get(batch_id)
        if batch.dispatched_at is not None:
            return
        try:
            if batch.status in WAITING:
                self._queue_validation(batch_id)
            elif batch.status == RENDERING:
                self.dispatch(batch_id)
        except Exception:
            log.exception("batch %s: queueing its job failed; retry the upload or `issuer batch resume`", batch_id)

    def _queue_validation(self, batch_id: str) -> None:
        self._queue.send(Validation(batch_id))

        def work(uow: UnitOfWork) -> None:
            uow.batches.update(batch_id, only_if_status=WAITING, dispatched_at=self._ctx.clock())
            uow.commit()

        self._ctx.run(work)

    # --- the validation job -----------------------------------------------------------------

    def run_validation(self, batch_id: str) -> None:
        """The background job of an upload: take over its validation slot, validate the
        roster, then issue it (or reject it, or end a dry run ``checked``) and queue its
        drawing. ``Later`` when it cannot start yet; a batch already past validation is
        left alone (the job ran twice)."""
        claim = self._claim(batch_id)
        if claim is None:
            return
        try:
            with self._slots.kept(claim.batch.organization_id, claim.slot, claim.holder):
                issued = self._validate_and_issue(claim)
        except UploadUnreadable as e:
            log.error("batch %s failed: %s", batch_id, e)
            self._conclude(claim, FAILED, error=f"upload_unreadable: 上传的文件已无法读取，请重新上传 / {e}")
            return
        if issued:
            self._uploads.delete(batch_id)
            self._dispatch_quietly(batch_id)

    def _claim(self, batch_id: str) -> _Claim | None:
        """Take the batch's validation over, in one transaction: from the upload that
        recorded it, or from a job that stopped (its lease expired). ``Later`` when
        another job's lease is still alive or no slot of the organization is free."""
        holder = secrets.token_hex(16)

        def work(uow: UnitOfWork) -> _Claim | float | None:
            batch = uow.batches.get(batch_id)
            if batch is None or batch.status not in WAITING:
                return None
            now = self._ctx.clock()
            old = batch.validation_holder
            if batch.validation_started_at is not None and old is not None:
                expiry = uow.validation_leases.expiry(batch.organization_id, old)
                if expiry is not None and expiry > now:
                    return min((expiry - now).total_seconds() + 1, SLOT_WAIT * 6)
            if batch.validation_attempts >= MAX_VALIDATION_ATTEMPTS:
                self._give_up(uow, batch)
                uow.commit()
                return None
            if not uow.batches.claim_validation(batch_id, old, holder, now):
                return SLOT_WAIT  # another job claimed it in between: look again
            slot = self._slots.reclaim_in(uow, batch.organization_id, old, holder)
            if slot is None:
                return SLOT_WAIT  # rolled back: the batch keeps its holder
            uow.commit()
            return _Claim(replace(batch, validation_holder=holder), slot, holder)

        claimed = self._ctx.run(work)
        if isinstance(claimed, float):
            raise Later(claimed, f"batch {batch_id} waits for a validation slot")
        if claimed is None and not self._waiting(batch_id):
            self._uploads.delete(batch_id)
        return claimed

    def _give_up(self, uow: UnitOfWork, batch: BatchRecord) -> None:
        log.error("batch %s: its validation started %s times without finishing", batch.id, batch.validation_attempts)
        uow.batches.update(
            batch.id,
            only_if_status=WAITING,
            status=FAILED,
            finished_at=self._ctx.clock(),
            error=(
                f"validation_unfinished: 名单校验已开始{batch.validation_attempts}次均未完成，请重新上传 / "
                f"the validation started {batch.validation_attempts} times and never finished; upload the roster again"
            ),
        )

    def _waiting(self, batch_id: str) -> bool:
        with self._ctx.reading() as uow:
            batch = uow.batches.get(batch_id)
        return batch is not None and batch.status in WAITING

    def _validate_and_issue(self, claim: _Claim) -> bool:
        """Validate the stored upload and conclude: issued (``True``), or rejected, or
        checked (a dry run). What the roster or the organization's state refuses rejects
        the batch; anything else is raised for the queue to retry."""
        batch = claim.batch
        principal = _principal_of(batch)
        started = time.perf_counter()
        roster = self._uploads.read(batch.id, "roster")
        with ExitStack() as stack:
            photos = None
            if self._uploads.has(batch.id, "photos"):
                photos = PhotoArchive(stack.enter_context(self._uploads.open(batch.id, "photos")))
            try:
                report = validate_roster(
                    self._issuing,
                    principal,
                    read_roster(roster, batch.roster_name, max_rows=self._max_rows),
                    photos=photos,
                    progress=lambda rows: self._progress(claim, rows),
                    threads=self._threads,
                )
            except IssuerError as e:
                self._conclude(claim, REJECTED, refusal=e)
                return False
            refusal = None if batch.dry_run else self._refusal(report, batch.valid_rows_only)
            if batch.dry_run or refusal is not None:
                self._conclude(claim, CHECKED if batch.dry_run else REJECTED, report=report, refusal=refusal)
                return False
            validated = time.perf_counter()
            timing: dict[str, float] = {"rows": report.rows, "validation_seconds": validated - started}
            try:
                issued = self._issue(claim, principal, report, photos)
            except IssuerError as e:  # the organization suspended meanwhile, serials exhausted, …
                self._conclude(claim, REJECTED, report=report, refusal=e)
                return False
        timing["issue_seconds"] = time.perf_counter() - validated
        log.info(
            "batch %s: %s rows validated in %.2f s, %s issued in %.2f s",
            batch.id,
            report.rows,
            timing["validation_seconds"],
            report.valid_rows if issued else 0,
            timing["issue_seconds"],
            extra={"batch_timing": timing},
        )
        return issued

    def _progress(self, claim: _Claim, rows: int) -> None:
        def work(uow: UnitOfWork) -> None:
            uow.batches.update(claim.batch.id, only_if_holder=claim.holder, only_if_status=VALIDATING, checked=rows)
            uow.commit()

        self._ctx.run(work)

    def _refusal(self, report: RosterReport, valid_rows_only: bool) -> IssuerError | None:
        """Why a validated roster is not issued: a problem without ``valid_rows_only``, no
        valid row, or a validation of another day (its checks were made for that day)."""
        if report.problems and not valid_rows_only:
            return InvalidInput(
                "roster_has_errors",
                f"{report.invalid_rows} of {report.rows} rows have problems; nothing was issued",
                f"名单中{report.rows}行有{report.invalid_rows}行存在问题，未发放任何证书",
            )
        if not report.valid:
            return InvalidInput("roster_empty", "the roster has no valid row to issue", "名单中没有可发证的有效行")
        if report.issue_date != china_date(self._ctx.clock()):
            return Conflict(
                "roster_validated_another_day",
                "the roster was validated on another day; upload it again",
                "名单不是今天校验的，请重新上传",
            )
        return None

    def _conclude(
        self,
        claim: _Claim,
        status: str,
        *,
        report: RosterReport | None = None,
        refusal: IssuerError | None = None,
        error: str | None = None,
    ) -> bool:
        """End the batch's validation (``rejected``, ``checked`` or ``failed``) if this job
        still holds it, and delete its upload unless it is kept (``KEPT``); whether it did."""
        values: dict[str, Any] = {"status": status, "finished_at": self._ctx.clock(), "dispatched_at": None}
        if report is not None:
            values |= {"report": report.to_dict(), "checked": report.rows, "rows": report.rows}
        if refusal is not None:
            values["refusal"] = _refusal(refusal)
        if error is not None:
            values["error"] = error[:2000]

        def work(uow: UnitOfWork) -> bool:
            done = uow.batches.update(claim.batch.id, only_if_holder=claim.holder, only_if_status=WAITING, **values)
            self._slots.release_in(uow, claim.batch.organization_id, claim.slot, claim.holder)
            uow.commit()
            return done

        concluded = self._ctx.run(work)
        if concluded and status not in KEPT:
            self._uploads.delete(claim.batch.id)
        return concluded

    def fail_validation(self, batch_id: str, error: str) -> None:
        """A validation job that failed for good: the batch ``failed`` with why, its upload
        deleted (what ``jobs`` calls once it gives up)."""

        def work(uow: UnitOfWork) -> None:
            uow.batches.update(
                batch_id, only_if_status=WAITING, status=FAILED, error=error[:2000], finished_at=self._ctx.clock()
            )
            uow.commit()

        self._ctx.run(work)
        self._uploads.delete(batch_id)

    def _issue(
        self,
        claim: _Claim,
        principal: Principal,
        report: RosterReport,
        photos: PhotoArchive | None,
    ) -> bool:
        """Issue every valid row in one transaction, ``ISSUE_CHUNK`` at a time: the serial
        counters stay locked for the whole transaction, so the blocks of successive chunks
        join into one contiguous block per level. The log is not locked: once the
        transaction commits, the ``Sequencer`` appends the rows, in row order. The batch
        turns ``rendering`` in the same transaction, only if this job still holds its
        validation; whether it did."""
        batch_id = claim.batch.id

        def mark_issuing(uow: UnitOfWork) -> bool:
            marked = uow.batches.update(
                batch_id,
                only_if_holder=claim.holder,
                only_if_status=VALIDATING,
                status=ISSUING,
                checked=report.rows,
                rows=report.rows,
            )
            uow.commit()
            return marked

        def work(uow: UnitOfWork) -> bool:
            if not uow.batches.update(
                batch_id,
                only_if_holder=claim.holder,
                only_if_status=ISSUING,
                status=RENDERING,
                issued=report.valid_rows,
                report=report.to_dict(),
                dispatched_at=None,
            ):
                return False  # another job took the batch over: it issues
            position = 0
            for chunk in _chunks(report.valid, ISSUE_CHUNK):
                requests = [(_with_photo(v, photos), v.prepared) for v in chunk]
                done = self._issuing.issue_in(uow, principal, requests, checked_for=report.imprint)
                uow.batches.add_items(
                    batch_id, [(position + i, v.row, c.id) for i, (v, c) in enumerate(zip(chunk, done, strict=True))]
                )
                position += len(chunk)
            self._slots.release_in(uow, claim.batch.organization_id, claim.slot, claim.holder)
            uow.commit()
            return True

        if not (self._ctx.run(mark_issuing) and self._ctx.run(work)):
            return False
        self._sequencer.issued()
        return True

    # --- drawing ----------------------------------------------------------------------------

    def _dispatch_quietly(self, batch_id: str) -> None:
        try:
            self.dispatch(batch_id)
        except Exception:
            log.exception("batch %s: queueing its images failed; retry the upload or `issuer batch resume`", batch_id)

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
            uow.batches.update(batch_id, only_if_status=RENDERING, dispatched_at=self._ctx.clock())
            uow.commit()

        self._ctx.run(work)

    def resume(self) -> list[str]:
        """Queue again every unfinished batch, its validation or its drawing (after the
        in-process service restarted, or by hand with ``issuer batch resume``), and delete
        the uploads no batch waits for. Returns the batches queued."""
        with self._ctx.reading() as uow:
            waiting = uow.batches.ids(status=WAITING)
            drawing = uow.batches.ids(status=RENDERING)
        for batch_id in waiting:
            self._queue_validation(batch_id)
        for batch_id in drawing:
            self.dispatch(batch_id)
        self._sweep_uploads(set(waiting))
        return waiting + drawing

    def resume_validations(self) -> list[str]:
        """Queue again the validations no job is running (their lease lapsed: a worker was
        killed while validating); what ``issuer worker`` does when it starts. A job whose
        message is still queued runs once all the same. Returns the batches queued."""
        orphaned = []
        with self._ctx.reading() as uow:
            now = self._ctx.clock()
            for batch_id in uow.batches.ids(status=WAITING):
                batch = uow.batches.get(batch_id)
                holder = batch.validation_holder if batch is not None else None
                expiry = uow.validation_leases.expiry(batch.organization_id, holder) if batch and holder else None
                if expiry is None or expiry <= now:
                    orphaned.append(batch_id)
        for batch_id in orphaned:
            self._queue_validation(batch_id)
        return orphaned

    def _sweep_uploads(self, waiting: set[str]) -> None:
        """Delete the uploads no batch waits for: a kept one (``KEPT``) once older than
        ``KEPT_UPLOAD_AGE``, one never recorded once older than ``ORPHAN_UPLOAD_AGE``."""
        for batch_id in self._uploads.stored():
            if batch_id in waiting:
                continue
            with self._ctx.reading() as uow:
                batch = uow.batches.get(batch_id)
            age = self._uploads.age(batch_id)
            kept = batch is not None and batch.status in KEPT and age <= KEPT_UPLOAD_AGE
            if not kept and (batch is not None or age > ORPHAN_UPLOAD_AGE):
                self._uploads.delete(batch_id)

    # --- reading ----------------------------------------------------------------------------

    def _get(self, batch_id: str) -> BatchRecord:
        with self._ctx.reading() as uow:
            batch = uow.batches.get(batch_id)
        assert batch is not None
        return batch

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

    def result(self, principal: Principal | None, batch_id: str, target: Path | IO[bytes]) -> BatchRecord:
        """Write the result spreadsheet (every roster row: its number, or its problems) once
        the roster is validated; ``Conflict`` before."""
        current = self.status(principal, batch_id)
        if current.status in WAITING:
            raise _still_validating(current)
        if not has_result(current):
            raise Conflict(
                "batch_failed",
                f"validating this roster failed: {current.error}",
                f"该批次名单校验失败：{current.error}",
            )
        self._drawing.write_result(current.id, target)
        return current

    def archive(self, principal: Principal | None, batch_id: str) -> tuple[Path, BatchRecord]:
        """The finished archive on disk; ``Conflict`` while it is still being made."""
        current = self.status(principal, batch_id)
        if current.status == EXPIRED:
            raise Conflict(
                "batch_expired",
                "the archive was removed after its retention period; each certificate can still be downloaded",
                "压缩包已超过保存期限并删除；证书仍可逐张下载",
            )
        if current.status in (FAILED, REJECTED, CHECKED):
            raise _no_archive(current)
        if current.status in WAITING:
            raise _still_validating(current)
        if current.status != DONE:
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

    def print_pdf(self, principal: Principal | None, batch_id: str) -> PrintedBatch:
        """The batch's certificates as one PDF for printing, revoked ones left out
        (``printing``), in a temporary file the caller closes: once the batch is issued,
        while its images are drawn and after its archive expired. ``Conflict`` before, for
        a batch that issued nothing, and when every certificate is revoked."""
        current = self.status(principal, batch_id)
        if current.status in WAITING:
            raise _still_validating(current)
        if current.status == CHECKED:
            raise Conflict(
                "batch_not_issued",
                "a dry run issues nothing: there is nothing to print",
                "试校验不发证，没有可打印的证书",
            )
        if current.status not in (RENDERING, DONE, EXPIRED):
            raise _no_archive(current)
        return print_batch(self._ctx, current, self._drawing.batch_dir)

    def purge(self, older_than: timedelta) -> list[str]:
        """Remove the archives of batches finished more than ``older_than`` ago (status
        ``expired``); the certificates, their numbers and the result are kept, and any
        certificate can still be drawn again one at a time. Kept uploads past their age go
        too (``_sweep_uploads``). Returns the batches purged."""
        cutoff = self._ctx.clock() - older_than
        with self._ctx.reading() as uow:
            ids = uow.batches.ids(status=DONE, finished_before=cutoff)
            waiting = set(uow.batches.ids(status=WAITING))
        self._sweep_uploads(waiting)
        for batch_id in ids:

            def work(uow: UnitOfWork, batch_id: str = batch_id) -> None:
                uow.batches.update(
                    batch_id, only_if_status=DONE, status=EXPIRED, archive_bytes=None, archive_sha256=None
                )
                uow.commit()

            self._ctx.run(work)
            self._drawing.archive_path(batch_id).unlink(missing_ok=True)
        return ids


def has_result(batch: BatchRecord) -> bool:
    """Whether the batch's result spreadsheet can be had: once its roster is validated (a
    batch whose validation failed has none)."""
    return batch.status not in WAITING and not (batch.status == FAILED and not batch.issued)


def _still_validating(batch: BatchRecord) -> Conflict:
    return Conflict(
        "batch_not_ready",
        f"the roster is being validated: {batch.checked} of {batch.rows} rows checked",
        f"名单正在校验：已校验{batch.checked}/{batch.rows}行",
        errors={"checked": batch.checked, "rows": batch.rows},
    )


def _no_archive(batch: BatchRecord) -> Conflict:
    if batch.status == FAILED:
        return Conflict("batch_failed", f"this batch failed: {batch.error}", f"该批次处理失败：{batch.error}")
    if batch.status == CHECKED:
        return Conflict("batch_not_issued", "a dry run issues nothing: there is no archive", "试校验不发证，没有压缩包")
    return Conflict(
        "batch_rejected",
        "the roster was rejected: nothing was issued; see its problems",
        "名单未通过校验，未发放任何证书，请查看问题清单",
    )
