"""Phones read the largest QR code each layout accepts from photos of the printed page.

For each layout the worst certificate the service accepts (``max_qr_view``: a real signed
credential whose QR text is as long as ``max_qr_version(layout)`` holds) is drawn at 300
dpi, as printed, and photographed 24 times (seeded, so the same every run):

- ``page``: a 12 MP still (3000 × 4000) of the whole page, filling 85–95 % of the frame;
- ``close``: a 12 MP still framed on the code, which fills 30–50 % of the frame's width;
- ``preview``: the 1920 × 1080 frame a scanning app analyses, the whole page in it (the
  hardest: about 3 pixels a module at 0.6 mm; of 0.5 mm modules only about 1 in 5 read).

Every photo: rotated 5–15° either way; perspective (the corners of a frame-sized square
around the centre each moved by up to 8 % of the frame's width); the paper grey and the
ink dark grey, not white and black; Gaussian blur σ = 1 photo pixel; an uneven light (a
gradient in a random direction, the dark side at 45–70 %); Gaussian sensor noise (σ 4–8 of
255); JPEG quality 55. In grey levels: the decoder reads luminance only. zxing-cpp must
read ≥ 90 % of them per layout, and every text it reads must be the signed text and
verify offline.
"""

from __future__ import annotations

import io
import math
import os
import random
import statistics
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

import pytest
import zxingcpp
from PIL import Image, ImageChops, ImageFilter

from issuer.core.verify import verify
from issuer.render import Renderer, max_qr_version, qr_version
from issuer.render.samples import max_qr_view
from tests import factories

from .helpers import LAYOUTS, world

STILL = (3000, 4000)
PREVIEW = (1080, 1920)
FRAMINGS = ("page", "close", "preview") * 8
QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
Point = tuple[float, float]


@dataclass(frozen=True)
class Printed:
    """A page as printed (grey levels, 300 dpi) and where its QR code is (quiet zone included)."""

    image: Image.Image
    qr: tuple[int, int, int, int]
    text: str


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """``a x = b`` by Gaussian elimination with partial pivoting (8 unknowns)."""
    m = [[*row, rhs] for row, rhs in zip(a, b, strict=True)]
    n = len(b)
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(n):
            if r != col:
                factor = m[r][col] / m[col][col]
                m[r] = [x - factor * y for x, y in zip(m[r], m[col], strict=True)]
    return [m[i][n] / m[i][i] for i in range(n)]


def _perspective(photo: Sequence[Point], page: Sequence[Point]) -> list[float]:
    """Pillow's PERSPECTIVE coefficients taking each photo point to its page point."""
    a: list[list[float]] = []
    b: list[float] = []
    for (x, y), (u, v) in zip(photo, page, strict=True):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        b += [u, v]
    return _solve(a, b)


def _lut(f: Callable[[float], float]) -> list[int]:
    """A lookup table of 256 grey levels."""
    return [max(0, min(255, round(f(v)))) for v in range(256)]


def phone_photo(printed: Printed, framing: str, rng: random.Random) -> Image.Image:
    """A JPEG photo (decoded) of ``printed`` as a phone takes it; ``framing`` is ``page``,
    ``close`` or ``preview`` (see the module's docstring)."""
    page = printed.image
    portrait = page.height > page.width
    size = PREVIEW if framing == "preview" else STILL
    w, h = size if portrait else size[::-1]
    if framing == "close":
        left, top, right, bottom = printed.qr
        scale = w * rng.uniform(0.30, 0.50) / (right - left)
        cx = (left + right) / 2 + rng.uniform(-0.15, 0.15) * (right - left)
        cy = (top + bottom) / 2 + rng.uniform(-0.15, 0.15) * (bottom - top)
    else:
        scale = min(w / page.width, h / page.height) * rng.uniform(0.85, 0.95)
        cx, cy = page.width / 2, page.height / 2
    # Four page points around the centre, where the rotated, tilted camera sees them.
    angle = math.radians(rng.uniform(5, 15) * rng.choice((-1, 1)))
    half = min(w, h) / 2 / scale
    on_page = [(cx - half, cy - half), (cx + half, cy - half), (cx + half, cy + half), (cx - half, cy + half)]
    tilt = 0.08 * min(w, h)
    on_photo = []
    for u, v in on_page:
        x, y = (u - cx) * scale, (v - cy) * scale
        on_photo.append(
            (
                x * math.cos(angle) - y * math.sin(angle) + w / 2 + rng.uniform(-tilt, tilt),
                x * math.sin(angle) + y * math.cos(angle) + h / 2 + rng.uniform(-tilt, tilt),
            )
        )
    black, white = rng.uniform(20, 50), rng.uniform(185, 235)
    paper = page.point(_lut(lambda v: black + v * (white - black) / 255))
    table = round(rng.uniform(60, 120))
    shot = paper.transform(
        (w, h), Image.Transform.PERSPECTIVE, _perspective(on_photo, on_page), Image.Resampling.BILINEAR, fillcolor=table
    )
    shot = shot.filter(ImageFilter.GaussianBlur(1))
    dark = rng.uniform(0.45, 0.70)
    gradient = Image.linear_gradient("L").rotate(rng.uniform(0, 360), Image.Resampling.BILINEAR, fillcolor=255)
    light = gradient.crop((48, 48, 208, 208)).resize((w, h), Image.Resampling.BILINEAR)
    shot = ImageChops.multiply(shot, light.point(_lut(lambda v: 255 * (dark + (1 - dark) * v / 255))))
    noise = statistics.NormalDist(128, rng.uniform(4, 8))
    uniform = Image.frombytes("L", (w, h), rng.randbytes(w * h))
    shot = ImageChops.add(shot, uniform.point(_lut(lambda u: noise.inv_cdf((u + 0.5) / 256))), 1.0, -128)
    out = io.BytesIO()
    shot.save(out, "JPEG", quality=55)
    with Image.open(io.BytesIO(out.getvalue())) as im:
        im.load()
        return im


@cache
def printed(layout: str) -> Printed:
    view = max_qr_view(layout)
    page = Renderer().page(view, layout=layout)
    qr = page.placement("qr")
    assert qr.ink is not None and qr.text == view.qr_text
    return Printed(page.image.convert("L"), qr.ink, view.qr_text)


def _read(photo: Image.Image) -> list[str]:
    return [b.text for b in zxingcpp.read_barcodes(photo, formats=QR_ONLY)]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_phones_read_the_largest_code_a_layout_accepts(layout: str) -> None:
    page = printed(layout)
    assert qr_version(page.text) == max_qr_version(layout)
    verdict = verify(page.text, world().store, at=factories.NOW)
    assert verdict.valid, verdict.failed_check

    def shoot(i: int) -> list[str]:
        rng = random.Random(f"{layout}-{i}")
        return _read(phone_photo(page, FRAMINGS[i], rng))

    with ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 1))) as pool:
        found = list(pool.map(shoot, range(len(FRAMINGS))))
    read = [texts for texts in found if texts]
    for texts in read:
        assert texts == [page.text]
    for text in {t for texts in read for t in texts}:
        assert verify(text, world().store, at=factories.NOW).valid
    by_framing = {f: sum(1 for i, texts in enumerate(found) if texts and FRAMINGS[i] == f) for f in set(FRAMINGS)}
    assert len(read) >= 0.9 * len(FRAMINGS), by_framing
