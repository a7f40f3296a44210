"""How large a QR code each layout prints, and the check that a QR text stays within it.

A layout's QR box, its ``min_module`` (mm a module at print size) and its quiet zone give,
at each resolution the renderer draws at (``DPIS``), the largest QR version whose modules,
a whole number of pixels each, are still ``min_module`` or more: ``max_qr_version``. The
smallest of these over the resolutions is the layout's published limit. ``check_qr_text``
refuses a text that needs a larger version (``QrTooLarge``) before anything is drawn; it
reads a capacity table, so it is cheap enough to call at issuance with a worst-case text.
"""

from __future__ import annotations

import math
from functools import cache

import segno
from segno import consts

from .errors import QrTooLarge, RenderError
from .layout import Layout, layout_names, load_layout

QR_ERROR = "m"
DPIS = (150, 200, 300, 600)
"""The resolutions certificates are drawn at. The QR limit holds at every one of them."""
DEFAULT_DPI = 300
VERSIONS = range(1, 41)


def check_dpi(dpi: int) -> None:
    if dpi not in DPIS:
        dpis = "、".join(map(str, DPIS))
        raise RenderError(
            "invalid_dpi",
            f"certificates are drawn at {', '.join(map(str, DPIS))} dpi, not {dpi}",
            f"分辨率应为{dpis} dpi之一，不能为{dpi}",
            errors={"dpi": dpi, "allowed": list(DPIS)},
        )


def symbol_modules(version: int, quiet_zone: int) -> int:
    """Modules across a QR code of ``version``, quiet zone included."""
    return 17 + 4 * version + 2 * quiet_zone


def module_px(box_px: float, modules: int) -> int:
    """Whole pixels per module of a code of ``modules`` across in a square of ``box_px``."""
    return int(box_px // modules)


def module_mm(side_mm: float, version: int, quiet_zone: int, dpi: int) -> float:
    """Millimetres a module of a code of ``version`` gets in a square box of ``side_mm``
    at ``dpi`` (whole pixels a module, as the renderer draws it)."""
    return module_px(side_mm * dpi / 25.4, symbol_modules(version, quiet_zone)) * 25.4 / dpi


def max_qr_version(layout: str | Layout | None = None) -> int:
    """The largest QR version (error correction M, quiet zone included) that ``layout``
    prints with modules of at least its ``min_module`` at every resolution in ``DPIS``; 0
    if not even version 1 fits. ``None``: the smallest over the shipped layouts (an
    organization may change its layout after issuing)."""
    if layout is None:
        return min(max_qr_version(name) for name in layout_names())
    spec = layout if isinstance(layout, Layout) else load_layout(layout)
    f = spec.field("qr")
    assert f is not None  # the loader requires it
    return _max_version(min(f.box[2], f.box[3]), spec.min_module, spec.quiet_zone)


@cache
def _max_version(side_mm: float, min_module: float, quiet_zone: int) -> int:
    best = 0
    for version in VERSIONS:
        sizes = [module_mm(side_mm, version, quiet_zone, dpi) for dpi in DPIS]
        if min(sizes) + 1e-9 < min_module or any(size <= 0 for size in sizes):
            break
        best = version
    return best


@cache
def alphanumeric_capacity(version: int) -> int:
    """Characters of the QR alphanumeric mode a code of ``version`` holds at error
    correction M (ISO/IEC 18004 table 7: 311 at version 10, 600 at version 15)."""
    table: dict[int, dict[int, int]] = consts.SYMBOL_CAPACITY  # type: ignore[assignment]
    bits = table[version][consts.ERROR_LEVEL_M]
    count_bits = 9 if version < 10 else 11 if version < 27 else 13
    free = bits - 4 - count_bits
    return free // 11 * 2 + (1 if free % 11 >= 6 else 0)


_ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


def qr_version(text: str) -> int:
    """The version segno gives ``text`` at error correction M (no boost), without drawing
    it: a table look-up for an alphanumeric text (every QR text of the service), else
    segno without its mask search. 41: no version holds it."""
    if text and _ALPHANUMERIC.issuperset(text):
        for version in VERSIONS:
            if alphanumeric_capacity(version) >= len(text):
                return version
        return 41
    try:
        return int(segno.make(text, error=QR_ERROR, boost_error=False, micro=False, mask=0).version)
    except segno.DataOverflowError:
        return 41


def shorten_by(text: str, max_version: int) -> int:
    """About how many Chinese characters of holder name or 工种 must go for ``text`` to fit
    ``max_version``: the QR text is base32 (8 characters for 5 bytes) and a Chinese
    character is 3 bytes of UTF-8."""
    excess = len(text) - alphanumeric_capacity(max_version) if max_version >= 1 else len(text)
    return max(1, math.ceil(math.ceil(excess * 5 / 8) / 3))


def check_qr_text(text: str, layout: str | Layout | None = None) -> int:
    """The version ``text`` needs; raises ``QrTooLarge`` when ``layout`` (``None``: every
    shipped layout) cannot print it with modules of at least its ``min_module`` at every
    resolution in ``DPIS``. Cheap (no drawing, no mask search): call it at issuance with
    the longest QR text the credential can have."""
    if layout is None:
        limits = {name: max_qr_version(name) for name in layout_names()}
        name = min(limits, key=lambda n: (limits[n], n))
        limit = limits[name]
        spec = load_layout(name)
    else:
        spec = layout if isinstance(layout, Layout) else load_layout(layout)
        limit = max_qr_version(spec)
    version = qr_version(text)
    if version > limit:
        raise QrTooLarge(
            chars=len(text),
            version=version,
            max_version=limit,
            max_chars=alphanumeric_capacity(limit) if limit >= 1 else 0,
            layout=spec.name,
            min_module=spec.min_module,
            shorten_by=shorten_by(text, limit),
        )
    return version
