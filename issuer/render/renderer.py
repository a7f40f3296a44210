"""Drawing a certificate: a cached static layer (background, frame, logo, labels, title,
lookup lines), then per certificate the values, the photo, the QR code and the seal.

``Renderer`` holds the caches; one per process is enough (``default_renderer()``). Its
caches are guarded for threads, but Pillow's fonts are not meant to be shared between
threads drawing at once: render in worker processes, as the service design does.
"""

from __future__ import annotations

import io
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import zxingcpp
from PIL import Image, ImageChops, ImageDraw, ImageOps, UnidentifiedImageError
from PIL import _imaging as pillow_core

from .errors import InvalidImage, LayoutError, QrDoesNotFit, RenderError
from .fit import Fitted, PxBox, fit
from .fonts import FontSet
from .layout import OPTIONAL, REQUIRED, Box, Field, Layout, Style, load_layout
from .pdf import png_to_pdf
from .png import BAND_ROWS, Band, band_count, compress_bands
from .png import encode as encode_png
from .qr import DEFAULT_DPI, QR_ERROR, check_dpi, check_qr_text, module_px, qr_version, symbol_modules
from .view import FIELD_NAMES, NO_ASSETS, TITLE, Assets, CertificateView

PNG_COMPRESS_LEVEL = 3
"""zlib level of the rows each certificate draws on (the PNG's, and so the PDF's, image):
as fast as 1, 15% smaller; 6 is 25% smaller again but takes twice as long
(``python -m bench render``)."""
STATIC_PNG_LEVEL = 6
"""zlib level of the rows no certificate value touches: compressed once per cached static
layer, so it costs nothing per certificate; about 50 KiB less a page than level 3. Level 9
saves 1% more and takes twice as long. A renderer that caches no layer compresses them at
its own level, as it does every page."""
STATIC_KEYS = (
    "title",
    "body_text",
    "organization_name",
    "certificate_lookup",
    "organization_lookup",
    "provincial_lookup",
)
"""Fields whose text is the same on every certificate of an organization: drawn once into
the static layer, which is cached per (layout, assets, dpi, these texts). A body text that
named the holder would still be drawn right, but would rebuild the layer every time."""
STATIC_CACHE_BYTES = 160 * 2**20
"""Memory for cached static layers: six A4 pages at 300 dpi (26 MB each)."""
PILLOW_BLOCKS = 4
"""Freed image memory blocks (16 MiB each) Pillow keeps for reuse. Pillow keeps none by
default, so every page-sized image is fresh memory from the system, and faulting it in
costs more than copying the static layer into it (``python -m bench render``)."""
IntBox = tuple[int, int, int, int]


@dataclass(frozen=True)
class Placement:
    """What was drawn for one field, where, and how it was fitted (for checks and tests)."""

    key: str
    box_mm: Box
    box_px: IntBox
    label: str | None = None
    label_en: str | None = None
    text: str | None = None
    text_en: str | None = None
    size: float | None = None
    """Points of the Chinese value text."""
    lines: tuple[str, ...] = ()
    ink: IntBox | None = None
    """Pixel bounds of what was drawn for the value (text, photo or QR code)."""
    label_ink: IntBox | None = None
    label_box_px: IntBox | None = None
    modules: int | None = None
    """QR code: modules across, quiet zone included."""
    module_mm: float | None = None


@dataclass(frozen=True, eq=False)
class Page:
    """A drawn certificate."""

    image: Image.Image
    layout: Layout
    dpi: int
    placements: tuple[Placement, ...]
    number: str
    static: _Static | None = field(default=None, repr=False)
    """The static layer the page was drawn on, whose compressed rows the PNG reuses."""
    dirty: frozenset[int] = frozenset()
    """The PNG bands (``BAND_ROWS`` rows each) that drawing the values touched."""

    def placement(self, key: str) -> Placement:
        return next(p for p in self.placements if p.key == key)

    def png(self, compress_level: int = PNG_COMPRESS_LEVEL) -> bytes:
        """The page as PNG: the rows drawing this certificate touched compressed at
        ``compress_level``, the others taken from the static layer's cache (compressed at
        ``STATIC_PNG_LEVEL`` when the renderer caches layers). Draw nothing more on ``image`` before calling this (or
        encode it with ``png.encode`` yourself)."""
        reuse = {}
        if self.static is not None:
            clean = [i for i in range(band_count(self.image.height)) if i not in self.dirty]
            reuse = self.static.bands(clean)
        return encode_png(self.image, self.dpi, compress_level, reuse)

    def pdf(self, compress_level: int = PNG_COMPRESS_LEVEL, *, encoded: bytes | None = None) -> bytes:
        """One A4 page (the layout's size) carrying the PNG image losslessly; pass ``encoded``
        when the page was encoded as PNG already (the expensive part)."""
        data = self.png(compress_level) if encoded is None else encoded
        return png_to_pdf(data, self.layout.width, self.layout.height, f"{TITLE} {self.number}")


