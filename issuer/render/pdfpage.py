"""The certificate as a vector PDF page: the same composition the PNG draws (``compose.py``),
written as PDF content.

Coordinates are the PNG's: the page's content starts by scaling one unit to one pixel at the
page's resolution, y downwards, so that every position is the one ``fit.py`` gave the PNG.
Text is PDF text in fonts that embed the page's glyphs (``pdffonts.py``): each run starts
on the whole pixel where Pillow puts it, and each glyph advances as far as Pillow advanced
it (whole pixels, FreeType's hinted advances), adjusted in the ``TJ`` array where the
glyph's own advance differs; tracked text (the title) says its tracking once (``Tc``), so
that text extraction reads it as one word. The frame, the photo frame and the QR code are
filled rectangles; the QR code's dark modules are merged into as few rectangles as the
rows allow, filled as one path.

The page's content is two streams: the static layer's (background, frame, logo, seal,
labels, title, body text, organization name, lookup lines, photo frame), compressed once
per layer and kept with the organization's images, encoded (``PdfLayer``); and this
certificate's (values, photo, QR code).

The seal is ink, as in the PNG: it multiplies what is under it (``/BM /Multiply``). The PNG
multiplies it over everything drawn; here it is drawn before the text, which is printed
over it. For dark text on red the eye sees no difference, and PDFium, which draws what
lies under a multiplied image a pixel off, leaves the text where it belongs.
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from PIL import ImageColor

from .compose import Composition, QrCode, StaticPlan, int_box, px, px_box
from .fit import Fitted, Run
from .fonts import FontFace
from .images import contain_box, fill_crop
from .layout import Layout
from .pdf import Writer, flate_stream, num, nums, text_string
from .pdffonts import FontCodes, Glyphs, write_fonts
from .pdfimages import PdfImage, background_image, emblem_image, photo_image
from .view import TITLE, Assets

PT_PER_IN = 72
PHOTO_FRAME_MM = 0.2
CACHED_ADVANCES = 50_000


class Advances:
    """Pillow's advance of each character at each size: whole pixels, as hinted by
    FreeType, which is where the PNG puts the next character (kept per face and size)."""

    def __init__(self, capacity: int = CACHED_ADVANCES) -> None:
        self._capacity = capacity
        self._widths: dict[tuple[FontFace, float, str], float] = {}
        self._lock = threading.Lock()

    def __call__(self, fitted: Fitted, char: str) -> float:
        key = (fitted.face, fitted.px, char)
        width = self._widths.get(key)
        if width is None:
            width = float(fitted.font.getlength(char))
            with self._lock:
                if len(self._widths) >= self._capacity:
                    self._widths.clear()
                self._widths[key] = width
        return width


@dataclass(frozen=True, eq=False)
class PdfLayer:
    """A static layer as PDF: its content stream (compressed), the font codes its text
    uses, the organization's images by resource name, and the graphics states they use."""

    content: bytes
    codes: FontCodes
    images: dict[str, PdfImage]
    states: str
    """The ``/ExtGState`` resource entry, or nothing."""

    @property
    def size(self) -> int:
        """Bytes held (for the cache's budget)."""
        return len(self.content) + sum(image.size for image in self.images.values())


def build_layer(
    plan: StaticPlan,
    spec: Layout,
    assets: Assets,
    dpi: int,
    glyphs: Glyphs,
    advances: Advances,
    codes: FontCodes | None = None,
) -> PdfLayer:
    """The static layer of ``plan`` with ``assets`` as PDF content, drawn in the PNG's order;
    its text in ``codes`` when given (a document whose pages share their fonts), else in
    codes of its own."""
    codes = FontCodes() if codes is None else codes
    out = _Content(codes, glyphs, advances)
    out.begin(spec, dpi)
    width, height = px(spec.width, dpi), px(spec.height, dpi)
    images: dict[str, PdfImage] = {}
    states = ""
    if assets.background is not None:
        images["Bg"] = background = background_image(assets.background)
        left, top, right, bottom = fill_crop((background.width, background.height), (width, height))
        sx, sy = width / (right - left), height / (bottom - top)
        out.image("Bg", (-left * sx, -top * sy, background.width * sx, background.height * sy))
    for line in spec.frame:
        inset, line_width = px(line.inset, dpi), max(1, px(line.width, dpi))
        out.frame((inset, inset, width - 2 * inset, height - 2 * inset), line_width, spec.frame_color)
    if spec.logo is not None and assets.logo is not None:
        images["Logo"] = logo = emblem_image(assets.logo, "logo", "标志")
        out.image("Logo", contain_box((logo.width, logo.height), int_box(px_box(spec.logo, dpi))))
    if spec.seal is not None and assets.seal is not None:
        images["Seal"] = seal = emblem_image(assets.seal, "seal", "印章")
        out.image("Seal", contain_box((seal.width, seal.height), int_box(px_box(spec.seal.box, dpi))), state="Seal")
        states = f"/ExtGState<</Seal<</BM/Multiply/ca {num(spec.seal.opacity)}>>>>"
    for f in spec.fields:
        out.texts(plan.labels.get(f.key, ()))
        if f.key == "photo":
            frame = max(1, px(PHOTO_FRAME_MM, dpi))
            x, y, w, h = int_box(px_box(f.box, dpi))
            out.frame((x - frame, y - frame, w + 2 * frame, h + 2 * frame), 1, spec.photo_frame_color)
        out.texts(plan.texts.get(f.key, ()))
    out.end()
    return PdfLayer(flate_stream(out.bytes()), codes, images, states)


