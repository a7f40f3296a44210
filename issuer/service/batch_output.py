"""A batch's output: each certificate's PNG and PDF written to disk as it is drawn, then one
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
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from issuer.core.clock import CST
from issuer.core.display import date_zh, level_zh
from issuer.render import Assets, default_renderer
from issuer.service import images
from issuer.service.context import Services
from issuer.store import models as m

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


class BatchGone(Exception):
    """The batch was finished, failed or removed while this step ran: nothing to do."""


def batch_dir(svc: Services, batch_id: str) -> Path:
    return svc.batch_dir / batch_id


def archive_path(svc: Services, batch_id: str) -> Path:
    return svc.batch_dir / f"{batch_id}.zip"


def member_name(number: str, fmt: str) -> str:
    return f"{fmt}/{number}.{fmt}"


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@dataclass(frozen=True)
class _Job:
    formats: tuple[str, ...]
    dpi: int
    layout: str
    assets: Assets
    organization_name: str


def _job(session: Session, batch: m.Batch) -> _Job:
    org = session.get(m.Organization, batch.organization_id)
    assert org is not None
    return _Job(
        tuple(f for f in batch.formats.split(",") if f),
        batch.dpi,
        org.layout,
        images.assets_of(org),
        org.name,
    )


def render_chunk(svc: Services, batch_id: str, first: int, count: int) -> None:
    """Draw the items at positions ``first`` … ``first + count - 1`` not drawn yet, each
    marked drawn once its files are on disk; pack the archive when nothing is left."""
    with svc.db.reading() as session:
        batch = session.get(m.Batch, batch_id)
        if batch is None or batch.status != "rendering":
            return
        job = _job(session, batch)
        positions = list(
            session.scalars(
                select(m.BatchItem.position).where(
                    m.BatchItem.batch_id == batch_id,
                    m.BatchItem.position >= first,
                    m.BatchItem.position < first + count,
                    m.BatchItem.rendered_at.is_(None),
                )
            )
        )
    parts = batch_dir(svc, batch_id)
    parts.mkdir(parents=True, exist_ok=True)
    for position in sorted(positions):
        _render_item(svc, batch_id, position, job, parts)
    if remaining(svc, batch_id) == 0:
        pack(svc, batch_id)


def _render_item(svc: Services, batch_id: str, position: int, job: _Job, parts: Path) -> None:
    with svc.db.reading() as session:
        item = session.get(m.BatchItem, (batch_id, position))
        assert item is not None
        record = item.certificate
        number = record.number
        # A certificate revoked before it was drawn is not printed.
        view = None if record.revoked_at else images.certificate_view(svc, record, job.organization_name, job.layout)
    if view is not None:
        renderer = default_renderer()
        page = renderer.page(view, layout=job.layout, assets=job.assets, dpi=job.dpi)
        png = page.png(renderer.png_compress_level)
        if "png" in job.formats:
            _write_atomic(parts / f"{number}.png", png)
        if "pdf" in job.formats:
            _write_atomic(parts / f"{number}.pdf", page.pdf(renderer.png_compress_level, encoded=png))
    with svc.transaction() as session:
        session.execute(
            update(m.BatchItem)
            .where(m.BatchItem.batch_id == batch_id, m.BatchItem.position == position)
            .values(rendered_at=svc.clock())
        )


def remaining(svc: Services, batch_id: str) -> int:
    with svc.db.reading() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(m.BatchItem)
                .where(m.BatchItem.batch_id == batch_id, m.BatchItem.rendered_at.is_(None))
            )
            or 0
        )


def pack(svc: Services, batch_id: str) -> None:
    """Build the archive from the files on disk and mark the batch done. Two workers may
    pack the same batch at once (both saw the last item drawn): each writes its own
    temporary file and only the first becomes the archive (a hard link never replaces an
    existing file); the digest recorded is that of the file in place."""
    with svc.db.reading() as session:
        batch = session.get(m.Batch, batch_id)
        if batch is None or batch.status != "rendering":
            return
        formats = tuple(f for f in batch.formats.split(",") if f)
        stamp = batch.created_at
    parts = batch_dir(svc, batch_id)
    final = archive_path(svc, batch_id)
    if not final.exists():
        tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")
        try:
            _write_archive(svc, batch_id, parts, tmp, formats, stamp)
            _place(tmp, final)
        except FileNotFoundError:
            if _status(svc, batch_id) == "done":
                return  # the other packer finished first and removed the parts
            raise
        finally:
            tmp.unlink(missing_ok=True)
    digest, size = _sha256(final)
    with svc.transaction() as session:
        session.execute(
            update(m.Batch)
            .where(m.Batch.id == batch_id, m.Batch.status == "rendering")
            .values(status="done", finished_at=svc.clock(), archive_bytes=size, archive_sha256=digest)
        )
    shutil.rmtree(parts, ignore_errors=True)


def _place(tmp: Path, final: Path) -> None:
    """Give ``tmp`` the name ``final`` unless a complete archive has it already."""
    try:
        os.link(tmp, final)
    except FileExistsError:
        pass
    except OSError:  # a file system without hard links
        if not final.exists():
            os.replace(tmp, final)


def _status(svc: Services, batch_id: str) -> str | None:
    with svc.db.reading() as session:
        return session.scalar(select(m.Batch.status).where(m.Batch.id == batch_id))


def _zip_info(name: str, stamp: datetime) -> zipfile.ZipInfo:
    local = stamp.astimezone(CST)
    info = zipfile.ZipInfo(name, date_time=(local.year, local.month, local.day, local.hour, local.minute, local.second))
    info.compress_type = zipfile.ZIP_STORED  # PNG, PDF and XLSX are compressed already
    info.external_attr = 0o644 << 16
    return info


def _write_archive(
    svc: Services, batch_id: str, parts: Path, target: Path, formats: tuple[str, ...], stamp: datetime
) -> None:
    sheet = parts / f".result.{uuid.uuid4().hex}.xlsx"
    try:
        write_result(svc, batch_id, sheet)
        with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
            with open(sheet, "rb") as src, archive.open(_zip_info(ARCHIVE_RESULT, stamp), "w") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            for number in _drawn_numbers(svc, batch_id):
                for fmt in formats:
                    info = _zip_info(member_name(number, fmt), stamp)
                    with open(parts / f"{number}.{fmt}", "rb") as src, archive.open(info, "w") as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
        with open(target, "rb+") as f:
            os.fsync(f.fileno())
    finally:
        sheet.unlink(missing_ok=True)


def _drawn_numbers(svc: Services, batch_id: str) -> Iterator[str]:
    """Numbers of the batch's printable (not revoked) certificates, in issue order."""
    for _, number, revoked_at in _items(svc, batch_id, m.Certificate.number, m.Certificate.revoked_at):
        if revoked_at is None:
            yield number


