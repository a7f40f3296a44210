"""Images in the PDF (``pdfimages.py``): the holder's photo as a JPEG, its bytes passed
through when they can be shown as they are, cropped to the box as the PNG crops it; an
organization's background, logo and seal lossless, once each, transparency as a soft
mask, the seal as ink."""

from __future__ import annotations

import io
import re
from dataclasses import replace

import pypdfium2
import pytest
from PIL import Image, ImageChops

from issuer.render import Assets, Page, Renderer
from issuer.render.samples import placeholder_background, placeholder_logo, placeholder_seal

from .helpers import photo, rasterize, typical

DPI = 150
PHOTO_MEAN = 3.0
"""Grey levels a pixel of the photo's box may differ by on average: Pillow resamples the
PNG's photo (Lanczos), PDFium the PDF's (measured 0.5–1.6)."""


def _images(data: bytes) -> list[pypdfium2.PdfImage]:
    page = pypdfium2.PdfDocument(data)[0]
    return [o for o in page.get_objects() if isinstance(o, pypdfium2.PdfImage)]


def _photo_difference(page: Page) -> tuple[float, Image.Image]:
    x, y, w, h = page.placement("photo").box_px
    drawn = rasterize(page.pdf(), page.image.size, DPI)
    box = (x, y, x + w, y + h)
    histogram = ImageChops.difference(drawn.crop(box), page.image.crop(box)).convert("L").histogram()
    return sum(level * count for level, count in enumerate(histogram)) / sum(histogram), drawn


def _jpeg(im: Image.Image, **options: object) -> bytes:
    out = io.BytesIO()
    im.save(out, "JPEG", quality=90, **options)  # type: ignore[arg-type]
    return out.getvalue()


def test_an_upright_jpeg_photo_is_embedded_byte_for_byte(renderer: Renderer) -> None:
    data = renderer.encode(typical(photo=photo()), "pdf")
    (image,) = _images(data)
    assert image.get_filters() == ["DCTDecode"]
    assert bytes(image.get_data(decode_simple=False)) == photo()


@pytest.mark.parametrize("size", [(295, 413), (600, 400), (200, 500)])
def test_the_photo_is_cropped_to_its_box_as_the_png_crops_it(renderer: Renderer, size: tuple[int, int]) -> None:
    """A photo of another shape than 1 inch is cut about its centre; nothing of it shows
    outside its box."""
    im = Image.new("RGB", size, (40, 90, 160))
    im.paste((230, 200, 60), (size[0] // 4, size[1] // 4, 3 * size[0] // 4, 3 * size[1] // 4))
    page = renderer.page(typical(photo=_jpeg(im)), dpi=DPI)
    mean, drawn = _photo_difference(page)
    assert mean <= PHOTO_MEAN
    x, y, _, h = page.placement("photo").box_px
    outside = drawn.convert("L").crop((x - 12, y - 12, x - 3, y + h + 12))
    assert outside.getextrema() == (255, 255)


def test_a_photo_that_is_not_a_jpeg_is_encoded_once_as_jpeg_at_its_box_size(renderer: Renderer) -> None:
    im = Image.new("RGBA", (350, 500), (0, 0, 0, 0))
    im.paste((200, 30, 30, 255), (50, 50, 300, 450))
    out = io.BytesIO()
    im.save(out, "PNG")
    page = renderer.page(typical(photo=out.getvalue()), dpi=DPI)
    (image,) = _images(page.pdf())
    assert image.get_filters() == ["DCTDecode"]
    assert image.get_px_size() == page.placement("photo").box_px[2:]
    assert _photo_difference(page)[0] <= PHOTO_MEAN  # transparency over white, as in the PNG


def test_a_photo_that_exif_turns_is_embedded_upright(renderer: Renderer) -> None:
    im = Image.new("RGB", (350, 250), (255, 255, 255))  # landscape pixels, rotated by EXIF to portrait
    im.paste((200, 30, 30), (0, 0, 175, 250))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    page = renderer.page(typical(photo=_jpeg(im, exif=exif)), dpi=DPI)
    (image,) = _images(page.pdf())
    assert image.get_px_size() == page.placement("photo").box_px[2:]  # encoded anew, turned
    mean, drawn = _photo_difference(page)
    assert mean <= PHOTO_MEAN
    x, y, w, h = page.placement("photo").box_px
    top, bottom = drawn.getpixel((x + w // 2, y + 3)), drawn.getpixel((x + w // 2, y + h - 4))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[1] < 80 and bottom[0] > 240 and bottom[1] > 240  # red above, white below, as the PNG shows


def test_an_organizations_images_are_lossless_once_each_with_soft_masks(renderer: Renderer) -> None:
    logo, seal, background = placeholder_logo(), placeholder_seal("甲机构"), placeholder_background()
    data = renderer.encode(replace(typical(), photo=None), "pdf", assets=Assets(background, logo, seal))
    images = _images(data)
    assert len(images) == 3 and all(i.get_filters() == ["FlateDecode"] for i in images)
    pixels = {i.get_px_size(): i.get_bitmap(render=False).to_pil().convert("RGB").tobytes() for i in images}
    for original in (logo, seal, background):
        with Image.open(io.BytesIO(original)) as im:
            assert pixels[im.size] == im.convert("RGBA").convert("RGB").tobytes()
    assert len(re.findall(rb"/SMask \d+ 0 R", data)) == 2  # the logo's and the seal's transparency


def test_the_seal_is_ink_over_the_organization_and_date(renderer: Renderer) -> None:
    plain = renderer.page(typical(), dpi=DPI)
    sealed = renderer.page(typical(), dpi=DPI, assets=Assets(seal=placeholder_seal("某某职业技能评价机构")))
    assert sealed.layout.seal is not None
    x, y, w, h = (round(v * DPI / 25.4) for v in sealed.layout.seal.box)
    area = (x, y, x + w, y + h)
    text = rasterize(plain.pdf(), plain.image.size, DPI).convert("L").crop(area).tobytes()
    drawn = rasterize(sealed.pdf(), sealed.image.size, DPI)
    inked = drawn.convert("L").crop(area).tobytes()
    darkest = [i for i, v in enumerate(text) if v < 60]
    assert darkest and all(inked[i] < 80 for i in darkest)  # multiplied, not painted over
    reds = [drawn.getpixel((x + w // 2, y + 1 + i)) for i in range(6)]  # the ring at the top
    assert any(isinstance(p, tuple) and p[0] > 150 and p[1] < 120 and p[2] < 120 for p in reds)
