"""Drawing a certificate: the page composed once (``compose.py``: every text fitted, the QR
code encoded), then drawn as a PNG or written as a vector PDF (``pdfpage.py``).

The PNG is a cached static layer (background, frame, logo, labels, title, lookup lines)
copied per certificate, with the values, the photo, the QR code and the seal drawn on it.
The PDF is the same page as vectors: a cached static content stream and its glyphs, and
per certificate the values' text, the photo, the QR code and the seal.

``Renderer`` holds the caches; one per process is enough (``default_renderer()``). Its
caches are guarded for threads, but Pillow's fonts are not meant to be shared between
threads drawing at once: render in worker processes, as the service design does.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import IO, Any

from PIL import Image, ImageChops, ImageDraw, ImageFont
from PIL import _imaging as pillow_core

from .compose import (
    STATIC_KEYS,
    Composition,
    Part,
    Photo,
    StaticPlan,
    fit_block,
    int_box,
    label_parts,
    px,
    px_box,
    qr_code,
    value_parts,
)
from .errors import LayoutError, RenderError
from .fit import Fitted, PxBox
from .fonts import FontSet
from .images import contain_box, fill, on_white, open_image
from .layout import IMAGES, OPTIONAL, REQUIRED, Box, Field, Layout, load_layout
from .pdfbook import PdfBook
from .pdffonts import Glyphs
from .pdfpage import Advances, PdfLayers, build_layer, write_page
from .png import BAND_ROWS, Band, band_count, compress_bands
from .png import encode as encode_png
from .qr import DEFAULT_DPI, check_dpi, check_qr_text
from .view import FIELD_NAMES, NO_ASSETS, TITLE, Assets, CertificateView

PNG_COMPRESS_LEVEL = 3
"""zlib level of the rows each certificate draws on: as fast as 1, 15% smaller; 4 is 10%
smaller again (30 kB a portrait page) but costs a third of the PNGs per CPU-second (19
instead of 29), 6 takes twice as long (``python -m bench render``)."""
STATIC_PNG_LEVEL = 9
"""zlib level of the rows no certificate value touches: compressed once per cached static
layer, so it costs nothing per certificate (about 0.3 s once per layer, where level 6
takes 0.1 s); about 55 kB less a portrait page than level 3, 4 kB of them over level 6,
which kept a portrait PNG and its PDF within 350 kB before ``COVERAGE_LEVELS`` (``python -m
bench render``). A renderer that caches no layer compresses them at its own level, as it
does every page."""
COVERAGE_LEVELS = 16
"""Steps of a glyph edge's coverage, from none to full. FreeType gives 256; at 300 dpi the
eye cannot tell 16 from 256 (a step is 1/15 of the ink's contrast on one 85 µm pixel), but
deflate can: the bilingual landscape page's PNG shrinks from 400 kB to 285 kB and the
portrait page's from 312 kB to 230 kB, and it draws no slower."""
_COVERAGE = [round(a * (COVERAGE_LEVELS - 1) / 255) * 255 // (COVERAGE_LEVELS - 1) for a in range(256)]
_MEASURE = ImageDraw.Draw(Image.new("L", (1, 1)))
"""Measures text (``textbbox`` reads the font, never the image): shared by every thread."""
PERSONAL = frozenset({"holder_name", "document_number"})
"""Fields whose fit ``check`` never remembers: they differ from one holder to the next
(nothing to gain), and a long-lived process should not hold people's names and ID numbers.
The certificate number is remembered: before issuing it is a stand-in that has the real
number's length, the same for every certificate of an organization, year and level."""
STATIC_CACHE_BYTES = 160 * 2**20
"""Memory for cached static layers: six A4 pages at 300 dpi (26 MB each)."""
PDF_CACHE_BYTES = 32 * 2**20
"""Memory for cached static layers as PDF: a compressed content stream of a few kB and an
organization's images, encoded."""
PLAN_CACHE = 64
"""Static layers whose fitted texts are kept (a few kB each)."""
PILLOW_BLOCKS = 4
"""Freed image memory blocks (16 MiB each) Pillow keeps for reuse. Pillow keeps none by
default, so every page-sized image is fresh memory from the system, and faulting it in
costs more than copying the static layer into it (``python -m bench render``)."""
IntBox = tuple[int, int, int, int]
FORMATS = ("png", "pdf")


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
    composition: Composition = field(repr=False)
    """What the page shows, placed: what its PDF is written from."""
    write_pdf: Callable[[Composition], bytes] = field(repr=False)
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

    def pdf(self) -> bytes:
        """The same page as a vector PDF of the layout's size (``pdfpage.py``): written
        from the page's composition, not from its pixels."""
        return self.write_pdf(self.composition)


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
        """``static_cache_bytes``: memory for cached PNG static layers; 0 caches no layer
        at all (PNG, PDF or fitted texts). ``pillow_blocks``: raise Pillow's
        process-wide count of reusable memory blocks to at least this
        (``PILLOW_BLOCKS_MAX``); 0 leaves Pillow's setting alone."""
        if pillow_core.get_blocks_max() < pillow_blocks:
            pillow_core.set_blocks_max(pillow_blocks)
        self._fonts = fonts
        self._static: OrderedDict[tuple[Any, ...], _Static] = OrderedDict()
        self._static_max = static_cache_bytes
        self._plans: OrderedDict[tuple[Any, ...], StaticPlan] = OrderedDict()
        self._pdf_layers = PdfLayers(PDF_CACHE_BYTES if static_cache_bytes > 0 else 0)
        self._glyphs = Glyphs()
        self._advances = Advances()
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
        return self._draw(self.compose(view, layout=layout, assets=assets, dpi=dpi, profile=profile), profile)

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
        """The certificate as a PNG (``dpi`` recorded in it) or as a one-page vector PDF of
        the layout's size (text placed as the PNG at ``dpi`` places it; no pixels drawn)."""
        return self.encode_all(view, (fmt,), layout=layout, assets=assets, dpi=dpi, profile=profile)[fmt]

    def encode_all(
        self,
        view: CertificateView,
        formats: Sequence[str],
        *,
        layout: str | Layout = "portrait",
        assets: Assets | None = None,
        dpi: int = DEFAULT_DPI,
        profile: dict[str, float] | None = None,
    ) -> dict[str, bytes]:
        """The certificate in each of ``formats`` (``png``, ``pdf``), composed once: a PDF
        beside a PNG costs only its writing, and a PDF alone draws no pixels."""
        unknown = [fmt for fmt in formats if fmt not in FORMATS]
        if unknown:
            raise ValueError(f"format must be png or pdf, not {unknown[0]!r}")
        comp = self.compose(view, layout=layout, assets=assets, dpi=dpi, profile=profile)
        out = {}
        if "png" in formats:
            page = self._draw(comp, profile)
            with _stage(profile, "png"):
                out["png"] = page.png(self.png_compress_level)
        if "pdf" in formats:
            with _stage(profile, "pdf"):
                out["pdf"] = self.pdf(comp)
        return out

    def compose(
        self,
        view: CertificateView,
        *,
        layout: str | Layout = "portrait",
        assets: Assets | None = None,
        dpi: int = DEFAULT_DPI,
        profile: dict[str, float] | None = None,
    ) -> Composition:
        """What the page shows, placed but not drawn: checks ``view`` as ``page`` does
        (``QrTooLarge`` before anything else is done), fits every text, encodes the QR code."""
        check_dpi(dpi)
        spec = self._layout(layout)
        _check_view(view, spec)
        check_qr_text(view.qr_text, spec)
        with _stage(profile, "fonts"):
            self._load_fonts(spec)
        with _stage(profile, "static"):
            plan = self._plan(spec, dpi, view)
        with _stage(profile, "text"):
            values = {
                f.key: fit_block(self.fonts, parts, px_box(f.box, dpi), dpi)
                for f in spec.fields
                if f.key not in (*STATIC_KEYS, *IMAGES) and (parts := value_parts(f, view, spec))
            }
        with _stage(profile, "qr"):
            qr = spec.field("qr")
            assert qr is not None  # the loader requires it
            code = qr_code(view.qr_text, px_box(qr.box, dpi), qr.box, dpi, spec)
        photo = spec.field("photo")  # a layout may print no photo (``Layout.photo_box``)
        picture = Photo(view.photo, int_box(px_box(photo.box, dpi))) if view.photo and photo else None
        return Composition(spec, dpi, view.number, assets or NO_ASSETS, plan, values, code, picture)

    def pdf(self, comp: Composition) -> bytes:
        """The page ``comp`` as a vector PDF."""
        key = (comp.static.key, comp.assets.digest)
        layer = self._pdf_layers.get(key)
        if layer is None:
            layer = build_layer(comp.static, comp.layout, comp.assets, comp.dpi, self._glyphs, self._advances)
            self._pdf_layers.put(key, layer)
        return write_page(comp, layer, self._glyphs, self._advances)

    def book(self, out: IO[bytes], *, title: str) -> PdfBook:
        """A PDF of many pages written to ``out`` as they come (``pdfbook.py``): ``add`` each
        page's ``compose``d certificate, then ``close``. Each page is the page ``pdf``
        writes; fonts and the organization's images are written once for all."""
        return PdfBook(out, self._glyphs, self._advances, title=title)

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
            open_image(data, what, what_zh)
        for f in spec.fields:
            if f.key not in IMAGES:
                value_key = (spec.digest, dpi, f.key, view.text(f.key), view.text_en(f.key))
                if value_key not in self._fits:
                    self._fit_block(value_parts(f, view, spec), px_box(f.box, dpi), dpi)
                    if f.key not in PERSONAL:
                        self._remember_fit(value_key)
                label_key = (spec.digest, dpi, f.key, "label")
                if (parts := label_parts(f, spec)) and label_key not in self._fits:
                    assert f.label_box is not None
                    self._fit_block(parts, px_box(f.label_box, dpi), dpi)
                    self._remember_fit(label_key)

    def _remember_fit(self, key: tuple[Any, ...]) -> None:
        with self._lock:
            if len(self._fits) > 10_000:
                self._fits.clear()
            self._fits.add(key)

    def _fit_block(self, parts: Sequence[Part], box: PxBox, dpi: int) -> tuple[Fitted, ...]:
        return fit_block(self.fonts, parts, box, dpi)

    def _draw(self, comp: Composition, profile: dict[str, float] | None) -> Page:
        """The page ``comp`` drawn: the static layer copied, the values, photo, QR code and seal on it."""
        with _stage(profile, "static"):
            static = self._raster_layer(comp)
            image = static.image.copy()
        with _stage(profile, "text"):
            drawn = self._draw_values(image, comp, static.placements)
        with _stage(profile, "photo"):
            if comp.layout.field("photo") is not None:
                drawn["photo"] = self._draw_photo(image, comp)
        with _stage(profile, "qr"):
            drawn["qr"] = self._draw_qr(image, comp)
        touched = [p.ink for p in drawn.values()]
        with _stage(profile, "seal"):
            if static.seal is not None:
                touched.append(_apply_seal(image, static.seal))
        placements = {**static.placements, **drawn}
        shown = tuple(placements[f.key] for f in comp.layout.fields if _shown(f.key, comp))
        dirty = _bands_touched(touched, image.height)
        return Page(image, comp.layout, comp.dpi, shown, comp.number, comp, self.pdf, static, dirty)

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

    def _plan(self, spec: Layout, dpi: int, view: CertificateView) -> StaticPlan:
        """The static layer's texts, fitted (cached per layout, resolution, fonts and texts)."""
        texts = tuple((view.text(k), view.text_en(k)) for k in STATIC_KEYS)
        key = (spec.digest, dpi, self.fonts, texts)
        with self._lock:
            found = self._plans.get(key)
            if found is not None:
                self._plans.move_to_end(key)
                return found
        labels, values = {}, {}
        for f in spec.fields:
            if parts := label_parts(f, spec):
                assert f.label_box is not None
                labels[f.key] = self._fit_block(parts, px_box(f.label_box, dpi), dpi)
            if f.key in STATIC_KEYS and (parts := value_parts(f, view, spec)):
                values[f.key] = self._fit_block(parts, px_box(f.box, dpi), dpi)
        plan = StaticPlan(key, labels, values)
        if self._static_max > 0:
            with self._lock:
                self._plans[key] = plan
                while len(self._plans) > PLAN_CACHE:
                    self._plans.popitem(last=False)
        return plan

    def _raster_layer(self, comp: Composition) -> _Static:
        key = (comp.static.key, comp.assets.digest)
        with self._lock:
            found = self._static.get(key)
            if found is not None:
                self._static.move_to_end(key)
                return found
        built = self._build_static(comp)
        with self._lock:
            self._static[key] = built
            while self._static and sum(_bytes(s.image) for s in self._static.values()) > self._static_max:
                self._static.popitem(last=False)
        return built

    def _build_static(self, comp: Composition) -> _Static:
        spec, dpi, assets, plan = comp.layout, comp.dpi, comp.assets, comp.static
        size = (px(spec.width, dpi), px(spec.height, dpi))
        image = _background(assets.background, size)
        draw = ImageDraw.Draw(image)
        for line in spec.frame:
            inset, width = px(line.inset, dpi), max(1, px(line.width, dpi))
            draw.rectangle(
                (inset, inset, size[0] - 1 - inset, size[1] - 1 - inset), outline=spec.frame_color, width=width
            )
        if spec.logo is not None and assets.logo is not None:
            _paste_logo(image, assets.logo, int_box(px_box(spec.logo, dpi)))
        cached = self._static_max > 0
        static = _Static(image, STATIC_PNG_LEVEL if cached else self.png_compress_level, smallest=cached)
        for f in spec.fields:
            static.placements[f.key] = self._draw_static_field(image, f, spec, plan, dpi)
        if spec.seal is not None and assets.seal is not None:
            static.seal = _prepare_seal(assets.seal, int_box(px_box(spec.seal.box, dpi)), spec.seal.opacity)
        return static

    @staticmethod
    def _draw_static_field(image: Image.Image, f: Field, spec: Layout, plan: StaticPlan, dpi: int) -> Placement:
        label = Placement(f.key, f.box, int_box(px_box(f.box, dpi)), label=f.label, label_en=f.label_en)
        if f.key in plan.labels:
            assert f.label_box is not None
            ink = _draw_fitted(image, plan.labels[f.key])
            label = replace(label, label_ink=ink, label_box_px=int_box(px_box(f.label_box, dpi)))
        if f.key == "photo":
            frame = max(1, px(0.2, dpi))
            x, y, w, h = int_box(px_box(f.box, dpi))
            rectangle = (x - frame, y - frame, x + w - 1 + frame, y + h - 1 + frame)
            ImageDraw.Draw(image).rectangle(rectangle, outline=spec.photo_frame_color)
        if f.key in plan.texts:
            label = _drawn_text(image, plan.texts[f.key], label)
        return label

    # Per certificate ---------------------------------------------------------------------

    @staticmethod
    def _draw_values(image: Image.Image, comp: Composition, labels: dict[str, Placement]) -> dict[str, Placement]:
        """Draw the values that change per certificate; ``labels`` are the static layer's
        placements (the labels already drawn)."""
        return {key: _drawn_text(image, fitted, labels[key]) for key, fitted in comp.values.items()}

    @staticmethod
    def _draw_photo(image: Image.Image, comp: Composition) -> Placement:
        f = comp.layout.field("photo")
        assert f is not None
        box = int_box(px_box(f.box, comp.dpi))
        placement = Placement("photo", f.box, box, label=f.label, label_en=f.label_en)
        if comp.photo is None:
            return placement
        x, y, w, h = box
        image.paste(comp.photo.fitted, (x, y))
        return replace(placement, text="photo", ink=(x, y, x + w, y + h))

    @staticmethod
    def _draw_qr(image: Image.Image, comp: Composition) -> Placement:
        f = comp.layout.field("qr")
        assert f is not None
        qr = comp.qr
        image.paste(qr.image(), (qr.x, qr.y))
        box = int_box(px_box(f.box, comp.dpi))
        return Placement("qr", f.box, box, text=qr.text, ink=qr.ink, modules=qr.modules, module_mm=qr.module_mm)


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


def _shown(key: str, comp: Composition) -> bool:
    """Whether the page shows field ``key``: the photo's box and the QR code always, a
    text when the certificate has it (an optional field may be left out)."""
    return key in IMAGES or key in comp.values or key in comp.static.texts


def _drawn_text(image: Image.Image, fitted: Sequence[Fitted], base: Placement) -> Placement:
    ink = _draw_fitted(image, fitted)
    english = fitted[1].text if len(fitted) > 1 else None
    first = fitted[0]
    return replace(base, text=first.text, text_en=english, size=first.size, lines=first.lines, ink=ink)


def _draw_fitted(image: Image.Image, fitted: Sequence[Fitted]) -> IntBox | None:
    ink: IntBox | None = None
    for f in fitted:
        for run in f.runs:
            ink = _union(ink, _draw_run(image, run.x, run.y, run.text, f.font, f.color))
    return ink


def _draw_run(image: Image.Image, x: float, y: float, text: str, font: ImageFont.FreeTypeFont, color: str) -> IntBox:
    """Draw ``text`` with its baseline's left end at (x, y); its ink box. The glyphs' edge
    coverage is rounded to ``COVERAGE_LEVELS`` steps (see there)."""
    left, top, right, bottom = _MEASURE.textbbox((x, y), text, font=font, anchor="ls")
    box = (int(left), int(top), int(right), int(bottom))
    x0, y0 = box[0] - 1, box[1] - 1
    mask = Image.new("L", (box[2] - x0 + 2, box[3] - y0 + 2), 0)
    ImageDraw.Draw(mask).text((x - x0, y - y0), text, font=font, fill=255, anchor="ls")
    image.paste(color, (x0, y0), mask.point(_COVERAGE))
    return box


def _bytes(image: Image.Image) -> int:
    return image.width * image.height * len(image.getbands())


def _union(a: IntBox | None, b: IntBox) -> IntBox:
    if a is None:
        return b
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _images(view: CertificateView, assets: Assets) -> list[tuple[bytes, str, str]]:
    named = [(view.photo, "photo", "照片"), (assets.background, "background", "背景图")]
    named += [(assets.logo, "logo", "标志"), (assets.seal, "seal", "印章")]
    return [(data, what, zh) for data, what, zh in named if data is not None]


def _background(data: bytes | None, size: tuple[int, int]) -> Image.Image:
    if data is None:
        return Image.new("RGB", size, "white")
    return fill(on_white(open_image(data, "background", "背景图")), size)


def _fit_rgba(data: bytes, box: IntBox, what: str, what_zh: str) -> tuple[Image.Image, tuple[int, int]]:
    """The image scaled to fit inside ``box`` (aspect kept), and where it goes (centred)."""
    im = open_image(data, what, what_zh).convert("RGBA")
    x, y, w, h = contain_box(im.size, box)
    return im.resize((w, h), Image.Resampling.LANCZOS), (x, y)


def _paste_logo(image: Image.Image, data: bytes, box: IntBox) -> None:
    logo, at = _fit_rgba(data, box, "logo", "标志")
    image.paste(logo.convert("RGB"), at, logo.getchannel("A"))


def _prepare_seal(data: bytes, box: IntBox, opacity: float) -> _Seal:
    seal, at = _fit_rgba(data, box, "seal", "印章")
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
