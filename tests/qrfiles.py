"""Files ``issuer verify`` reads, made for the tests: QR code images, PDFs (drawn by the
renderer, by Pillow, or written by hand), damaged and oversized files."""

from __future__ import annotations

import dataclasses
import io
import struct
import zlib
from pathlib import Path

import segno
from PIL import Image

from issuer.render import default_renderer


def qr_image(text: str, scale: int = 4) -> Image.Image:
    buffer = io.BytesIO()
    segno.make(text, error="m", boost_error=False).save(buffer, kind="png", scale=scale, border=4)
    with Image.open(buffer) as image:
        return image.convert("L")


def qr_png(path: Path, text: str) -> Path:
    qr_image(text).save(path)
    return path


def images_pdf(path: Path, pages: list[Image.Image]) -> Path:
    """A PDF with one image per page, each page the image's size at 72 dpi."""
    pages[0].save(path, "PDF", save_all=True, append_images=pages[1:], resolution=72)
    return path


def certificate(qr_text: str, fmt: str) -> bytes:
    """The renderer's typical certificate (portrait, 150 dpi) carrying ``qr_text``."""
    from tests.render.helpers import typical

    view = dataclasses.replace(typical(), qr_text=qr_text)
    return default_renderer().encode(view, fmt, layout="portrait", dpi=150)


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width``×``height`` 1-bit pixels and holds one row: a few bytes
    that Pillow refuses to open as a decompression bomb once the claim is large enough."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = zlib.compress(b"\x00" + b"\xff" * ((width + 7) // 8))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", row) + chunk(b"IEND", b"")


def raw_pdf(objects: list[bytes], trailer: bytes = b"") -> bytes:
    """A PDF of ``objects`` (1 is the catalog) with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer, xref)
    return bytes(out)


ONE_PAGE = [
    b"<< /Type /Catalog /Pages 2 0 R >>",
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] >>",
]


def encrypted_pdf() -> bytes:
    """A one-page PDF encrypted with a user password (not the empty one)."""
    encrypt = b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P -4 >>" % (b"11" * 32, b"22" * 32)
    file_id = b"<" + b"33" * 16 + b">"
    return raw_pdf([*ONE_PAGE, encrypt], b"/Encrypt 4 0 R /ID [%s %s] " % (file_id, file_id))
