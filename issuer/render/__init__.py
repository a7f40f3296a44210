"""Certificate images: a ``CertificateView`` (every value formatted) and a layout name in,
PNG or PDF bytes out. Pure drawing: no Flask, no database.

    from issuer.render import default_renderer, view_for
    view = view_for(credential, qr_text=text, organization_name=name, document_number=number)
    default_renderer().check(view, layout="portrait")   # before issuing: raises RenderError
    png = default_renderer().encode(view, "png", layout="portrait", assets=assets, dpi=300)
"""

from __future__ import annotations

from .errors import (
    FontNotFound,
    InvalidImage,
    LayoutError,
    MissingGlyph,
    QrDoesNotFit,
    RenderConfigError,
    RenderError,
    TextDoesNotFit,
)
from .fonts import FontFace, FontSet
from .layout import REQUIRED, Layout, layout_names, load_layout
from .renderer import DEFAULT_DPI, Page, Placement, Renderer, default_renderer, use_fonts
from .view import (
    CERTIFICATE_LOOKUP,
    NO_WORK_TYPE,
    ORGANIZATION_LOOKUP,
    TITLE,
    Assets,
    CertificateView,
    English,
    body_text_zh,
    date_en,
    view_for,
)

__all__ = [
    "CERTIFICATE_LOOKUP",
    "DEFAULT_DPI",
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
    "InvalidImage",
    "Layout",
    "LayoutError",
    "MissingGlyph",
    "Page",
    "Placement",
    "QrDoesNotFit",
    "RenderConfigError",
    "RenderError",
    "Renderer",
    "TextDoesNotFit",
    "body_text_zh",
    "date_en",
    "default_renderer",
    "layout_names",
    "load_layout",
    "use_fonts",
    "view_for",
]