@dataclass(frozen=True)
class _Part:
    text: str
    style: Style
    field: str
    suffix: str = ""


@dataclass(frozen=True)
class _Seal:
    rgb: Image.Image
    alpha: Image.Image
    at: tuple[int, int]


@dataclass(eq=False)
class _Static:
    """The cached layer: an image never drawn on after it is built, the placements of its
    labels and fixed texts, the prepared seal, and its PNG bands, compressed at ``level``."""

    image: Image.Image
    level: int
    smallest: bool
    """Compress each band both ways and keep the smaller: for a layer that is cached."""
    placements: dict[str, Placement] = field(default_factory=dict)
    seal: _Seal | None = None
    _bands: dict[int, Band] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def bands(self, wanted: Sequence[int]) -> dict[int, Band]:
        """The compressed bands ``wanted`` of the layer (each compressed once, when first wanted)."""
        with self._lock:
            missing = [i for i in wanted if i not in self._bands]
            self._bands.update(compress_bands(self.image, self.level, missing, smallest=self.smallest))
            return {i: self._bands[i] for i in wanted}


@contextmanager
def _stage(profile: dict[str, float] | None, name: str) -> Iterator[None]:
    if profile is None:
        yield
        return
    started = time.perf_counter()
    try:
        yield
    finally:
        profile[name] = profile.get(name, 0.0) + time.perf_counter() - started


