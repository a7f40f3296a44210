"""A preview of a certificate before it is issued: the page at preview resolution, marked
across in red as a sample (样张 · 未签发) so that a printed preview is never mistaken for a
certificate; its QR code holds no credential (a scan says "not valid")."""

from __future__ import annotations

import io
import math

from PIL import Image, ImageDraw

from issuer.core import qrtext

from .fonts import FontSet

PREVIEW_QR_PATH = "PREVIEW"
"""What follows ``/V/`` in a preview's QR code: not base32 of a credential."""
MARK = "样张 · 未签发 · SAMPLE"
_RED = (200, 22, 29, 110)


def preview_qr_text(host: str) -> str:
    """The text of a preview's QR code: a certificate's URL (``qrtext.encode``) whose path
    holds no credential, so that a phone scanning it is told the certificate is not valid."""
    scheme, bare = qrtext.split_scheme(host)
    return f"{scheme}://{qrtext.check_host(bare)}{qrtext.PATH}{PREVIEW_QR_PATH}"


def mark_sample(png: bytes, fonts: FontSet | None = None) -> bytes:
    """``png`` with ``MARK`` written three times across its diagonal, half transparent."""
    page = Image.open(io.BytesIO(png)).convert("RGBA")
    width, height = page.size
    font = (fonts or FontSet.system()).face("sans-bold").font(width / 14)
    layer = Image.new("RGBA", (width * 2, height // 5), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    text_width = draw.textlength(MARK, font=font)
    draw.text(((layer.width - text_width) / 2, layer.height / 6), MARK, font=font, fill=_RED)
    band = layer.rotate(math.degrees(math.atan2(height, width)), expand=True, resample=Image.Resampling.BICUBIC)
    for share in (0.25, 0.5, 0.75):
        x = int(width / 2 - band.width / 2)
        y = int(height * share - band.height / 2)
        page.alpha_composite(band, (max(x, 0), max(y, 0)), (max(-x, 0), max(-y, 0)))
    out = io.BytesIO()
    page.convert("RGB").save(out, "PNG", optimize=False, compress_level=3)
    return out.getvalue()