def write_page(comp: Composition, layer: PdfLayer, glyphs: Glyphs, advances: Advances) -> bytes:
    """The certificate as a one-page PDF of the layout's size."""
    codes = layer.codes.copy()
    content, photo = certificate_content(comp, codes, glyphs, advances)
    images = dict(layer.images)
    if photo is not None:
        images["Photo"] = photo

    writer = Writer()
    catalog, pages, page = writer.reserve(), writer.reserve(), writer.reserve()
    contents = [writer.add(layer.content), writer.add(flate_stream(content))]
    xobjects = {name: image.write(writer) for name, image in images.items()}
    fonts = write_fonts(writer, codes, glyphs).decode("ascii")
    writer.put(catalog, b"<</Type/Catalog/Pages %d 0 R>>" % pages)
    writer.put(pages, b"<</Type/Pages/Kids[%d 0 R]/Count 1>>" % page)
    writer.put(page, page_object(comp.layout, pages, contents, fonts, xobjects, layer.states))
    info = writer.add(b"<</Producer(issuer)/Title" + text_string(f"{TITLE} {comp.number}") + b">>")
    return writer.finish(catalog, info)


def certificate_content(
    comp: Composition, codes: FontCodes, glyphs: Glyphs, advances: Advances
) -> tuple[bytes, PdfImage | None]:
    """This certificate's content stream (uncompressed: its values, photo and QR code, its
    text in ``codes``), and the photo's image, which it draws as ``/Photo``."""
    out = _Content(codes, glyphs, advances)
    out.begin(comp.layout, comp.dpi)
    for texts in comp.values.values():
        out.texts(texts)
    image = None
    if comp.photo is not None:
        photo = photo_image(comp.photo)
        image = photo.image
        out.image("Photo", photo.rect, clip=comp.photo.box)
    out.qr(comp.qr)
    out.end()
    return out.bytes(), image


def page_object(
    spec: Layout, parent: int, contents: Sequence[int], fonts: str, xobjects: Mapping[str, int], states: str
) -> bytes:
    """A ``/Page`` of the layout's size: its content streams, fonts (a ``/Font``
    dictionary), images (resource name → object number) and graphics states."""
    width_pt, height_pt = spec.width * PT_PER_IN / 25.4, spec.height * PT_PER_IN / 25.4
    images = "".join(f"/{name} {number} 0 R" for name, number in xobjects.items())
    return (
        f"<</Type/Page/Parent {parent} 0 R/MediaBox[0 0 {nums(width_pt, height_pt)}]"
        f"/Resources<</Font{fonts}/XObject<<{images}>>{states}>>"
        f"/Contents[{' '.join(f'{c} 0 R' for c in contents)}]>>"
    ).encode("ascii")


