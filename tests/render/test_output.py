"""Output: PNG at 300 dpi A4 (or 150, 200, 600 dpi; no other), a one-page A4 PDF; the same inputs give
the same bytes, from a warm cache or a fresh renderer."""

from __future__ import annotations

import re
import struct
import zlib

import pypdfium2
import pytest

from issuer.render import Page, Renderer, RenderError, png
from issuer.render.png import band_count
from issuer.render.renderer import PNG_COMPRESS_LEVEL, STATIC_PNG_LEVEL
from issuer.render.samples import long_view, sample_assets

from .helpers import LAYOUTS, decode, photo, typical

A4_PT = (595.2756, 841.8898)


def _idat(png: bytes) -> bytes:
    pos, out = 8, []
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        if png[pos + 4 : pos + 8] == b"IDAT":
            out.append(png[pos + 8 : pos + 8 + length])
        pos += 12 + length
    return b"".join(out)


@pytest.mark.parametrize(("name", "size"), [("portrait", (2480, 3508)), ("landscape", (3508, 2480))])
def test_the_png_is_a4_at_300_dpi(renderer: Renderer, name: str, size: tuple[int, int]) -> None:
    image = decode(renderer.encode(typical(english=name == "landscape"), layout=name))
    assert image.format == "PNG" and image.mode == "RGB" and image.size == size
    assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)


@pytest.mark.parametrize(("dpi", "size"), [(150, (1240, 1754)), (200, (1654, 2339))])
def test_every_supported_resolution_gives_an_a4_page(renderer: Renderer, dpi: int, size: tuple[int, int]) -> None:
    image = decode(renderer.encode(typical(), dpi=dpi))
    assert image.size == size
    assert image.info["dpi"] == pytest.approx((dpi, dpi), abs=0.02)  # pHYs: whole pixels a metre


@pytest.mark.parametrize("dpi", [72, 100, 250, 1200])
def test_other_resolutions_are_refused_before_drawing(renderer: Renderer, dpi: int) -> None:
    for attempt in (lambda: renderer.encode(typical(), dpi=dpi), lambda: renderer.check(typical(), dpi=dpi)):
        with pytest.raises(RenderError) as caught:
            attempt()
        assert caught.value.code == "invalid_dpi" and caught.value.kind == "invalid_input"
        assert "150, 200, 300, 600" in caught.value.message and "分辨率" in caught.value.message_zh


@pytest.mark.parametrize("name", LAYOUTS)
def test_the_same_inputs_give_identical_bytes(renderer: Renderer, name: str) -> None:
    view = typical(english=name == "landscape", photo=photo())
    assets = sample_assets()
    fresh = Renderer()
    first_png = renderer.encode(view, layout=name, assets=assets)
    assert renderer.encode(view, layout=name, assets=assets) == first_png  # static layer from the cache
    assert fresh.encode(view, layout=name, assets=assets) == first_png  # built anew
    first_pdf = renderer.encode(view, layout=name, assets=assets, fmt="pdf")
    assert renderer.encode(view, layout=name, assets=assets, fmt="pdf") == first_pdf
    assert fresh.encode(view, layout=name, assets=assets, fmt="pdf") == first_pdf


def test_the_pdf_is_one_a4_page_carrying_the_png_losslessly_and_no_date(renderer: Renderer) -> None:
    view = typical(photo=photo())
    png, pdf = renderer.encode(view), renderer.encode(view, fmt="pdf")
    assert pdf.startswith(b"%PDF-1.4\n") and pdf.rstrip().endswith(b"%%EOF")
    assert pdf.count(b"/Type /Page ") == 1 and b"/Count 1" in pdf
    box = re.search(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
    assert box is not None and (float(box[1]), float(box[2])) == pytest.approx(A4_PT, abs=0.01)
    assert b"CreationDate" not in pdf and b"ModDate" not in pdf and b"(D:" not in pdf
    # The image stream is the PNG's own compressed rows (FlateDecode, PNG predictors) ...
    stream = re.search(rb"/Length (\d+) >>\nstream\n", pdf)
    assert stream is not None
    start = stream.end()
    data = pdf[start : start + int(stream[1])]
    assert data == _idat(png)
    # ... rows filtered "None" (0) or "Up" (2), which PDF's PNG predictors undo ...
    rows = zlib.decompress(data)
    stride = 2480 * 3 + 1
    assert len(rows) == stride * 3508 and set(rows[::stride]) == {0, 2}
    # ... to the page's pixels, as an independent PDF reader (PDFium) decodes them.
    (image,) = pypdfium2.PdfDocument(pdf)[0].get_objects()
    assert isinstance(image, pypdfium2.PdfImage)
    assert image.get_bitmap(render=False).to_pil().convert("RGB").tobytes() == decode(png).tobytes()


def test_the_pdf_cross_reference_table_points_at_its_objects(renderer: Renderer) -> None:
    pdf = renderer.encode(typical(), fmt="pdf")
    start = int(re.findall(rb"startxref\n(\d+)\n", pdf)[-1])
    assert pdf[start:].startswith(b"xref\n0 7\n")
    offsets = [int(line[:10]) for line in pdf[start:].split(b"\n")[3:9]]
    for number, offset in enumerate(offsets, start=1):
        assert pdf[offset:].startswith(f"{number} 0 obj\n".encode())
    assert "职业技能等级证书 Y000123000001263000001".encode("utf-16-be").hex().upper().encode() in pdf


@pytest.mark.parametrize("name", ["portrait", "landscape", "portrait-long", "landscape-long"])
def test_the_png_holds_exactly_the_drawn_page(pages: dict[str, Page], name: str) -> None:
    """Rows no value touched come compressed from the static layer's cache: the file must
    still decode to every pixel that was drawn."""
    page = pages[name]
    assert 0 < len(page.dirty) < band_count(page.image.height)  # some bands reused, some not
    assert decode(page.png()).tobytes() == page.image.tobytes()


def test_the_png_with_an_organizations_images_holds_exactly_the_drawn_page(renderer: Renderer) -> None:
    page = renderer.page(long_view(), assets=sample_assets())
    assert decode(page.png()).tobytes() == page.image.tobytes()
    assert decode(page.png(compress_level=6)).tobytes() == page.image.tobytes()


def test_rows_no_value_touched_are_compressed_harder_once(pages: dict[str, Page]) -> None:
    """The static layer's bands come at ``STATIC_PNG_LEVEL``: the page is smaller than the
    same image encoded at the per-certificate level throughout, and holds the same pixels."""
    page = pages["portrait"]
    cached = page.png()
    plain = png.encode(page.image, page.dpi, PNG_COMPRESS_LEVEL)
    assert STATIC_PNG_LEVEL > PNG_COMPRESS_LEVEL
    assert len(cached) < 0.95 * len(plain)
    assert decode(cached).tobytes() == decode(plain).tobytes() == page.image.tobytes()


def test_a_renderer_that_caches_no_layer_compresses_every_row_at_its_own_level() -> None:
    """Its layers are built for one page each: compressing them harder would cost every page."""
    page = Renderer(static_cache_bytes=0).page(typical())
    assert page.png() == png.encode(page.image, page.dpi, PNG_COMPRESS_LEVEL)
