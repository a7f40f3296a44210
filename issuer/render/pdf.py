"""A one-page PDF around a PNG, without compressing the image again.

A PNG's ``IDAT`` data is a zlib stream of rows, each prefixed with its PNG filter byte;
PDF's ``FlateDecode`` with ``/Predictor 15`` reads exactly that. So the PDF carries the
PNG's own bytes: lossless (Pillow's PDF writer would re-encode as JPEG, blurring the QR
code and the text), no second compression pass, and nothing in it depends on the clock —
the same PNG always gives the same PDF.
"""

from __future__ import annotations

import struct
import zlib

PT_PER_MM = 72 / 25.4
_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLORS = {0: 1, 2: 3}
"""PNG colour type → components: grey, RGB (no palette, no alpha)."""


class PngFormatError(ValueError):
    pass


def png_to_pdf(png: bytes, width_mm: float, height_mm: float, title: str | None = None) -> bytes:
    """A PDF whose single page (``width_mm`` × ``height_mm``) is the image of ``png``
    (8-bit grey or RGB, not interlaced, as Pillow writes it)."""
    width, height, colors, data = _read_png(png)
    page_w, page_h = width_mm * PT_PER_MM, height_mm * PT_PER_MM
    contents = f"q {page_w:.4f} 0 0 {page_h:.4f} 0 0 cm /Im0 Do Q".encode("ascii")
    space, procset = ("/DeviceRGB", "/ImageC") if colors == 3 else ("/DeviceGray", "/ImageB")
    image = (
        f"<< /Type /XObject /Subtype /Image /Width {width} /Height {height} /ColorSpace {space} "
        f"/BitsPerComponent 8 /Filter /FlateDecode "
        f"/DecodeParms << /Predictor 15 /Colors {colors} /BitsPerComponent 8 /Columns {width} >> "
        f"/Length {len(data)} >>"
    ).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {page_w:.4f} {page_h:.4f}] "
            f"/Resources << /XObject << /Im0 4 0 R >> /ProcSet [/PDF {procset}] >> /Contents 5 0 R >>"
        ).encode("ascii"),
        image + b"\nstream\n" + data + b"\nendstream",
        f"<< /Length {len(contents)} >>".encode("ascii") + b"\nstream\n" + contents + b"\nendstream",
        b"<< /Producer (issuer) " + (b"/Title " + _text_string(title) + b" " if title else b"") + b">>",
    ]
    return _assemble(objects)


def _text_string(text: str) -> bytes:
    """A PDF text string in UTF-16BE with a byte-order mark, as hex."""
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode("ascii") + b">"


def _assemble(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode("ascii") + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode("ascii")
    out += b"0000000000 65535 f \n"
    out += b"".join(f"{offset:010d} 00000 n \n".encode("ascii") for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {len(objects)} 0 R >>\n".encode("ascii")
    out += f"startxref\n{xref}\n%%EOF\n".encode("ascii")
    return bytes(out)


def _read_png(png: bytes) -> tuple[int, int, int, bytes]:
    """Width, height, colour components and the concatenated IDAT data."""
    if not png.startswith(_SIGNATURE):
        raise PngFormatError("not a PNG")
    pos, header, idat = len(_SIGNATURE), b"", []
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, body = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        if zlib.crc32(kind + body) != struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])[0]:
            raise PngFormatError(f"bad CRC in {kind!r}")
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"PLTE":
            raise PngFormatError("palette PNGs are not supported")
        pos += 12 + length
    width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or color_type not in _COLORS or interlace:
        raise PngFormatError("only 8-bit grey or RGB, non-interlaced PNGs are supported")
    return width, height, _COLORS[color_type], b"".join(idat)
