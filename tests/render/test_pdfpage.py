"""The certificate as a vector PDF (``pdfpage.py``): every value shown is text that PDFium
extracts, the QR code is filled rectangles that a scanner reads from a 150 dpi rendering,
the page rasterized looks like the PNG drawn from the same composition, and the file is
small."""

from __future__ import annotations

import re
from dataclasses import replace

import pypdfium2
import pytest
import zxingcpp
from PIL import Image, ImageChops

from issuer.core.verify import verify
from issuer.render import Assets, CertificateView, Renderer, load_layout
from issuer.render.compose import qr_code
from issuer.render.pdfpage import dark_rectangles
from issuer.render.samples import long_view, max_qr_view, sample_assets
from tests import factories

from .helpers import LAYOUTS, pdf_text, photo, rasterize, typical, world

DPI = 150
GOAL_KB = 80
"""A PDF takes at most this many kB (1000 bytes) besides its photo's bytes."""
ARCHIVE_KB = 350
"""A certificate's PNG and PDF together (a batch archive holds both)."""

# How far the PDF rasterized by PDFium may differ from the PNG (both at 150 dpi, grey
# levels 0–255). Measured over both layouts, typical and longest values, with and without
# photo, logo, seal and background: a mean of 0.98–2.34 levels a pixel; 0.51–0.93 % of the
# pixels off by more than 64 levels; within each field's box (value or label), the summed
# difference at most 0.47 of the box's ink (the PNG's darkness). What differs is the edges
# of glyphs: Pillow draws them hinted by FreeType, PDFium does not. A value drawn one pixel
# off gives 0.9 in its box (``test_a_field_drawn_a_pixel_off_would_be_seen``).
MEAN = 2.5
SHARE_OFF_64 = 0.010
FIELD_INK = 0.6
FIELD_INK_LIMITS = {"qr": 0.02, "photo": 0.1}
"""The QR code is whole pixels a module in both (measured 0.002); the photo is resampled by
Pillow (Lanczos) for the PNG and by PDFium for the PDF (0.019)."""


def _view(name: str, values: str, *, with_photo: bool = True) -> CertificateView:
    english = name == "landscape"
    view = long_view(english=english) if values == "long" else typical(english=english, photo=photo())
    return view if with_photo else replace(view, photo=None)


def _expected_texts(view: CertificateView, name: str) -> list[str]:
    """Every text the page shows: values (the lookup lines with their labels), labels,
    English values and labels, the title."""
    layout = load_layout(name)
    texts = []
    for f in layout.fields:
        value = None if f.key in ("photo", "qr") else view.text(f.key)
        if value is None:
            continue
        if f.inline_label:
            name_en = f"（{f.label_en}）" if layout.english and f.label_en else ""
            texts.append(f"{f.label}{name_en}{f.label_style.colon}{value}")
            continue
        texts.append(value)
        texts += [t for t in (f.label, f.english_text, view.text_en(f.key)) if t]
        if layout.english and f.label_en:
            texts.append(f.label_en)
    return texts


@pytest.mark.parametrize("name", LAYOUTS)
@pytest.mark.parametrize("values", ["typical", "long"])
def test_every_text_shown_is_text_that_pdfium_extracts(renderer: Renderer, name: str, values: str) -> None:
    view = _view(name, values)
    text = pdf_text(renderer.encode(view, "pdf", layout=name))
    joined, spaced = text.replace("\r\n", ""), " ".join(text.replace("\r\n", " ").split())
    assert view.holder_name in joined and view.number in joined
    assert "职业技能等级证书" in text.splitlines()  # the tracked title is one word, not 职 业 技 …
    for expected in _expected_texts(view, name):
        # A wrapped value is one line of the extracted text per printed line.
        assert expected in joined or " ".join(expected.split()) in spaced, expected