class Renderer:
    def __init__(
        self,
        fonts: FontSet | None = None,
        *,
        static_cache_bytes: int = STATIC_CACHE_BYTES,
        png_compress_level: int = PNG_COMPRESS_LEVEL,
        pillow_blocks: int = PILLOW_BLOCKS,
    ) -> None:
        """``pillow_blocks``: raise Pillow's process-wide count of reusable memory blocks
        to at least this (``PILLOW_BLOCKS_MAX``); 0 leaves Pillow's setting alone."""
        if pillow_core.get_blocks_max() < pillow_blocks:
            pillow_core.set_blocks_max(pillow_blocks)
        self._fonts = fonts
        self._static: OrderedDict[tuple[Any, ...], _Static] = OrderedDict()
        self._static_max = static_cache_bytes
        self._fits: set[tuple[Any, ...]] = set()
        """Fields known to fit: labels, an organization's own texts and most values
        (occupation, level, dates) repeat from one certificate to the next."""
        self._lock = threading.Lock()
        self.png_compress_level = png_compress_level

    @property
    def fonts(self) -> FontSet:
        if self._fonts is None:
            self._fonts = FontSet.system()
        return self._fonts

    # Public entry points ----------------------------------------------------------------

    def page(
        self,
        view: CertificateView,
        *,
        layout: str | Layout = "portrait",
        assets: Assets | None = None,
        dpi: int = DEFAULT_DPI,
        profile: dict[str, float] | None = None,
    ) -> Page:
        """Draw ``view`` at ``dpi`` (one of ``DPIS``). ``profile``, if given, collects
        seconds per stage. A QR text longer than the layout prints at its ``min_module``
        raises ``QrTooLarge`` before anything is drawn."""
        check_dpi(dpi)
        spec = self._layout(layout)
        _check_view(view, spec)
        check_qr_text(view.qr_text, spec)
        with _stage(profile, "fonts"):
            self._load_fonts(spec)
        with _stage(profile, "static"):
            static = self._static_layer(spec, assets or NO_ASSETS, dpi, view)
            image = static.image.copy()
        with _stage(profile, "text"):
            drawn = self._draw_values(image, spec, view, dpi, static.placements)
        with _stage(profile, "photo"):
            drawn["photo"] = self._draw_photo(image, spec, view, dpi)
        with _stage(profile, "qr"):
            drawn["qr"] = self._draw_qr(image, spec, view.qr_text, dpi)
        touched = [p.ink for p in drawn.values()]
        with _stage(profile, "seal"):
            if static.seal is not None:
                touched.append(_apply_seal(image, static.seal))
        placements = {**static.placements, **drawn}
        shown = [f.key for f in spec.fields if f.key in ("photo", "qr") or view.text(f.key) is not None]
        ordered = tuple(placements[key] for key in shown)
        return Page(image, spec, dpi, ordered, view.number, static, _bands_touched(touched, image.height))

    def encode(
        self,
        view: CertificateView,
        fmt: str = "png",
        *,
        layout: str | Layout = "portrait",
        assets: Assets | None = None,
        dpi: int = DEFAULT_DPI,
        profile: dict[str, float] | None = None,
    ) -> bytes:
        """The certificate as a PNG (``dpi`` recorded in it) or as a one-page PDF of the
        layout's size carrying that image losslessly."""
        if fmt not in ("png", "pdf"):
            raise ValueError(f"format must be png or pdf, not {fmt!r}")
        page = self.page(view, layout=layout, assets=assets, dpi=dpi, profile=profile)
        with _stage(profile, fmt):
            return page.png(self.png_compress_level) if fmt == "png" else page.pdf(self.png_compress_level)

    def check(
        self,
        view: CertificateView,
        *,
        layout: str | Layout = "portrait",
        assets: Assets | None = None,
        dpi: int = DEFAULT_DPI,
    ) -> None:
        """Raise the ``RenderError`` that drawing ``view`` would raise, without drawing the
        page: call it before issuing, so that a name the certificate cannot print, or a
        photo that does not decode, consumes no certificate number. Before signing there
        is no QR text yet: leave ``qr_text`` empty and the QR code is not checked, or give
        the longest QR text the credential can have (``check_qr_text`` alone does that
        part). A QR text is checked at every resolution in ``DPIS``, whatever ``dpi``."""
        check_dpi(dpi)
        spec = self._layout(layout)
        _check_view(view, spec, need_qr=False)
        if view.qr_text:
            check_qr_text(view.qr_text, spec)
        for data, what, what_zh in _images(view, assets or NO_ASSETS):
            _open_image(data, what, what_zh)
        for f in spec.fields:
            if f.key not in ("qr", "photo"):
                value_key = (spec.digest, dpi, f.key, view.text(f.key), view.text_en(f.key))
                if value_key not in self._fits:
                    self._fit_block(_value_parts(f, view, spec), _px_box(f.box, dpi), dpi)
                    self._remember_fit(value_key)
                label_key = (spec.digest, dpi, f.key, "label")
                if f.label_box is not None and not f.inline_label and label_key not in self._fits:
                    self._fit_block(_label_parts(f, spec), _px_box(f.label_box, dpi), dpi)
                    self._remember_fit(label_key)

    def _remember_fit(self, key: tuple[Any, ...]) -> None:
        with self._lock:
            if len(self._fits) > 10_000:
                self._fits.clear()
            self._fits.add(key)

    # Layouts, fonts, static layer ---------------------------------------------------------

    @staticmethod
    def _layout(layout: str | Layout) -> Layout:
        return layout if isinstance(layout, Layout) else load_layout(layout)

    def _load_fonts(self, spec: Layout) -> None:
        """Resolve every face the layout uses and read its glyph coverage (cached)."""
        roles = {s.font for f in spec.fields for s in (f.style, f.label_style, f.english_style)}
        for role in sorted(roles):
            face = self.fonts.face(role)
            face.missing("")
            face.font(12)

    def _static_layer(self, spec: Layout, assets: Assets, dpi: int, view: CertificateView) -> _Static:
        key = (spec.digest, dpi, assets.digest, self.fonts, tuple(view.text(k) for k in STATIC_KEYS))
        with self._lock:
            found = self._static.get(key)
            if found is not None:
                self._static.move_to_end(key)
                return found
        built = self._build_static(spec, assets, dpi, view)
        with self._lock:
            self._static[key] = built
            while self._static and sum(_bytes(s.image) for s in self._static.values()) > self._static_max:
                self._static.popitem(last=False)
        return built

    def _build_static(self, spec: Layout, assets: Assets, dpi: int, view: CertificateView) -> _Static:
        size = (_px(spec.width, dpi), _px(spec.height, dpi))
        image = _background(assets.background, size)
        draw = ImageDraw.Draw(image)
        for line in spec.frame:
            inset, width = _px(line.inset, dpi), max(1, _px(line.width, dpi))
            draw.rectangle(
                (inset, inset, size[0] - 1 - inset, size[1] - 1 - inset), outline=spec.frame_color, width=width
            )
        if spec.logo is not None and assets.logo is not None:
            _paste_logo(image, assets.logo, _px_box(spec.logo, dpi))
        cached = self._static_max > 0
        static = _Static(image, STATIC_PNG_LEVEL if cached else self.png_compress_level, smallest=cached)
        for f in spec.fields:
            self._draw_static_field(static, f, spec, view, dpi)
        if spec.seal is not None and assets.seal is not None:
            static.seal = _prepare_seal(assets.seal, _px_box(spec.seal.box, dpi), spec.seal.opacity)
        return static

    def _draw_static_field(self, static: _Static, f: Field, spec: Layout, view: CertificateView, dpi: int) -> None:
        draw = ImageDraw.Draw(static.image)
        label = Placement(f.key, f.box, _int_box(_px_box(f.box, dpi)), label=f.label, label_en=f.label_en)
        if f.label_box is not None and not f.inline_label:
            box = _px_box(f.label_box, dpi)
            ink = _draw_fitted(draw, self._fit_block(_label_parts(f, spec), box, dpi))
            label = _with(label, label_ink=ink, label_box_px=_int_box(box))
        if f.key == "photo":
            frame = max(1, _px(0.2, dpi))
            x, y, w, h = _int_box(_px_box(f.box, dpi))
            draw.rectangle((x - frame, y - frame, x + w - 1 + frame, y + h - 1 + frame), outline=spec.photo_frame_color)
        if f.key in STATIC_KEYS:
            label = self._draw_text(draw, f, spec, view, dpi, label)
        static.placements[f.key] = label

    # Per certificate ---------------------------------------------------------------------

    def _draw_values(
        self, image: Image.Image, spec: Layout, view: CertificateView, dpi: int, labels: dict[str, Placement]
    ) -> dict[str, Placement]:
        """Draw the values that change per certificate; ``labels`` are the static layer's
        placements (the labels already drawn)."""
        draw = ImageDraw.Draw(image)
        out: dict[str, Placement] = {}
        for f in spec.fields:
            if f.key in STATIC_KEYS or f.key in ("photo", "qr"):
                continue
            if view.text(f.key) is None:  # an optional field this certificate does not have
                continue
            out[f.key] = self._draw_text(draw, f, spec, view, dpi, labels[f.key])
        return out

    def _draw_text(
        self, draw: ImageDraw.ImageDraw, f: Field, spec: Layout, view: CertificateView, dpi: int, base: Placement
    ) -> Placement:
        parts = _value_parts(f, view, spec)
        if not parts:
            return base
        fitted = self._fit_block(parts, _px_box(f.box, dpi), dpi)
        ink = _draw_fitted(draw, fitted)
        english = fitted[1].text if len(fitted) > 1 else None
        first = fitted[0]
        return _with(base, text=first.text, text_en=english, size=first.size, lines=first.lines, ink=ink)

    def _fit_block(self, parts: Sequence[_Part], box: PxBox, dpi: int) -> list[Fitted]:
        """Fit texts stacked in one box: each gets what the ones above left, less what
        the ones below need at their smallest size."""
        x, y, w, h = box
        out = []
        for i, part in enumerate(parts):
            reserve = sum(p.style.line_mm(p.style.min_size) for p in parts[i + 1 :]) * dpi / 25.4
            face = self.fonts.face(part.style.font)
            fitted = fit(part.text, part.style, face, (x, y, w, h - reserve), dpi, part.field, suffix=part.suffix)
            out.append(fitted)
            y, h = y + fitted.height, h - fitted.height
        return out

    def _draw_photo(self, image: Image.Image, spec: Layout, view: CertificateView, dpi: int) -> Placement:
        f = spec.field("photo")
        assert f is not None
        box = _int_box(_px_box(f.box, dpi))
        placement = Placement("photo", f.box, box, label=f.label, label_en=f.label_en)
        if view.photo is None:
            return placement
        x, y, w, h = box
        image.paste(_photo(view.photo, (w, h)), (x, y))
        return _with(placement, text="photo", ink=(x, y, x + w, y + h))

    def _draw_qr(self, image: Image.Image, spec: Layout, text: str, dpi: int) -> Placement:
        f = spec.field("qr")
        assert f is not None
        box = _px_box(f.box, dpi)
        code, modules, px = _qr_image(text, box, f.box, dpi, spec)
        x = int(box[0] + (box[2] - code.width) / 2)
        y = int(box[1] + (box[3] - code.height) / 2)
        image.paste(code, (x, y))
        ink = (x, y, x + code.width, y + code.height)
        module_mm = px * 25.4 / dpi
        return Placement("qr", f.box, _int_box(box), text=text, ink=ink, modules=modules, module_mm=module_mm)