class _Content:
    """Content stream operators, in page pixels (y down) once ``begin`` has run."""

    def __init__(self, codes: FontCodes, glyphs: Glyphs, advances: Advances) -> None:
        self._ops: list[str] = []
        self._codes = codes
        self._glyphs = glyphs
        self._advance = advances

    def bytes(self) -> bytes:
        return "\n".join(self._ops).encode("ascii")

    def begin(self, spec: Layout, dpi: int) -> None:
        scale = PT_PER_IN / dpi
        self._ops.append(f"q {nums(scale, 0, 0, -scale, 0, spec.height * PT_PER_IN / 25.4)} cm")

    def end(self) -> None:
        self._ops.append("Q")

    def frame(self, rect: tuple[float, float, float, float], width: float, color: str) -> None:
        """A rectangle's outline, ``width`` pixels wide, inside ``rect`` (as Pillow draws
        an outline): the ring between two rectangles, filled even-odd."""
        x, y, w, h = rect
        inner = nums(x + width, y + width, w - 2 * width, h - 2 * width)
        self._ops.append(f"{_rgb(color)} rg {nums(x, y, w, h)} re {inner} re f*")

    def image(
        self, name: str, rect: Sequence[float], *, clip: Sequence[float] | None = None, state: str | None = None
    ) -> None:
        """Draw image ``name`` into ``rect`` (x, y, width, height), top row at the top."""
        x, y, w, h = rect
        ops = ["q"]
        if state is not None:
            ops.append(f"/{state} gs")
        if clip is not None:
            ops.append(f"{nums(*clip)} re W n")
        ops.append(f"{nums(w, 0, 0, -h, x, y + h)} cm /{name} Do Q")
        self._ops.append(" ".join(ops))

    def texts(self, texts: Iterable[Fitted]) -> None:
        for fitted in texts:
            self._text(fitted)

    def _text(self, fitted: Fitted) -> None:
        """One fitted text: a line of runs is one ``TJ``, each gap between runs and each
        difference between Pillow's advance and the glyph's own an adjustment before the
        next glyph (so never two numbers in a row)."""
        face, size = fitted.face, fitted.px
        ops = [f"BT {_rgb(fitted.color)} rg /{self._codes.font(face)} {num(size)} Tf"]
        if fitted.tracking:
            ops.append(f"{num(fitted.tracking)} Tc")
        for line in _lines(fitted.runs):
            items: list[str] = []
            pending = 0.0
            left, baseline = _origin(line[0])
            ops.append(f"1 0 0 -1 {left} {baseline} Tm")
            pen: float = left
            for run in line:
                x = _origin(run)[0]
                pending += x - pen
                pen = x
                for ch in run.text:
                    code = self._codes.code(face, ch)
                    if abs(pending) > 0.0005:
                        items.append(num(-pending * 1000 / size))
                    items.append(f"<{code:04X}>")
                    natural = self._glyphs.get(face, face.glyph_id(ch)).advance * size / 1000 + fitted.tracking
                    target = self._advance(fitted, ch)
                    pending = target - natural
                    pen += target
            ops.append(f"[{''.join(items)}]TJ")
        ops.append("0 Tc ET" if fitted.tracking else "ET")  # Tc outlives ET: it is graphics state
        self._ops.append(" ".join(ops))

    def qr(self, qr: QrCode) -> None:
        """The quiet zone and light modules white (as the PNG pastes them, over any
        background), the dark modules black, in module units."""
        size = qr.modules * qr.module_px
        origin = (qr.x + qr.quiet_zone * qr.module_px, qr.y + qr.quiet_zone * qr.module_px)
        rects = " ".join(f"{x} {y} {w} {h} re" for x, y, w, h in dark_rectangles(qr.matrix, qr.side))
        self._ops.append(
            f"q 1 g {qr.x} {qr.y} {size} {size} re f "
            f"{qr.module_px} 0 0 {qr.module_px} {origin[0]} {origin[1]} cm 0 g {rects} f Q"
        )


def _origin(run: Run) -> tuple[int, int]:
    """Where the PNG's first glyph of ``run`` stands. Pillow renders glyphs at whole pixels:
    it takes the fraction of a coordinate to FreeType's 1/64 of a pixel (rounding half up),
    then rounds x half up and y half down to the pixel (measured with Pillow 13; the raster
    comparison in tests/render/test_pdfpage.py would see a change)."""
    x, y = int(run.x), int(run.y)
    x64 = math.floor((run.x - x) * 64 + 0.5)
    y64 = math.floor((run.y - y) * 64 + 0.5)
    return x + ((x64 + 32) >> 6), y + ((y64 + 31) >> 6)


def _lines(runs: Sequence[Run]) -> list[list[Run]]:
    """Runs grouped by baseline, in order."""
    lines: list[list[Run]] = []
    for run in runs:
        if lines and lines[-1][-1].y == run.y:
            lines[-1].append(run)
        else:
            lines.append([run])
    return lines


def _rgb(color: str) -> str:
    r, g, b = ImageColor.getrgb(color)[:3]
    return nums(r / 255, g / 255, b / 255)


def dark_rectangles(matrix: bytes, side: int) -> list[tuple[int, int, int, int]]:
    """The dark modules (0) of a ``side`` × ``side`` symbol as rectangles (column, row,
    width, height): runs along each row, a run continued downwards while the rows below
    have the same run."""
    done: list[tuple[int, int, int, int]] = []
    growing: dict[tuple[int, int], int] = {}
    """(first column, width) → first row, for runs still growing downwards."""
    for row in range(side + 1):
        at = row * side
        found = _DARK.finditer(matrix, at, at + side) if row < side else ()
        runs = {(m.start() - at, m.end() - m.start()) for m in found}
        for run in [r for r in growing if r not in runs]:
            start = growing.pop(run)
            done.append((run[0], start, run[1], row - start))
        for run in runs:
            growing.setdefault(run, row)
    return sorted(done, key=lambda r: (r[1], r[0]))


_DARK = re.compile(rb"\x00+")


class PdfLayers:
    """Static layers as PDF, kept within a byte budget (least recently used out)."""

    def __init__(self, capacity_bytes: int) -> None:
        self._capacity = capacity_bytes
        self._layers: OrderedDict[object, PdfLayer] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: object) -> PdfLayer | None:
        with self._lock:
            found = self._layers.get(key)
            if found is not None:
                self._layers.move_to_end(key)
            return found

    def put(self, key: object, layer: PdfLayer) -> None:
        with self._lock:
            self._layers[key] = layer
            while self._layers and sum(layer.size for layer in self._layers.values()) > self._capacity:
                self._layers.popitem(last=False)
