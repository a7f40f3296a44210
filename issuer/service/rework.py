"""A roster sent back (``rejected``) or only checked (a dry run, ``checked``) keeps its
files, encrypted, for ``KEPT_UPLOAD_AGE``: the clerk who fixed the roster sends only the
roster again (its photos ZIP is taken over), a checked roster is issued without sending
anything, and its first certificates can be seen, as they would print, before it is."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import replace
from itertools import islice

from issuer.core.errors import Conflict, NotFound
from issuer.service.batches import KEPT, Batches, Upload
from issuer.service.issuing import Issuing
from issuer.service.principal import Principal
from issuer.service.roster import PhotoArchive, read_roster, validate_roster
from issuer.service.uploads import Uploads, UploadUnreadable
from issuer.store.records import BatchRecord

PREVIEWS = 3
"""Certificates a checked roster shows before it is issued: the first valid rows."""
PREVIEW_SCAN = 50
"""Rows read at most to find them (a roster whose first rows all fail shows fewer)."""


class UploadNotKept(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "upload_not_kept",
            "this batch's files are no longer kept: upload the roster and its photos again",
            "该批次的文件已不再保留，请重新上传名单和照片",
        )


class Reworking:
    def __init__(self, batches: Batches, uploads: Uploads, issuing: Issuing) -> None:
        self._batches = batches
        self._uploads = uploads
        self._issuing = issuing

    def kept(self, batch: BatchRecord) -> bool:
        """Whether the batch's files are still here to send again or preview."""
        return batch.status in KEPT and self._uploads.has(batch.id, "roster")

    def resubmit(
        self,
        principal: Principal | None,
        batch_id: str,
        *,
        roster: bytes | None = None,
        filename: str | None = None,
        dry_run: bool = False,
        valid_rows_only: bool = False,
        idempotency_key: str | None = None,
    ) -> BatchRecord:
        """A new batch of the kept roster (or ``roster``, fixed) with the kept photos and the
        old batch's output options; the old batch's files are then deleted."""
        old = self._batches.status(principal, batch_id)
        if not self.kept(old):
            raise UploadNotKept()
        with ExitStack() as stack:
            try:
                sheet = roster if roster is not None else self._uploads.read(old.id, "roster")
                photos = (
                    stack.enter_context(self._uploads.open(old.id, "photos"))
                    if self._uploads.has(old.id, "photos")
                    else None
                )
            except (OSError, UploadUnreadable):
                raise UploadNotKept() from None  # deleted meanwhile (another resubmission, the sweep)
            upload = Upload(
                roster=sheet,
                filename=filename if roster is not None and filename else old.roster_name,
                photos=photos,
                valid_rows_only=valid_rows_only,
                formats=old.formats,
                dpi=old.dpi,
                dry_run=dry_run,
            )
            batch, _ = self._batches.submit(principal, upload, idempotency_key=idempotency_key)
        self._uploads.delete(old.id)
        return batch

    def preview(self, principal: Principal | None, batch_id: str, index: int) -> bytes:
        """The ``index``-th valid row of the kept roster as its certificate would print
        (``Issuing.preview``: marked as a sample, nothing numbered or stored)."""
        old = self._batches.status(principal, batch_id)
        if not self.kept(old):
            raise UploadNotKept()
        if not 0 <= index < PREVIEWS:
            raise _no_preview()
        with ExitStack() as stack:
            try:
                sheet = self._uploads.read(old.id, "roster")
                photos = (
                    PhotoArchive(stack.enter_context(self._uploads.open(old.id, "photos")))
                    if self._uploads.has(old.id, "photos")
                    else None
                )
            except (OSError, UploadUnreadable):
                raise UploadNotKept() from None
            rows = islice(read_roster(sheet, old.roster_name), PREVIEW_SCAN)
            report = validate_roster(self._issuing, principal, rows, photos=photos, threads=1)
            valid = list(islice(report.valid, index + 1))
            if len(valid) <= index:
                raise _no_preview()
            row = valid[index]
            photo = photos[row.photo_member] if photos is not None and row.photo_member else None
            return self._issuing.preview(principal, replace(row.request, photo=photo))


def _no_preview() -> NotFound:
    return NotFound("preview_not_found", "no such valid row to preview", "没有可预览的该行")
