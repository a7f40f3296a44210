"""A batch as one PDF for the printer (``printing``): a page per certificate in number
order, each page the certificate's own PDF, revoked certificates left out; only the
issuing organization's clerk gets it, and only once the batch is issued."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from datetime import timedelta

import pypdfium2
import pytest
import zxingcpp
from flask import Flask

from issuer.core import trust
from issuer.core.errors import Conflict, NotFound
from issuer.core.verify import verify
from issuer.render import load_layout
from issuer.service import jobs
from issuer.service.printing import PrintedBatch
from issuer.service.wiring import UseCases
from issuer.store.records import BatchRecord
from tests.builders import archive_members, id17s, issued_rows, simple_roster, submit
from tests.conftest import OTHER_CODE, Clock, Keys, issuer_principal
from tests.render.helpers import rasterize

DPI = 150


def _finished(svc: UseCases, rows: list[tuple[str, str, int]]) -> BatchRecord:
    body = submit(svc, simple_roster(rows), formats=("pdf",), dpi=DPI)
    assert isinstance(svc.queue, jobs.InProcessQueue)
    svc.queue.join()
    return svc.batches.status(issuer_principal(svc), body.id)


def _read(printed: PrintedBatch) -> bytes:
    with printed.file:
        data = printed.file.read()
    assert len(data) == printed.size and data.startswith(b"%PDF-") and data.endswith(b"%%EOF\n")
    return data


def _texts(data: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(data)
    try:
        return [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()


def test_a_batch_is_one_pdf_a_page_per_certificate_in_number_order(app: Flask, keys: Keys, svc: UseCases) -> None:
    rows = [(f"学员{i}", id17, 4 if i % 2 else 3) for i, id17 in enumerate(id17s(5))]
    batch = _finished(svc, rows)
    in_roster_order = [number for _, number in issued_rows(svc, batch.id)]
    numbers = sorted(in_roster_order)
    assert in_roster_order != numbers  # levels 3 and 4 alternate: the roster's order is not the numbers'
    printed = svc.batches.print_pdf(issuer_principal(svc), batch.id)
    assert (printed.pages, printed.filename) == (5, f"{batch.id}_证书.pdf")
    data = _read(printed)
    texts = _texts(data)
    assert len(texts) == 5
    for number, text in zip(numbers, texts, strict=True):
        record = svc.certificates.by_number(number)
        assert record is not None and number in text and record.holder_name in text
        assert [n for n in numbers if n in text] == [number]
    # Each page is the archive's PDF of its certificate, pixel for pixel.
    layout = load_layout("portrait")
    size = (round(layout.width * DPI / 25.4), round(layout.height * DPI / 25.4))
    with zipfile.ZipFile(svc.drawing.archive_path(batch.id)) as archive:
        singles = [archive.read(m) for m in archive_members(svc, numbers, ("pdf",))]
    for index, single in enumerate(singles):
        page, alone = rasterize(data, size, DPI, index), rasterize(single, size, DPI)
        assert page.tobytes() == alone.tobytes(), numbers[index]


def test_the_qr_code_of_a_page_reads_and_verifies(app: Flask, keys: Keys, svc: UseCases) -> None:
    batch = _finished(svc, [(f"学员{i}", id17, 3) for i, id17 in enumerate(id17s(2))])
    document = pypdfium2.PdfDocument(_read(svc.batches.print_pdf(issuer_principal(svc), batch.id)))
    try:
        image = document[1].render(scale=DPI / 72).to_pil().convert("L")
    finally:
        document.close()
    found = [b.text for b in zxingcpp.read_barcodes(image) if b.format == zxingcpp.BarcodeFormat.QRCode]
    _, bundle = svc.publishing.bundle()
    verdict = verify(found[0], trust.load_bundle(json.dumps(bundle)), at=svc.ctx.clock())
    assert len(found) == 1 and verdict.valid and verdict.credential is not None
    assert str(verdict.credential.number) == sorted(n for _, n in issued_rows(svc, batch.id))[1]


def test_revoked_certificates_are_left_out(app: Flask, keys: Keys, svc: UseCases) -> None:
    batch = _finished(svc, [(f"学员{i}", id17, 3) for i, id17 in enumerate(id17s(3))])
    numbers = sorted(n for _, n in issued_rows(svc, batch.id))
    svc.revoking.revoke(issuer_principal(svc), numbers[1], reason="data_error")
    printed = svc.batches.print_pdf(issuer_principal(svc), batch.id)
    texts = _texts(_read(printed))
    assert printed.pages == len(texts) == 2
    assert numbers[0] in texts[0] and numbers[2] in texts[1] and not any(numbers[1] in t for t in texts)
    for number in (numbers[0], numbers[2]):
        svc.revoking.revoke(issuer_principal(svc), number, reason="data_error")
    with pytest.raises(Conflict) as refused:
        svc.batches.print_pdf(issuer_principal(svc), batch.id)
    assert refused.value.code == "batch_nothing_to_print"


def test_another_organizations_batch_is_not_found(app: Flask, keys: Keys, svc: UseCases) -> None:
    batch = _finished(svc, [("甲", id17s(1)[0], 3)])
    with pytest.raises(NotFound):
        svc.batches.print_pdf(issuer_principal(svc, OTHER_CODE), batch.id)


def test_a_batch_prints_once_issued_while_drawn_and_after_its_archive_expired(
    app: Flask, keys: Keys, svc: UseCases, clock: Clock
) -> None:
    assert isinstance(svc.queue, jobs.InProcessQueue)
    svc.queue.close()  # nothing runs in the background: each stage is run by hand
    accepted = submit(svc, simple_roster([("甲", id17s(1)[0], 3)]), formats=("pdf",), dpi=DPI)
    with pytest.raises(Conflict) as refused:
        svc.batches.print_pdf(issuer_principal(svc), accepted.id)
    assert refused.value.code == "batch_not_ready"
    svc.batches.run_validation(accepted.id)
    while_drawn = svc.batches.print_pdf(issuer_principal(svc), accepted.id)
    assert while_drawn.batch.status == "rendering" and len(_texts(_read(while_drawn))) == 1
    svc.drawing.draw(accepted.id, 0, 1)
    clock.advance(days=31)
    assert svc.batches.purge(timedelta(days=30)) == [accepted.id]
    printed = svc.batches.print_pdf(issuer_principal(svc), accepted.id)
    assert printed.batch.status == "expired" and len(_texts(_read(printed))) == 1


def test_a_dry_run_has_nothing_to_print(app: Flask, keys: Keys, svc: UseCases) -> None:
    body = submit(svc, simple_roster([("甲", id17s(1)[0], 3)]), dry_run=True)
    assert isinstance(svc.queue, jobs.InProcessQueue)
    svc.queue.join()
    with pytest.raises(Conflict) as refused:
        svc.batches.print_pdf(issuer_principal(svc), body.id)
    assert refused.value.code == "batch_not_issued"


def test_a_failed_print_leaves_no_file_open(app: Flask, keys: Keys, svc: UseCases) -> None:
    """The temporary file of a PDF that could not be written is closed (and so gone)."""
    batch = _finished(svc, [("甲", id17s(1)[0], 3)])
    svc.revoking.revoke(issuer_principal(svc), issued_rows(svc, batch.id)[0][1], reason="data_error")
    opened: list[io.BufferedRandom] = []
    real = tempfile.TemporaryFile

    def spy(*args: object, **kwargs: object) -> io.BufferedRandom:
        file = real(*args, **kwargs)  # type: ignore[call-overload]
        opened.append(file)
        return file  # type: ignore[no-any-return]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "TemporaryFile", spy)
        with pytest.raises(Conflict):
            svc.batches.print_pdf(issuer_principal(svc), batch.id)
    assert len(opened) == 1 and opened[0].closed