_default: Renderer | None = None
_default_lock = threading.Lock()


def default_renderer() -> Renderer:
    """The process's renderer, with the system fonts (created on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Renderer()
        return _default


def use_fonts(fonts: FontSet) -> None:
    """Make the process's renderer draw with ``fonts`` (e.g. a licensed FangSong)."""
    global _default
    with _default_lock:
        _default = Renderer(fonts)


# Helpers ---------------------------------------------------------------------------------


def _check_view(view: CertificateView, spec: Layout, *, need_qr: bool = True) -> None:
    if view.title != TITLE:
        raise RenderError(
            "invalid_title",
            f"the certificate's title must be exactly {TITLE}",
            f"证书名称应统一使用“{TITLE}”",
        )
    for key in REQUIRED:
        if key not in ("photo", "qr") and not (view.text(key) or "").strip():
            en, zh = FIELD_NAMES[key]
            raise RenderError("missing_field", f"the {en} is empty", f"{zh}为空", errors={"field": key})
    if need_qr and not view.qr_text:
        raise RenderError("missing_field", "the QR text is empty", "二维码内容为空", errors={"field": "qr"})
    for key in OPTIONAL:
        if view.text(key) and spec.field(key) is None:
            raise LayoutError(spec.name, f"has no place for {key}", f"没有{key}的位置")