@pytest.mark.parametrize("name", LAYOUTS)
@pytest.mark.parametrize("values", ["typical", "long", "max-qr"])
def test_the_qr_code_is_rectangles_a_scanner_reads_at_150_dpi(renderer: Renderer, name: str, values: str) -> None:
    view = max_qr_view(name) if values == "max-qr" else _view(name, values)
    document = pypdfium2.PdfDocument(renderer.encode(view, "pdf", layout=name))
    page = document[0]
    images = [o for o in page.get_objects() if isinstance(o, pypdfium2.PdfImage)]
    assert len(images) == 1  # the photo: the code is no image
    found = zxingcpp.read_barcodes(
        page.render(scale=DPI / 72).to_pil().convert("L"), formats=zxingcpp.BarcodeFormat.QRCode
    )
    assert [b.text for b in found if b.format == zxingcpp.BarcodeFormat.QRCode] == [view.qr_text]
    verdict = verify(view.qr_text, world().store, at=factories.NOW)
    assert verdict.valid and verdict.credential is not None and str(verdict.credential.number) == view.number


def _asset_variants() -> dict[str, tuple[Assets | None, bool]]:
    assets = sample_assets()
    return {
        "plain": (None, False),
        "photo": (None, True),
        "logo": (Assets(logo=assets.logo), True),
        "seal": (Assets(seal=assets.seal), True),
        "background": (Assets(background=assets.background), True),
        "all": (assets, True),
    }


def _mean(histogram: list[int]) -> float:
    return sum(level * count for level, count in enumerate(histogram)) / sum(histogram)


def _off_by_ink(drawn: Image.Image, png: Image.Image, box: tuple[int, int, int, int]) -> float:
    """In ``box`` (x, y, width, height): the summed difference of the two images over the
    PNG's summed darkness (at least 1% of the box's: an empty photo box is white)."""
    x, y, w, h = box
    crop = (x, y, x + w, y + h)
    difference = ImageChops.difference(drawn, png).convert("L").crop(crop).histogram()
    ink = sum((255 - level) * count for level, count in enumerate(png.convert("L").crop(crop).histogram()))
    return sum(level * count for level, count in enumerate(difference)) / max(ink, 0.01 * 255 * w * h)


@pytest.mark.parametrize("name", LAYOUTS)
@pytest.mark.parametrize("values", ["typical", "long"])
@pytest.mark.parametrize("variant", ["plain", "photo", "logo", "seal", "background", "all"])
def test_the_pdf_rasterized_looks_like_the_png(renderer: Renderer, name: str, values: str, variant: str) -> None:
    assets, with_photo = _asset_variants()[variant]
    page = renderer.page(_view(name, values, with_photo=with_photo), layout=name, assets=assets, dpi=DPI)
    drawn = rasterize(page.pdf(), page.image.size, DPI)
    histogram = ImageChops.difference(drawn, page.image).convert("L").histogram()
    assert _mean(histogram) <= MEAN
    assert sum(histogram[65:]) / sum(histogram) <= SHARE_OFF_64
    for placement in page.placements:
        limit = FIELD_INK_LIMITS.get(placement.key, FIELD_INK)
        for box in (placement.box_px, placement.label_box_px):
            if box is not None:
                assert _off_by_ink(drawn, page.image, box) <= limit, (placement.key, box)


def test_a_field_drawn_a_pixel_off_would_be_seen(renderer: Renderer) -> None:
    """The comparison is tight enough: the holder's name moved one pixel to the right in
    the PNG (not in the PDF) exceeds the limit in its box."""
    page = renderer.page(typical(), dpi=DPI)
    name = page.placement("holder_name")
    assert name.ink is not None
    drawn = rasterize(page.pdf(), page.image.size, DPI)
    assert _off_by_ink(drawn, page.image, name.box_px) <= FIELD_INK
    shifted = page.image.copy()
    left, top, right, bottom = name.ink
    shifted.paste((255, 255, 255), (left, top, right + 1, bottom))
    shifted.paste(page.image.crop(name.ink), (left + 1, top))
    assert _off_by_ink(drawn, shifted, name.box_px) > FIELD_INK


