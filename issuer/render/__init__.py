"""Certificate images: a ``CertificateView`` (every value formatted) and a layout name in,
PNG or PDF bytes out. Pure drawing: no Flask, no database.

    from issuer.render import default_renderer, view_for
    view = view_for(credential, qr_text=text, organization_name=name, document_number=number)
    default_renderer().check(view, layout="portrait")   # before issuing: raises RenderError
    check_qr_text(longest_qr_text)                      # before issuing: raises QrTooLarge
    png = default_renderer().encode(view, "png", layout="portrait", assets=assets, dpi=300)
    book = default_renderer().book(file, title=title)   # many certificates, one PDF
    book.add(default_renderer().compose(view, layout="portrait", assets=assets, dpi=300))
    book.close()

Images are drawn at 150, 200, 300 or 600 dpi (``DPIS``); at each, every layout prints QR
codes up to ``max_qr_version(layout)`` with modules of at least its ``min_module`` (0.6 mm).
"""

from __future__ import annotations

from .errors import (
    FontNotFound,
    FontUnsupported,
    InvalidImage,
    LayoutError,
    MissingGlyph,
    QrDoesNotFit,
    QrTooLarge,
    RenderConfigError,
    RenderError,
    TextDoesNotFit,
)
from .fonts import FontFace, FontSet
from .layout import REQUIRED, Layout, layout_names, load_layout
from .pdfbook import PdfBook
from .qr import DEFAULT_DPI, DPIS, alphanumeric_capacity, check_qr_text, max_qr_version, qr_version
from .renderer import Page, Placement, Renderer, default_renderer, use_fonts
from .view import (
    CERTIFICATE_LOOKUP,
    NO_WORK_TYPE,
    ORGANIZATION_LOOKUP,
    TITLE,
    Assets,
    CertificateView,
    English,
    body_text_zh,
    view_for,
)

__all__ = [
    "CERTIFICATE_LOOKUP",
    "DEFAULT_DPI",
    "DPIS",
    "NO_WORK_TYPE",
    "ORGANIZATION_LOOKUP",
    "REQUIRED",
    "TITLE",
    "Assets",
    "CertificateView",
    "English",
    "FontFace",
    "FontNotFound",
    "FontSet",
    "FontUnsupported",
    "InvalidImage",
    "Layout",
    "LayoutError",
    "MissingGlyph",
    "Page",
    "PdfBook",
    "Placement",
    "QrDoesNotFit",
    "QrTooLarge",
    "RenderConfigError",
    "RenderError",
    "Renderer",
    "TextDoesNotFit",
    "alphanumeric_capacity",
    "body_text_zh",
    "check_qr_text",
    "default_renderer",
    "layout_names",
    "load_layout",
    "max_qr_version",
    "qr_version",
    "use_fonts",
    "view_for",
]