def _value_parts(f: Field, view: CertificateView, spec: Layout) -> list[_Part]:
    value = view.text(f.key)
    if value is None:
        return []
    if f.inline_label and f.label:
        name = f"{f.label}（{f.label_en}）" if spec.english and f.label_en else f.label
        return [_Part(f"{name}{f.label_style.colon}{value}", f.style, f.key)]
    parts = [_Part(value, f.style, f.key)]
    english = f.english_text or view.text_en(f.key)
    if spec.english and english:
        parts.append(_Part(english, f.english_style, f.key))
    return parts


def _label_parts(f: Field, spec: Layout) -> list[_Part]:
    if not f.label:
        return []
    parts = [_Part(f.label, f.label_style, f.key, suffix=f.label_style.colon)]
    if spec.english and f.label_en:
        parts.append(_Part(f.label_en, replace(f.english_style, align=f.label_style.align), f.key))
    return parts


def _draw_fitted(draw: ImageDraw.ImageDraw, fitted: Sequence[Fitted]) -> IntBox | None:
    ink: IntBox | None = None
    for f in fitted:
        font = f.font
        for run in f.runs:
            draw.text((run.x, run.y), run.text, font=font, fill=f.color, anchor="ls")
            bbox = draw.textbbox((run.x, run.y), run.text, font=font, anchor="ls")
            ink = _union(ink, (int(bbox[0]), int(bbox[1]), int(bbox[2]), int(bbox[3])))
    return ink


def _bytes(image: Image.Image) -> int:
    return image.width * image.height * len(image.getbands())


def _union(a: IntBox | None, b: IntBox) -> IntBox:
    if a is None:
        return b
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _with(p: Placement, **changes: Any) -> Placement:
    return replace(p, **changes)


def _px(mm: float, dpi: float) -> int:
    return round(mm * dpi / 25.4)


def _px_box(box: Box, dpi: float) -> PxBox:
    return (box[0] * dpi / 25.4, box[1] * dpi / 25.4, box[2] * dpi / 25.4, box[3] * dpi / 25.4)


def _int_box(box: PxBox) -> IntBox:
    return (round(box[0]), round(box[1]), round(box[2]), round(box[3]))


def _images(view: CertificateView, assets: Assets) -> list[tuple[bytes, str, str]]:
    named = [(view.photo, "photo", "照片"), (assets.background, "background", "背景图")]
    named += [(assets.logo, "logo", "标志"), (assets.seal, "seal", "印章")]
    return [(data, what, zh) for data, what, zh in named if data is not None]