@pytest.mark.parametrize("name", LAYOUTS)
@pytest.mark.parametrize("values", ["typical", "long"])
def test_a_pdf_takes_at_most_80_kb_besides_its_photo(renderer: Renderer, name: str, values: str) -> None:
    view = _view(name, values)
    assert view.photo is not None
    assert len(renderer.encode(view, "pdf", layout=name)) <= GOAL_KB * 1000 + len(view.photo)
    assert len(renderer.encode(replace(view, photo=None), "pdf", layout=name)) <= GOAL_KB * 1000


def test_a_portrait_certificates_png_and_pdf_together_take_at_most_350_kb(renderer: Renderer) -> None:
    files = renderer.encode_all(typical(photo=photo()), ("png", "pdf"))
    assert len(files["png"]) + len(files["pdf"]) <= ARCHIVE_KB * 1000


def test_the_pdf_beside_a_png_is_the_pdf_alone_and_a_pdf_alone_draws_no_pixels(renderer: Renderer) -> None:
    view = typical(photo=photo())
    alone: dict[str, float] = {}
    pdf = renderer.encode(view, "pdf", profile=alone)
    assert renderer.page(view).pdf() == pdf == renderer.encode_all(view, ("png", "pdf"))["pdf"]
    assert "pdf" in alone and not {"photo", "seal", "png"} & set(alone)  # the stages of drawing pixels


def _object(data: bytes, number: int) -> bytes:
    found = re.search(rb"^%d 0 obj\n(.*?)\nendobj$" % number, data, re.S | re.M)
    assert found is not None
    return found[1]


def test_every_certificate_of_an_organization_reuses_the_static_layers_content(renderer: Renderer) -> None:
    """The page's first content stream (labels, title, body text, organization, lookup
    lines, frame) is the static layer's, byte for byte; the second holds the values."""
    first = renderer.encode(typical(), "pdf")
    second = renderer.encode(typical(name="李四", number="Y000123000001263000002"), "pdf")
    contents = []
    for data in (first, second):
        page = re.search(rb"/Contents\[(\d+) 0 R (\d+) 0 R\]", data)
        assert page is not None
        contents.append([_object(data, int(page[i])) for i in (1, 2)])
    assert contents[0][0] == contents[1][0] and contents[0][1] != contents[1][1]
    assert "李四" in pdf_text(second) and "张三丰" not in pdf_text(second)


def test_text_the_font_has_no_glyph_for_is_refused_before_anything_is_written(renderer: Renderer) -> None:
    from issuer.render import MissingGlyph

    with pytest.raises(MissingGlyph):
        renderer.encode(replace(typical(), holder_name="张\U0002a6d6"), "pdf")


def test_the_photo_region_of_a_page_without_photo_is_an_empty_frame(renderer: Renderer) -> None:
    page = renderer.page(typical(), dpi=DPI)
    x, y, w, h = page.placement("photo").box_px
    drawn = rasterize(page.pdf(), page.image.size, DPI)
    assert drawn.crop((x + 1, y + 1, x + w - 1, y + h - 1)).convert("L").getextrema() == (255, 255)
    assert drawn.convert("L").crop((x - 2, y - 2, x + w + 2, y + h + 2)).getextrema()[0] < 200  # the frame


def test_the_dark_modules_are_merged_into_rectangles_that_cover_exactly_them() -> None:
    code = qr_code(typical().qr_text, (0, 0, 1000, 1000), (0, 0, 85, 85), 300, load_layout("portrait"))
    rectangles = dark_rectangles(code.matrix, code.side)
    covered: list[tuple[int, int]] = []
    for column, row, width, height in rectangles:
        covered += [(column + i, row + j) for i in range(width) for j in range(height)]
    dark = [(i % code.side, i // code.side) for i, value in enumerate(code.matrix) if value == 0]
    assert sorted(covered) == sorted(dark)  # every dark module once, no light one
    assert len(rectangles) < len(dark) / 2
