"""Fixtures of the renderer tests: one renderer per session (its caches are what a worker
process has) and the pages every test looks at, drawn once."""

from __future__ import annotations

import pytest

from issuer.render import Page, Renderer
from issuer.render.samples import long_view

from .helpers import LAYOUTS, photo, typical


@pytest.fixture(scope="session")
def renderer() -> Renderer:
    return Renderer()


@pytest.fixture(scope="session")
def pages(renderer: Renderer) -> dict[str, Page]:
    """Each layout at 300 dpi: ``portrait`` (typical certificate with a photo) and
    ``portrait-long`` (the longest values), and the same for ``landscape``."""
    out = {}
    for layout in LAYOUTS:
        english = layout == "landscape"
        out[layout] = renderer.page(typical(english=english, photo=photo()), layout=layout)
        out[f"{layout}-long"] = renderer.page(long_view(english=english), layout=layout)
    return out