def _open_image(data: bytes, what: str, what_zh: str) -> Image.Image:
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            return ImageOps.exif_transpose(im) or im
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
        raise InvalidImage(what, what_zh) from None


def _on_white(im: Image.Image) -> Image.Image:
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, "white")
        return Image.alpha_composite(white, rgba).convert("RGB")
    return im.convert("RGB")


def _background(data: bytes | None, size: tuple[int, int]) -> Image.Image:
    if data is None:
        return Image.new("RGB", size, "white")
    im = _on_white(_open_image(data, "background", "背景图"))
    return ImageOps.fit(im, size, Image.Resampling.LANCZOS)


def _photo(data: bytes, size: tuple[int, int]) -> Image.Image:
    im = _on_white(_open_image(data, "photo", "照片"))
    return ImageOps.fit(im, size, Image.Resampling.LANCZOS)


def _fit_rgba(data: bytes, box: IntBox, what: str, what_zh: str) -> tuple[Image.Image, tuple[int, int]]:
    """The image scaled to fit inside ``box`` (aspect kept), and where it goes (centred)."""
    x, y, w, h = box
    im = ImageOps.contain(_open_image(data, what, what_zh).convert("RGBA"), (w, h), Image.Resampling.LANCZOS)
    return im, (x + (w - im.width) // 2, y + (h - im.height) // 2)


def _paste_logo(image: Image.Image, data: bytes, box: PxBox) -> None:
    logo, at = _fit_rgba(data, _int_box(box), "logo", "标志")
    image.paste(logo.convert("RGB"), at, logo.getchannel("A"))


def _prepare_seal(data: bytes, box: PxBox, opacity: float) -> _Seal:
    seal, at = _fit_rgba(data, _int_box(box), "seal", "印章")
    alpha = seal.getchannel("A").point(lambda a: round(a * opacity))
    return _Seal(seal.convert("RGB"), alpha, at)


def _apply_seal(image: Image.Image, seal: _Seal) -> IntBox:
    """Ink, not paint: the seal multiplies what is under it, so the organization name and
    date stay readable through it, as on a stamped paper certificate."""
    x, y = seal.at
    box = (x, y, x + seal.rgb.width, y + seal.rgb.height)
    image.paste(ImageChops.multiply(image.crop(box), seal.rgb), (x, y), seal.alpha)
    return box


TOUCH_MARGIN = 2
"""Pixels added above and below everything drawn per certificate before deciding which
PNG bands it touched (antialiasing stays within the glyph boxes; this is a safety margin)."""


def _bands_touched(boxes: Sequence[IntBox | None], height: int) -> frozenset[int]:
    touched: set[int] = set()
    for box in boxes:
        if box is None:
            continue
        top = max(0, box[1] - TOUCH_MARGIN) // BAND_ROWS
        bottom = min(height - 1, box[3] + TOUCH_MARGIN) // BAND_ROWS
        touched.update(range(top, bottom + 1))
    return frozenset(touched)


def _qr_image(text: str, box: PxBox, box_mm: Box, dpi: int, spec: Layout) -> tuple[Image.Image, int, int]:
    """The QR code (error correction M, quiet zone included) at the largest whole number
    of pixels per module that fits ``box``. Raises ``QrDoesNotFit`` below the layout's
    minimum module size: after ``check_qr_text`` (``page`` calls it first) only if this
    and ``max_qr_version`` disagree.

    zxing-cpp's encoder (C++) draws the symbol at the version ``qr_version`` gives (the one
    the limits are computed for) and chooses the mask itself by the standard's penalty
    rules, in about 1 ms where segno's pure-Python mask search takes 13–24 ms. Its choice
    of mask differs from segno's for about a third of texts; both are valid symbols."""
    version = qr_version(text)
    modules = symbol_modules(version, spec.quiet_zone)
    px = module_px(min(box[2], box[3]), modules)
    module_mm = px * 25.4 / dpi
    if px < 1 or module_mm + 1e-9 < spec.min_module:
        raise QrDoesNotFit(modules, module_mm, min(box_mm[2], box_mm[3]), spec.min_module, dpi)
    symbol = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level=QR_ERROR.upper(), version=version)
    drawn = symbol.to_image(scale=px, add_quiet_zones=False)
    side = drawn.shape[0]
    code = Image.frombytes("L", (side, side), memoryview(drawn).tobytes())  # type: ignore[arg-type]
    return ImageOps.expand(code, border=spec.quiet_zone * px, fill=255), modules, px
