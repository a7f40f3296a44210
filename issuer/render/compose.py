"""What a page shows, fitted and placed but not drawn: the step the PNG (``renderer.py``)
and the PDF (``pdfpage.py``) share, so that both put every character, module and image
at the same place.

Positions are pixels at the page's resolution, from the top-left corner, as ``fit.py``
gives them. The texts that are the same on every certificate of an organization (labels,
title, body text, organization name, lookup lines) are fitted once per static layer
(``StaticPlan``); a ``Composition`` adds one certificate's values, QR code and photo.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import zxingcpp
from PIL import Image, ImageOps

from .errors import QrDoesNotFit
from .fit import Fitted, PxBox, fit
from .fonts import FontSet
from .images import fill, on_white, open_image
from .layout import Box, Field, Layout, Style
from .qr import QR_ERROR, module_px, qr_version, symbol_modules
from .view import Assets, CertificateView

STATIC_KEYS = (
    "title",
    "body_text",
    "organization_name",
    "certificate_lookup",
    "organization_lookup",
    "provincial_lookup",
)
"""Fields whose text is the same on every certificate of an organization: fitted (and
drawn) once per static layer, which is cached per (layout, assets, dpi, these texts). A
body text that named the holder would still be drawn right, but would rebuild the layer
every time."""
IntBox = tuple[int, int, int, int]


def px(mm: float, dpi: float) -> int:
    return round(mm * dpi / 25.4)


def px_box(box: Box, dpi: float) -> PxBox:
    return (box[0] * dpi / 25.4, box[1] * dpi / 25.4, box[2] * dpi / 25.4, box[3] * dpi / 25.4)


def int_box(box: PxBox) -> IntBox:
    return (round(box[0]), round(box[1]), round(box[2]), round(box[3]))


# Texts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One text of a field's box: the value, its English line, or a label."""

    text: str
    style: Style
    field: str
    suffix: str = ""


def value_parts(f: Field, view: CertificateView, spec: Layout) -> list[Part]:
    value = view.text(f.key)
    if value is None:
        return []
    if f.inline_label and f.label:
        name = f"{f.label}（{f.label_en}）" if spec.english and f.label_en else f.label
        return [Part(f"{name}{f.label_style.colon}{value}", f.style, f.key)]
    parts = [Part(value, f.style, f.key)]
    english = f.english_text or view.text_en(f.key)
    if spec.english and english:
        parts.append(Part(english, f.english_style, f.key))
    return parts


def label_parts(f: Field, spec: Layout) -> list[Part]:
    if not f.label or f.label_box is None or f.inline_label:
        return []
    parts = [Part(f.label, f.label_style, f.key, suffix=f.label_style.colon)]
    if spec.english and f.label_en:
        parts.append(Part(f.label_en, replace(f.english_style, align=f.label_style.align), f.key))
    return parts


def fit_block(fonts: FontSet, parts: Sequence[Part], box: PxBox, dpi: int) -> tuple[Fitted, ...]:
    """Fit texts stacked in one box: each gets what the ones above left, less what the
    ones below need at their smallest size."""
    x, y, w, h = box
    out = []
    for i, part in enumerate(parts):
        reserve = sum(p.style.line_mm(p.style.min_size) for p in parts[i + 1 :]) * dpi / 25.4
        face = fonts.face(part.style.font)
        fitted = fit(part.text, part.style, face, (x, y, w, h - reserve), dpi, part.field, suffix=part.suffix)
        out.append(fitted)
        y, h = y + fitted.height, h - fitted.height
    return tuple(out)


# QR code ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class QrCode:
    """A QR code placed on the page: whole pixels a module, quiet zone included."""

    text: str
    matrix: bytes
    """The symbol without its quiet zone, a byte a module, row by row: 0 dark, 255 light."""
    side: int
    """Modules across the symbol, without the quiet zone."""
    quiet_zone: int
    module_px: int
    x: int
    y: int
    """Top-left corner of the quiet zone, in page pixels."""
    module_mm: float

    @property
    def modules(self) -> int:
        """Modules across, quiet zone included."""
        return self.side + 2 * self.quiet_zone

    @property
    def ink(self) -> IntBox:
        size = self.modules * self.module_px
        return (self.x, self.y, self.x + size, self.y + size)

    def image(self) -> Image.Image:
        """The code as pixels (grey), quiet zone included."""
        symbol = Image.frombytes("L", (self.side, self.side), self.matrix)
        scaled = symbol.resize((self.side * self.module_px,) * 2, Image.Resampling.NEAREST)
        return ImageOps.expand(scaled, border=self.quiet_zone * self.module_px, fill=255)


def qr_code(text: str, box: PxBox, box_mm: Box, dpi: int, spec: Layout) -> QrCode:
    """The QR code (error correction M) at the largest whole number of pixels per module
    that fits ``box``, centred in it. Raises ``QrDoesNotFit`` below the layout's minimum
    module size: after ``check_qr_text`` (``Renderer.page`` calls it first) only if this
    and ``max_qr_version`` disagree.

    zxing-cpp's encoder (C++) draws the symbol at the version ``qr_version`` gives (the one
    the limits are computed for) and chooses the mask itself by the standard's penalty
    rules, in about 1 ms where segno's pure-Python mask search takes 13–24 ms. Its choice
    of mask differs from segno's for about a third of texts; both are valid symbols."""
    version = qr_version(text)
    modules = symbol_modules(version, spec.quiet_zone)
    per_module = module_px(min(box[2], box[3]), modules)
    module_mm = per_module * 25.4 / dpi
    if per_module < 1 or module_mm + 1e-9 < spec.min_module:
        raise QrDoesNotFit(modules, module_mm, min(box_mm[2], box_mm[3]), spec.min_module, dpi)
    symbol = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level=QR_ERROR.upper(), version=version)
    drawn = symbol.to_image(scale=1, add_quiet_zones=False)
    side = drawn.shape[0]
    size = modules * per_module
    x, y = int(box[0] + (box[2] - size) / 2), int(box[1] + (box[3] - size) / 2)
    return QrCode(text, memoryview(drawn).tobytes(), side, spec.quiet_zone, per_module, x, y, module_mm)  # type: ignore[arg-type]


# Photo -----------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Photo:
    """The holder's photo (the bytes as supplied) and its box in page pixels."""

    data: bytes
    box: IntBox

    @cached_property
    def image(self) -> Image.Image:
        """Decoded, upright, on white (raises ``InvalidImage``)."""
        return on_white(open_image(self.data, "photo", "照片"))

    @cached_property
    def fitted(self) -> Image.Image:
        """The photo as the box shows it, at page pixels: filling it, cropped about the centre."""
        return fill(self.image, (self.box[2], self.box[3]))


# The page --------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class StaticPlan:
    """The texts of a static layer, fitted: by field key, its label's lines and (for the
    fields in ``STATIC_KEYS``) its value's."""

    key: tuple[Any, ...]
    labels: Mapping[str, tuple[Fitted, ...]]
    texts: Mapping[str, tuple[Fitted, ...]]


@dataclass(frozen=True, eq=False)
class Composition:
    """One certificate's page, placed: the static layer's texts and this certificate's
    values, QR code and photo."""

    layout: Layout
    dpi: int
    number: str
    assets: Assets
    static: StaticPlan
    values: Mapping[str, tuple[Fitted, ...]]
    """Field key → fitted texts, for each value shown that is not in ``STATIC_KEYS``."""
    qr: QrCode
    photo: Photo | None
