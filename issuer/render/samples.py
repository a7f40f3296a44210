"""``python -m issuer.render.samples docs/samples``: render each layout for the test
factories' typical certificate (and one with the longest values and an organization's
images, and the largest QR code the layout accepts) at preview resolution, to look at and
to keep in the documentation.

The placeholder photo, logo, seal and background drawn here are obviously fake (the seal
reads 样本, "sample"); the tests use them as an organization's assets.
"""

from __future__ import annotations

import argparse
import io
import math
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw

from .fonts import FontSet
from .layout import layout_names
from .renderer import Renderer
from .view import Assets, CertificateView, body_text_zh, view_for

if TYPE_CHECKING:
    from issuer.core.credential import Credential

PREVIEW_DPI = 150
SEAL_RED = (200, 22, 29)
LONG_NAME = "阿卜杜热合曼·买买提艾力·阿不都热依木江"
LONG_WORK_TYPE = "城市轨道交通电动列车司机及车辆检修调试员"
LONG_ORGANIZATION = "新疆维吾尔自治区乌鲁木齐市某某区职业技能培训与评价服务中心有限责任公司第一分公司"
MAX_NAME_POOL = LONG_NAME + "·艾合买提·吐尔逊·热合曼·阿不力孜·买合木提·阿布拉·库尔班·艾则孜"
MAX_WORK_TYPE_POOL = "高速动车组城际铁路车辆电气系统方向及网络控制与牵引供电系统方向"
"""Where ``max_qr_view`` takes its holder name (a prefix) and work type from (``LONG_WORK_TYPE``
and a prefix of this in brackets)."""
SEAL_TEXT = "某某职业技能评价机构"


def placeholder_photo(size: tuple[int, int] = (295, 413)) -> bytes:
    """A 1-inch photo stand-in: a grey silhouette on white, as JPEG."""
    w, h = size
    im = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(im)
    tone = (150, 160, 172)
    draw.ellipse((w * 0.30, h * 0.16, w * 0.70, h * 0.56), fill=tone)
    draw.ellipse((w * 0.08, h * 0.60, w * 0.92, h * 1.25), fill=tone)
    draw.rectangle((w * 0.42, h * 0.50, w * 0.58, h * 0.66), fill=tone)
    out = io.BytesIO()
    im.save(out, "JPEG", quality=90)
    return out.getvalue()


def placeholder_seal(text: str, bottom: str = "样本", size: int = 500, fonts: FontSet | None = None) -> bytes:
    """A round red seal (PNG with transparency): ``text`` along the upper arc, a star,
    ``bottom`` across the lower half."""
    fonts = fonts or FontSet.system()
    im = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(im)
    ring = size * 0.035
    draw.ellipse((ring / 2, ring / 2, size - ring / 2, size - ring / 2), outline=SEAL_RED, width=round(ring))
    _star(draw, size / 2, size / 2, size * 0.15)
    _arc_text(im, text, fonts, size)
    font = fonts.face("sans-bold").font(size * 0.085)
    draw.text((size / 2, size * 0.78), bottom, font=font, fill=SEAL_RED, anchor="mm")
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def _star(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float) -> None:
    points = []
    for i in range(10):
        radius = r if i % 2 == 0 else r * 0.382
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    draw.polygon(points, fill=SEAL_RED)


def _arc_text(im: Image.Image, text: str, fonts: FontSet, size: int) -> None:
    """Each character upright to the centre, spread over 240° of the upper arc."""
    font = fonts.face("sans-bold").font(size * 0.105)
    radius, span = size * 0.36, math.radians(240)
    for i, ch in enumerate(text):
        angle = -math.pi / 2 - span / 2 + span * (i + 0.5) / len(text)
        tile = Image.new("RGBA", (round(size * 0.14),) * 2, (0, 0, 0, 0))
        ImageDraw.Draw(tile).text((tile.width / 2, tile.height / 2), ch, font=font, fill=SEAL_RED, anchor="mm")
        tile = tile.rotate(-math.degrees(angle) - 90, resample=Image.Resampling.BICUBIC)
        x = size / 2 + radius * math.cos(angle) - tile.width / 2
        y = size / 2 + radius * math.sin(angle) - tile.height / 2
        im.alpha_composite(tile, (round(x), round(y)))


def placeholder_logo(size: int = 300, fonts: FontSet | None = None) -> bytes:
    """A round emblem with 技 (PNG with transparency)."""
    fonts = fonts or FontSet.system()
    im = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(im)
    blue = (22, 84, 140)
    draw.ellipse((4, 4, size - 4, size - 4), outline=blue, width=round(size * 0.05))
    draw.ellipse((size * 0.14, size * 0.14, size * 0.86, size * 0.86), fill=blue)
    font = fonts.face("serif-bold").font(size * 0.42)
    draw.text((size / 2, size / 2), "技", font=font, fill="white", anchor="mm")
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def placeholder_background(size: tuple[int, int] = (1240, 1754)) -> bytes:
    """Cream paper with faint wavy security lines (PNG)."""
    w, h = size
    im = Image.new("RGB", size, (252, 249, 240))
    draw = ImageDraw.Draw(im)
    for row in range(-20, h + 20, 14):
        points = [(x, row + 6 * math.sin(x / 37 + row / 90)) for x in range(0, w + 8, 8)]
        draw.line(points, fill=(238, 230, 210), width=1)
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def sample_assets(fonts: FontSet | None = None) -> Assets:
    return Assets(
        background=placeholder_background(),
        logo=placeholder_logo(fonts=fonts),
        seal=placeholder_seal(SEAL_TEXT, fonts=fonts),
    )


