"""A batch as one PDF for the printer: a page per certificate, each the page of the
certificate's own PDF (the organization's layout and images, the batch's resolution), in
certificate-number order. Revoked certificates are left out: a clerk prints what may be
handed out, and the result spreadsheet says which were revoked.

The pages are drawn from the certificates' records, not from the batch's files, so the PDF
can be had as soon as the batch is issued, while its images are still being drawn, and
after its archive has expired. It is written to the caller's file as it is drawn
(``render.PdfBook``), reading one certificate at a time: memory stays flat however large
the batch (about 300 bytes a page are kept), and the file grows by about 3 kB a page
besides the photo. Measured at 300 dpi on SQLite, one core, reads included: 200
certificates in 0.8 s (2.0 MB), 1,000 in 3.7 s (9.8 MB, where the archive's single PDFs
are 32.8 MB), Python's traced memory peaking at 0.7 MB."""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import IO

from issuer.core.errors import Conflict
from issuer.render import TITLE, Assets, default_renderer
from issuer.service.context import Context
from issuer.service.filenames import batch_pdf_file
from issuer.service.images import certificate_view
from issuer.store.records import BatchRecord

log = logging.getLogger(__name__)

NUMBERS_AT_ONCE = 500
"""Certificate numbers read per query."""


class NothingToPrint(Conflict):
    """Every certificate of the batch is revoked."""

    def __init__(self, batch_id: str) -> None:
        super().__init__(
            "batch_nothing_to_print",
            f"every certificate of batch {batch_id} is revoked: there is nothing to print",
            f"批次{batch_id}的证书均已撤销，没有可打印的证书",
        )


@dataclass(frozen=True)
class PrintedBatch:
    """A batch's PDF in a temporary file (gone once closed), read from its start."""

    batch: BatchRecord
    file: IO[bytes]
    """The caller closes it (a response sending it closes it when sent)."""
    size: int
    pages: int
    filename: str
    """``<batch id>_证书.pdf`` (``filenames.batch_pdf_file``)."""


def print_batch(ctx: Context, batch: BatchRecord, directory: Path) -> PrintedBatch:
    """``write_batch_pdf`` into a temporary file in ``directory`` (the batch storage: a
    batch of thousands of certificates makes a file of tens of MB)."""
    directory.mkdir(parents=True, exist_ok=True)
    with ExitStack() as closed_on_failure:
        file = closed_on_failure.enter_context(tempfile.TemporaryFile(dir=directory, prefix=".print-"))
        pages = write_batch_pdf(ctx, batch, file)
        size = file.tell()
        file.seek(0)
        closed_on_failure.pop_all()
    return PrintedBatch(batch, file, size, pages, batch_pdf_file(batch.id))


def write_batch_pdf(ctx: Context, batch: BatchRecord, target: IO[bytes]) -> int:
    """Write the certificates of ``batch`` that are not revoked to ``target`` as one PDF;
    the number of pages. ``NothingToPrint`` when none is left (``target`` then holds no
    PDF); a ``RenderError`` as drawing the certificate alone would raise it."""
    started = time.perf_counter()
    numbers = _live_numbers(ctx, batch.id)
    first = next(numbers, None)
    if first is None:
        raise NothingToPrint(batch.id)
    with ctx.reading() as uow:
        org = uow.organizations.get_by_id(batch.organization_id)
        assert org is not None
        assets = Assets(*uow.organizations.images(org.id))
    renderer = default_renderer()
    book = renderer.book(target, title=f"{TITLE} {batch.id}")
    for number in chain([first], numbers):
        with ctx.reading() as uow:
            record = uow.certificates.get(number)
            photo = uow.certificates.photo(number)
        if record is None or record.revoked_at is not None:  # revoked since it was listed
            continue
        view = certificate_view(ctx, record, photo, org.name, org.layout)
        book.add(renderer.compose(view, layout=org.layout, assets=assets, dpi=batch.dpi))
    if not book.pages:
        raise NothingToPrint(batch.id)
    book.close()
    log.info(
        "batch %s: %s certificates in one PDF of %s bytes in %.2f s",
        batch.id,
        book.pages,
        book.written,
        time.perf_counter() - started,
    )
    return book.pages


def _live_numbers(ctx: Context, batch_id: str) -> Iterator[str]:
    """The numbers of the batch's certificates not revoked, in order, read a page at a time
    (each in a transaction of its own: none is held while pages are drawn)."""
    after = ""
    while True:
        with ctx.reading() as uow:
            found = uow.batches.live_numbers(batch_id, after=after, limit=NUMBERS_AT_ONCE)
        yield from found
        if len(found) < NUMBERS_AT_ONCE:
            return
        after = found[-1]