def _items(svc: Services, batch_id: str, *columns: Any) -> Iterator[tuple[Any, ...]]:
    """``(position, *columns)`` of the batch's items in issue order, read a page at a time
    (a batch can have tens of thousands)."""
    page, last = 500, -1
    while True:
        with svc.db.reading() as session:
            rows = session.execute(
                select(m.BatchItem.position, *columns)
                .join(m.Certificate, m.Certificate.id == m.BatchItem.certificate_id)
                .where(m.BatchItem.batch_id == batch_id, m.BatchItem.position > last)
                .order_by(m.BatchItem.position)
                .limit(page)
            ).all()
        if not rows:
            return
        last = rows[-1][0]
        yield from (tuple(r) for r in rows)


def _sha256(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


# --- the result spreadsheet ---------------------------------------------------------------


def write_result(svc: Services, batch_id: str, target: Path | object) -> None:
    """Every roster row: its certificate (number, holder, masked ID number, files) or, for a
    row that was not issued, its problems. Written row by row (openpyxl write-only)."""
    from openpyxl import Workbook

    with svc.db.reading() as session:
        batch = session.get(m.Batch, batch_id)
        assert batch is not None
        formats = tuple(f for f in batch.formats.split(",") if f)
        problems = _problems_by_row(batch.report)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("发证结果")
    for letter, width in zip("ABCDEFGHIJKLM", (8, 8, 26, 12, 22, 12, 24, 16, 14, 16, 30, 30, 60), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.append(list(RESULT_HEADERS))
    pending = sorted(problems)
    c = m.Certificate
    columns = (m.BatchItem.row, c.number, c.holder_name, c.document_number_masked, c.occupation, c.work_type)
    for _, row, number, name, masked, occupation, work_type, level, issued_on, revoked_at in _items(
        svc, batch_id, *columns, c.level, c.issue_date, c.revoked_at
    ):
        while pending and pending[0] < row:
            _append_refused(sheet, pending.pop(0), problems)
        printed = revoked_at is None
        sheet.append(
            [
                row,
                "已发证" if printed else "已撤销",
                number,
                name,
                masked,
                occupation,
                svc.catalogue.occupation(occupation).name,
                work_type or "",
                level_zh(level),
                date_zh(issued_on),
                member_name(number, "png") if printed and "png" in formats else "",
                member_name(number, "pdf") if printed and "pdf" in formats else "",
                "",
            ]
        )
    for row in pending:
        _append_refused(sheet, row, problems)
    book.save(target)  # type: ignore[arg-type]


def _problems_by_row(report: dict[str, object]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for problem in report.get("problems", []):  # type: ignore[union-attr]
        column = f"{problem['column']}：" if problem.get("column") else ""
        found.setdefault(int(problem["row"]), []).append(f"{column}{problem['message_zh']}")
    return found


def _append_refused(sheet: object, row: int, problems: dict[int, list[str]]) -> None:
    sheet.append([row, "未发证", *([""] * 10), "；".join(problems[row])])  # type: ignore[attr-defined]
