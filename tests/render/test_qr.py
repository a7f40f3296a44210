"""The QR code on the certificate: error correction M, a 4-module quiet zone, whole pixels
per module and at least 0.5 mm per module; a scanner reads it back from the 300-dpi PNG,
from a 100-dpi copy and from a JPEG of that copy, and the text verifies offline."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import segno
import zxingcpp
from PIL import Image

from issuer.core.verify import verify
from issuer.render import Page, QrDoesNotFit, Renderer, load_layout
from issuer.render.samples import long_view
from tests import factories

from .helpers import LAYOUTS, decode, layout_variant, world


def _read(image: Image.Image) -> list[zxingcpp.Barcode]:
    return [b for b in zxingcpp.read_barcodes(image) if b.format == zxingcpp.BarcodeFormat.QRCode]


def _copies(page: Page) -> dict[str, Image.Image]:
    full = decode(page.png())
    small = full.resize((round(full.width / 3), round(full.height / 3)), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, "JPEG", quality=60)
    return {"300 dpi PNG": full, "100 dpi copy": small, "100 dpi JPEG q60": decode(out.getvalue())}


@pytest.mark.parametrize("name", [*LAYOUTS, "portrait-long", "landscape-long"])
def test_a_scanner_reads_the_signed_text_back_and_it_verifies_offline(pages: dict[str, Page], name: str) -> None:
    page = pages[name]
    expected = page.placement("qr").text
    for what, image in _copies(page).items():
        found = _read(image)
        assert [b.text for b in found] == [expected], what
        assert found[0].ec_level == "M", what
        verdict = verify(found[0].text, world().store, at=factories.NOW)
        assert verdict.valid, (what, verdict.failed_check)
        assert verdict.credential is not None and str(verdict.credential.number) in page.number


@pytest.mark.parametrize("name", LAYOUTS)
def test_the_code_has_whole_pixels_per_module_a_quiet_zone_and_half_a_millimetre_per_module(
    pages: dict[str, Page], name: str
) -> None:
    page = pages[name]
    qr = page.placement("qr")
    assert qr.text is not None and qr.ink is not None and qr.modules is not None and qr.module_mm is not None
    symbol = segno.make(qr.text, error="m", boost_error=False)
    assert symbol.error == "M" and symbol.mode == "alphanumeric"
    assert qr.modules == symbol.symbol_size(border=4)[0]
    left, top, right, bottom = qr.ink
    assert right - left == bottom - top
    module_px, rest = divmod(right - left, qr.modules)
    assert rest == 0 and module_px == round(qr.module_mm * page.dpi / 25.4)
    assert qr.module_mm >= 0.5
    # The quiet zone is white, whatever is printed around the code.
    gray = page.image.convert("L")
    zone = 4 * module_px
    for strip in (
        (left, top, right, top + zone),
        (left, bottom - zone, right, bottom),
        (left, top, left + zone, bottom),
        (right - zone, top, right, bottom),
    ):
        assert gray.crop(strip).getextrema() == (255, 255)


def test_the_worst_case_code_fits_every_layout_at_100_dpi_and_up(renderer: Renderer) -> None:
    view = long_view()
    for name in LAYOUTS:
        for dpi in (100, 150, 300, 600):
            renderer.check(view, layout=name, dpi=dpi)


def test_a_qr_box_too_small_for_half_millimetre_modules_is_refused(renderer: Renderer, tmp_path: Path) -> None:
    small = load_layout(layout_variant(tmp_path, "portrait", "box = [30, 189, 45, 45]", "box = [30, 189, 30, 30]"))
    view = long_view()  # version 13: 77 modules with the quiet zone, 38.5 mm at 0.5 mm
    with pytest.raises(QrDoesNotFit) as caught:
        renderer.page(view, layout=small)
    assert caught.value.code == "qr_does_not_fit"
    assert "0.5" in caught.value.message and "二维码" in caught.value.message_zh
    with pytest.raises(QrDoesNotFit):
        renderer.check(view, layout=small)


def test_a_resolution_too_low_for_half_millimetre_modules_is_refused(renderer: Renderer) -> None:
    with pytest.raises(QrDoesNotFit):
        renderer.check(long_view(), layout="portrait", dpi=60)