def typical_view(*, english: bool = False) -> CertificateView:
    """The test factories' typical certificate, with a placeholder photo."""
    from tests import factories  # the samples are made from the test data; not part of the package

    world = factories.world()
    cred = factories.credential()
    return view_for(
        cred,
        qr_text=world.qr(cred),
        organization_name=factories.ORG_NAME,
        document_number=factories.ID_NUMBER,
        photo=placeholder_photo(),
        english=english,
    )


def long_view(*, english: bool = False) -> CertificateView:
    """The longest realistic values: a 20-character name, the longest occupation name
    of the catalogue, a 20-character work type and a 40-character organization name."""
    from issuer.core.catalogue import default_catalogue
    from tests import factories

    catalogue = default_catalogue()
    occupation = max(catalogue.occupations.values(), key=lambda o: (len(o.name), o.code))
    world = factories.world()
    cred = factories.credential(name=LONG_NAME, work_type=LONG_WORK_TYPE, level=1, number="Y000123000001261999999")
    view = view_for(
        cred,
        qr_text=world.qr(cred),
        organization_name=LONG_ORGANIZATION,
        document_number=factories.ID_NUMBER,
        photo=placeholder_photo(),
        english=english,
        provincial_lookup="http://hrss.xinjiang.gov.cn/zscx",
        print_serial="XJ2026-0012345",
    )
    return replace(view, occupation_name=occupation.name, body_text=body_text_zh(LONG_ORGANIZATION))


def max_qr_view(layout: str = "portrait", *, english: bool | None = None) -> CertificateView:
    """The worst certificate ``layout`` accepts: ``long_view``'s values, but a holder name
    and a work type (prefixes of ``MAX_NAME_POOL`` and ``MAX_WORK_TYPE_POOL``) so long
    that the signed QR text is as long as ``max_qr_version(layout)`` holds at error
    correction M, within a character or two (a Chinese character is 4.8 base32 characters)."""
    from issuer.core.catalogue import default_catalogue
    from tests import factories

    from .layout import load_layout
    from .qr import alphanumeric_capacity, max_qr_version

    spec = load_layout(layout)
    capacity = alphanumeric_capacity(max_qr_version(spec))
    world = factories.world()

    base = factories.credential(name=LONG_NAME, work_type=LONG_WORK_TYPE, level=1, number="Y000123000001261999999")

    def credential(name: str, work_type: str) -> Credential:
        return replace(base, holder_name=name, work_type=work_type)

    def work_type(b: int) -> str:
        return f"{LONG_WORK_TYPE}（{MAX_WORK_TYPE_POOL[:b]}）" if b else LONG_WORK_TYPE

    best: tuple[int, int, str, str] | None = None
    b = len(MAX_WORK_TYPE_POOL)  # the longest work type that fits with the name so far: only shrinks
    for a in range(len(LONG_NAME), len(MAX_NAME_POOL) + 1):
        name = MAX_NAME_POOL[:a]
        while b >= 0 and len(world.qr(credential(name, work_type(b)))) > capacity:
            b -= 1
        if b < 0:
            break
        if name.endswith("·"):
            continue
        rank = (len(world.qr(credential(name, work_type(b)))), -abs(a - b - len(LONG_WORK_TYPE)))
        if best is None or rank > best[:2]:
            best = (*rank, name, work_type(b))
    if best is None:
        raise ValueError(f"layout {layout} holds less than long_view's QR text")
    cred = credential(best[2], best[3])
    occupation = max(default_catalogue().occupations.values(), key=lambda o: (len(o.name), o.code))
    view = view_for(
        cred,
        qr_text=world.qr(cred),
        organization_name=LONG_ORGANIZATION,
        document_number=factories.ID_NUMBER,
        photo=placeholder_photo(),
        english=spec.english if english is None else english,
        provincial_lookup="http://hrss.xinjiang.gov.cn/zscx",
        print_serial="XJ2026-0012345",
    )
    return replace(view, occupation_name=occupation.name, body_text=body_text_zh(LONG_ORGANIZATION))


def write_samples(folder: Path, dpi: int = PREVIEW_DPI) -> list[Path]:
    renderer = Renderer()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in layout_names():
        english = renderer._layout(name).english
        jobs = {
            f"{name}.png": (typical_view(english=english), None),
            f"{name}-long-with-assets.png": (long_view(english=english), sample_assets()),
            f"{name}-max-qr.png": (max_qr_view(name), None),
        }
        for file_name, (view, assets) in jobs.items():
            path = folder / file_name
            path.write_bytes(renderer.encode(view, layout=name, assets=assets, dpi=dpi))
            written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m issuer.render.samples", description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--dpi", type=int, default=PREVIEW_DPI)
    args = parser.parse_args(argv)
    for path in write_samples(args.folder, args.dpi):
        print(f"{path} ({path.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
