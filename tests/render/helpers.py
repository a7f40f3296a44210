"""Shared by the renderer tests: the factories' world, views, images."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Any

from PIL import Image

from issuer.render import CertificateView, view_for
from issuer.render.layout import layouts_dir
from issuer.render.samples import placeholder_photo
from tests import factories

LAYOUTS = ("portrait", "landscape")


@cache
def world() -> factories.World:
    return factories.world()


def typical(*, english: bool = False, photo: bytes | None = None, **changes: Any) -> CertificateView:
    """The factories' typical certificate (or one with ``changes`` to the credential)."""
    cred = factories.credential(**changes)
    return view_for(
        cred,
        qr_text=world().qr(cred),
        organization_name=factories.ORG_NAME,
        document_number=factories.ID_NUMBER,
        photo=photo,
        english=english,
    )


@cache
def photo() -> bytes:
    return placeholder_photo()


def decode(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        return im


def layout_variant(tmp_path: Path, name: str, old: str, new: str) -> Path:
    """A copy of a shipped layout with one piece of text replaced."""
    text = (layouts_dir() / f"{name}.toml").read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / f"{name}-variant.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def inside(inner: tuple[int, int, int, int], box: tuple[int, int, int, int], slack: int = 1) -> bool:
    """``inner`` (left, top, right, bottom) lies within ``box`` (x, y, width, height)."""
    x, y, w, h = box
    left, top, right, bottom = inner
    return left >= x - slack and top >= y - slack and right <= x + w + slack and bottom <= y + h + slack


def rasterize(pdf: bytes, size: tuple[int, int], dpi: int, index: int = 0) -> Image.Image:
    """PDFium's rendering of the PDF's first page (or page ``index``) at ``dpi``, ``size``
    pixels from its top-left corner: rendered through an explicit matrix, so that a page (A4
    in points) that is not a whole number of pixels is scaled exactly by ``dpi / 72``, not
    stretched to whole pixels."""
    import ctypes

    import pypdfium2
    import pypdfium2.raw as pdfium_c

    document = pypdfium2.PdfDocument(pdf)
    page = document[index]
    bitmap = pypdfium2.PdfBitmap.new_native(size[0], size[1], pdfium_c.FPDFBitmap_BGR)
    bitmap.fill_rect((255, 255, 255, 255), 0, 0, size[0], size[1])
    scale = dpi / 72
    matrix = pdfium_c.FS_MATRIX(scale, 0, 0, scale, 0, 0)
    clip = pdfium_c.FS_RECTF(0, 0, size[0], size[1])
    pdfium_c.FPDF_RenderPageBitmapWithMatrix(bitmap.raw, page.raw, ctypes.byref(matrix), ctypes.byref(clip), 0)
    return bitmap.to_pil().convert("RGB")


def pdf_text(pdf: bytes, index: int = 0) -> str:
    """The text PDFium extracts from the PDF's first page (or page ``index``; lines end with
    CR LF)."""
    import pypdfium2

    return str(pypdfium2.PdfDocument(pdf)[index].get_textpage().get_text_range())


TRUETYPE_UNITS = 2048


def truetype_font(path: Path, chars: str, family: str = "Test FangSong") -> Path:
    """A TrueType (``glyf``) font of ``chars``, their outlines taken from the system serif
    face and made quadratic, at 2048 units an em: what a configured FangSong file is like."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.transformPen import TransformPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    from issuer.render import FontSet
    from issuer.render.outlines import outlines

    face = FontSet.system().face("serif")
    source = outlines(face)
    scale = TRUETYPE_UNITS / 1000
    glyphs, advances, cmap = {".notdef": TTGlyphPen(None).glyph()}, {".notdef": TRUETYPE_UNITS // 2}, {}
    for ch in dict.fromkeys(chars):
        name, pen = f"u{ord(ch):04X}", TTGlyphPen(None)
        quadratic = Cu2QuPen(pen, max_err=1.0, reverse_direction=True)
        source.draw(face.glyph_id(ch), TransformPen(quadratic, (scale, 0, 0, scale, 0, 0)))
        glyphs[name], cmap[ord(ch)] = pen.glyph(), name
        advances[name] = round(source.advance(face.glyph_id(ch)) * scale)
    ascent, descent = round(0.88 * TRUETYPE_UNITS), round(-0.12 * TRUETYPE_UNITS)
    builder = FontBuilder(TRUETYPE_UNITS, isTTF=True)
    builder.setupGlyphOrder(list(glyphs))
    builder.setupCharacterMap(cmap)
    builder.setupGlyf(glyphs)
    table = builder.font["glyf"]
    for name in glyphs:
        table[name].recalcBounds(table)
    builder.setupHorizontalMetrics({name: (advances[name], getattr(table[name], "xMin", 0)) for name in glyphs})
    builder.setupHorizontalHeader(ascent=ascent, descent=descent)
    ps_name = family.replace(" ", "") + "-Regular"
    builder.setupNameTable({"familyName": family, "styleName": "Regular", "fullName": family, "psName": ps_name})
    builder.setupOS2(sTypoAscender=ascent, sTypoDescender=descent, usWinAscent=ascent, usWinDescent=-descent)
    builder.setupPost()
    builder.save(str(path))
    return path
