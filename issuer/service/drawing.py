"""Drawing a batch: each certificate's PNG and PDF written to disk as it is drawn, then one
ZIP archive with every file once and the result spreadsheet (roster row → number).

Every step can run twice or be cut off at any point and run again: a file is written under
a temporary name and renamed, an item is marked drawn only after its files are in place,
and the archive is built from the files on disk, under a temporary name, then renamed.
This is what lets a killed worker's work be picked up by another."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from issuer.core.clock import CST
from issuer.core.display import date_zh, level_zh
from issuer.core.errors import IssuerError
from issuer.render import Assets, RenderError, default_renderer
from issuer.service.context import Context
from issuer.service.filenames import certificate_file
from issuer.service.images import certificate_view
from issuer.service.sheets import row_of
from issuer.store.records import BatchLine, BatchRecord

log = logging.getLogger(__name__)

FORMATS = ("png", "pdf")
ARCHIVE_RESULT = "result.xlsx"
RESULT_HEADERS = (
    "名单行号",
    "结果",
    "证书编号",
    "姓名",
    "证件号码",
    "职业编码",
    "职业名称",
    "工种/职业方向",
    "等级",
    "发证日期",
    "图片文件",
    "PDF文件",
    "问题",
)


def member_name(number: str, holder_name: str, fmt: str) -> str:
    """``png/Y000123000001263000001_张三丰.png``: a folder per format, ``filenames``' name."""
    return f"{fmt}/{certificate_file(number, holder_name, fmt)}"


@dataclass(frozen=True)
class Chunk:
    """Items ``first`` … ``first + count - 1`` of a batch: one background job."""

    batch_id: str
    first: int
    count: int


@dataclass(frozen=True)
class _Job:
    formats: tuple[str, ...]
    dpi: int
    layout: str
    assets: Assets
    organization_name: str


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _place(tmp: Path, final: Path) -> None:
    """Give ``tmp`` the name ``final`` unless a complete archive has it already."""
    try:
        os.link(tmp, final)
    except FileExistsError:
        pass
    except OSError:  # a file system without hard links
        if not final.exists():
            os.replace(tmp, final)


