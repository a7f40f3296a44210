"""Many certificates as one PDF (``pdfbook.py``): a page per certificate, each drawn as the
certificate's own PDF draws it, its text and QR code its own; fonts and the organization's
images written once; the file written as the pages come."""

from __future__ import annotations

import io
import re
import tracemalloc
import zlib
from dataclasses import replace

import pypdfium2
import pytest
import zxingcpp
from PIL import ImageChops

from issuer.render import CertificateView, Renderer, load_layout
from issuer.render.pdf import PdfWriteError
from issuer.render.samples import sample_assets

from .helpers import pdf_text, photo, rasterize, typical

DPI = 150
NAMES = ("李四", "王五", "赵六")


def _views() -> list[CertificateView]:
    """Three certificates, the last without a photo."""
    views = [
        typical(photo=photo(), name=name, number=f"Y000123000001263{i:06d}") for i, name in enumerate(NAMES, start=1)
    ]
    return [*views[:2], replace(views[2], photo=None)]


def _book(renderer: Renderer, views: list[CertificateView], **kw: object) -> bytes:
    out = io.BytesIO()
    book = renderer.book(out, title="职业技能等级证书 测试批次")
    for view in views:
        book.add(renderer.compose(view, dpi=DPI, **kw))  # type: ignore[arg-type]
    book.close()
    assert book.pages == len(views) and book.written == len(out.getvalue())
    return out.getvalue()


def test_each_page_is_its_certificate_as_its_own_pdf_draws_it(renderer: Renderer) -> None:
    views, assets = _views(), sample_assets()
    data = _book(renderer, views, assets=assets)
    document = pypdfium2.PdfDocument(data)
    layout = load_layout("portrait")
    size = (round(layout.width * DPI / 25.4), round(layout.height * DPI / 25.4))
    assert len(document) == len(views)
    assert document.get_metadata_dict()["Title"] == "职业技能等级证书 测试批次"
    for index, view in enumerate(views):
        assert document[index].get_size() == pytest.approx((layout.width * 72 / 25.4, layout.height * 72 / 25.4))
        text = pdf_text(data, index)
        assert view.number in text and view.holder_name in text
        assert not any(other.number in text for other in views if other is not view)
        alone = renderer.encode(view, "pdf", assets=assets, dpi=DPI)
        difference = ImageChops.difference(rasterize(data, size, DPI, index), rasterize(alone, size, DPI))
        assert difference.getbbox() is None, index  # pixel for pixel


def test_the_qr_code_of_every_page_reads(renderer: Renderer) -> None:
    views = _views()
    document = pypdfium2.PdfDocument(_book(renderer, views))
    for index, view in enumerate(views):
        found = zxingcpp.read_barcodes(
            document[index].render(scale=DPI / 72).to_pil().convert("L"), formats=zxingcpp.BarcodeFormat.QRCode
        )
        assert [b.text for b in found if b.format == zxingcpp.BarcodeFormat.QRCode] == [view.qr_text]


def test_fonts_the_static_layer_and_the_organizations_images_are_written_once(renderer: Renderer) -> None:
    views, assets = _views(), sample_assets()
    data = _book(renderer, views, assets=assets)
    alone = renderer.encode(views[0], "pdf", assets=assets, dpi=DPI)
    fonts = alone.count(b"/Type/FontDescriptor")
    assert fonts >= 2 and data.count(b"/Type/FontDescriptor") == fonts
    # Background, logo and seal (each with its mask) once, and the two photos.
    assert data.count(b"/Subtype/Image") == alone.count(b"/Subtype/Image") - 1 + 2
    contents = re.findall(rb"/Contents\[(\d+) 0 R (\d+) 0 R\]", data)
    assert len(contents) == 3 and len({c[0] for c in contents}) == 1 and len({c[1] for c in contents}) == 3
    assert len(data) < len(alone) * 1.3  # three pages in little more than one


def test_the_same_pages_make_the_same_bytes(renderer: Renderer) -> None:
    views = _views()
    assert _book(renderer, views) == _book(Renderer(), views)


def test_the_cross_reference_stream_points_at_every_object_written_out_of_order(renderer: Renderer) -> None:
    data = _book(renderer, _views())
    start = int(re.findall(rb"startxref\n(\d+)\n%%EOF\n$", data)[0])
    head = re.compile(rb"(\d+) 0 obj\n<<(.*?)>>stream\n", re.S).match(data, start)
    assert head is not None
    size, length = (int(re.search(rb"/%s (\d+)" % key, head[2])[1]) for key in (b"Size", b"Length"))  # type: ignore[index]
    rows = zlib.decompress(data[head.end() : head.end() + length])
    offsets = [int.from_bytes(rows[5 * n + 1 : 5 * n + 5], "big") for n in range(1, size)]
    for number, offset in enumerate(offsets, start=1):
        assert rows[5 * number] == 1 and data[offset:].startswith(b"%d 0 obj\n" % number), number
    assert offsets != sorted(offsets)  # the catalog and page tree, reserved first, come last


def test_pages_are_written_as_they_come_and_memory_stays_flat(renderer: Renderer) -> None:
    """After each page the file holds it; what the book keeps grows by a few hundred bytes a
    page (measured: about 300), not by the page's 10 kB."""

    class Sink(io.RawIOBase):
        def __init__(self) -> None:
            self.size = 0

        def writable(self) -> bool:
            return True

        def write(self, data: bytes) -> int:  # type: ignore[override]
            self.size += len(data)
            return len(data)

    sink = Sink()
    book = renderer.book(sink, title="x")
    view = typical(photo=photo())
    book.add(renderer.compose(view, dpi=DPI))
    assert sink.size == book.written > len(photo())
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(2, 102):
            book.add(renderer.compose(replace(view, number=f"Y000123000001263{i:06d}"), dpi=DPI))
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    book.close()
    assert sink.size > 100 * len(photo()) and kept < 100 * 2000, kept


def test_a_pdf_without_pages_is_refused(renderer: Renderer) -> None:
    with pytest.raises(PdfWriteError):
        renderer.book(io.BytesIO(), title="x").close()