def _sha256(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _zip_info(name: str, stamp: datetime) -> zipfile.ZipInfo:
    local = stamp.astimezone(CST)
    info = zipfile.ZipInfo(name, date_time=(local.year, local.month, local.day, local.hour, local.minute, local.second))
    info.compress_type = zipfile.ZIP_STORED  # PNG, PDF and XLSX are compressed already
    info.external_attr = 0o644 << 16
    return info


def _problems_by_row(report: dict[str, Any]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for problem in report.get("problems", []):
        found.setdefault(int(problem["row"]), []).append(problem["message_zh"])
    return found


class Drawing:
    """The drawing jobs of batches, their files kept under ``batch_dir``."""

    def __init__(self, ctx: Context, batch_dir: Path) -> None:
        self._ctx = ctx
        self.batch_dir = batch_dir

    def parts_dir(self, batch_id: str) -> Path:
        return self.batch_dir / batch_id

    def archive_path(self, batch_id: str) -> Path:
        return self.batch_dir / f"{batch_id}.zip"

    def run(self, chunk: Chunk) -> None:
        """Draw one chunk. What no retry can mend (a layout, a font or an image the
        deployment cannot draw) fails the batch with its message; anything else is raised
        to be retried."""
        try:
            self.draw(chunk.batch_id, chunk.first, chunk.count)
        except (RenderError, IssuerError) as e:
            log.error("batch %s failed: %s", chunk.batch_id, e)
            self.fail(chunk.batch_id, f"{e.code}: {e.message_zh} / {e.message}")

    def fail(self, batch_id: str, error: str) -> None:
        def work(uow: Any) -> None:
            uow.batches.update(
                batch_id, only_if_status="rendering", status="failed", error=error[:2000], finished_at=self._ctx.clock()
            )
            uow.commit()

        self._ctx.run(work)

    def draw(self, batch_id: str, first: int, count: int) -> None:
        """Draw the items at positions ``first`` … ``first + count - 1`` not drawn yet, each
        marked drawn once its files are on disk; pack the archive when nothing is left."""
        with self._ctx.reading() as uow:
            batch = uow.batches.get(batch_id)
            if batch is None or batch.status != "rendering":
                return
            job = self._job(uow, batch)
            positions = uow.batches.undrawn(batch_id, first, count)
        parts = self.parts_dir(batch_id)
        if positions:  # a job with nothing left to draw must not make it again after packing
            parts.mkdir(parents=True, exist_ok=True)
        for position in positions:
            self._draw_item(batch_id, position, job, parts)
        with self._ctx.reading() as uow:
            left = uow.batches.all_undrawn(batch_id)
        if not left:
            self.pack(batch_id)

    @staticmethod
    def _job(uow: Any, batch: BatchRecord) -> _Job:
        org = uow.organizations.get_by_id(batch.organization_id)
        assert org is not None
        return _Job(batch.formats, batch.dpi, org.layout, Assets(*uow.organizations.images(org.id)), org.name)

    def _draw_item(self, batch_id: str, position: int, job: _Job, parts: Path) -> None:
        with self._ctx.reading() as uow:
            record = uow.certificates.get(uow.batches.number_at(batch_id, position))
            assert record is not None
            photo = uow.certificates.photo(record.number)
        if record.revoked_at is None:  # a certificate revoked before it was drawn is not printed
            view = certificate_view(self._ctx, record, photo, job.organization_name, job.layout)
            files = default_renderer().encode_all(view, job.formats, layout=job.layout, assets=job.assets, dpi=job.dpi)
            for fmt, data in files.items():
                _write_atomic(parts / f"{record.number}.{fmt}", data)

        def work(uow: Any) -> None:
            uow.batches.mark_drawn(batch_id, position, self._ctx.clock())
            uow.commit()

        self._ctx.run(work)

    def pack(self, batch_id: str) -> None:
        """Build the archive from the files on disk and mark the batch done. Two workers may
        pack the same batch at once (both saw the last item drawn): each writes its own
        temporary file and only the first becomes the archive (a hard link never replaces
        an existing file); the digest recorded is that of the file in place."""
        with self._ctx.reading() as uow:
            batch = uow.batches.get(batch_id)
        parts = self.parts_dir(batch_id)
        if batch is None or batch.status != "rendering":
            if batch is not None and batch.status == "done":
                # A chunk delivered twice may have drawn its items again, into a parts
                # directory made anew after the packer removed it.
                shutil.rmtree(parts, ignore_errors=True)
            return
        final = self.archive_path(batch_id)
        if not final.exists():
            tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")
            try:
                self._write_archive(batch, parts, tmp)
                _place(tmp, final)
            except FileNotFoundError:
                with self._ctx.reading() as uow:
                    now_done = (found := uow.batches.get(batch_id)) is not None and found.status == "done"
                if now_done or final.exists():
                    return  # the other packer placed the archive first and removed the parts
                raise
            finally:
                tmp.unlink(missing_ok=True)
        digest, size = _sha256(final)
        # The archive is complete: its parts, and temporary files a killed packer left, go
        # before the batch is marked done, so that a done batch has nothing beside its archive.
        shutil.rmtree(parts, ignore_errors=True)
        for stale in final.parent.glob(f".{final.name}.*.tmp"):
            stale.unlink(missing_ok=True)

        def work(uow: Any) -> None:
            uow.batches.update(
                batch_id,
                only_if_status="rendering",
                status="done",
                finished_at=self._ctx.clock(),
                archive_bytes=size,
                archive_sha256=digest,
            )
            uow.commit()

        self._ctx.run(work)

    def _write_archive(self, batch: BatchRecord, parts: Path, target: Path) -> None:
        sheet = parts / f".result.{uuid.uuid4().hex}.xlsx"
        try:
            self.write_result(batch.id, sheet)
            with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
                with open(sheet, "rb") as src, archive.open(_zip_info(ARCHIVE_RESULT, batch.created_at), "w") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                for line in self._lines(batch.id):
                    if line.revoked:
                        continue
                    for fmt in batch.formats:
                        info = _zip_info(member_name(line.number, line.holder_name, fmt), batch.created_at)
                        with open(parts / f"{line.number}.{fmt}", "rb") as src, archive.open(info, "w") as dst:
                            shutil.copyfileobj(src, dst, 1 << 20)
            with open(target, "rb+") as f:
                os.fsync(f.fileno())
        finally:
            sheet.unlink(missing_ok=True)

    def _lines(self, batch_id: str) -> Iterator[BatchLine]:
        with self._ctx.reading() as uow:
            yield from uow.batches.lines(batch_id)

    def write_result(self, batch_id: str, target: Path | IO[bytes]) -> None:
        """Every roster row: its certificate (number, holder, masked ID number, files) or,
        for a row that was not issued, its problems. Written row by row (openpyxl
        write-only)."""
        from openpyxl import Workbook

        with self._ctx.reading() as uow:
            batch = uow.batches.get(batch_id)
        assert batch is not None
        problems = _problems_by_row(batch.report)
        book = Workbook(write_only=True)
        sheet = book.create_sheet("发证结果")
        for letter, width in zip("ABCDEFGHIJKLM", (8, 8, 26, 12, 22, 12, 24, 16, 14, 16, 30, 30, 60), strict=True):
            sheet.column_dimensions[letter].width = width
        sheet.append(row_of(sheet, RESULT_HEADERS))
        pending = sorted(problems)

        def refused(row: int) -> list[Any]:
            return row_of(sheet, [row, "未发证", *([""] * 10), "；".join(problems[row])])

        for line in self._lines(batch_id):
            while pending and pending[0] < line.row:
                sheet.append(refused(pending.pop(0)))
            printed = not line.revoked
            sheet.append(
                row_of(
                    sheet,
                    [
                        line.row,
                        "已发证" if printed else "已撤销",
                        line.number,
                        line.holder_name,
                        line.document_number_masked,
                        line.occupation,
                        self._ctx.catalogue.occupation(line.occupation).name,
                        line.work_type or "",
                        level_zh(line.level),
                        date_zh(line.issue_date),
                        member_name(line.number, line.holder_name, "png") if printed and "png" in batch.formats else "",
                        member_name(line.number, line.holder_name, "pdf") if printed and "pdf" in batch.formats else "",
                        "",
                    ],
                )
            )
        for row in pending:
            sheet.append(refused(row))
        book.save(target)  # type: ignore[arg-type]
