"""Output: PNG at 300 dpi A4 (or 150, 200, 600 dpi; no other), a one-page A4 PDF (``test_pdf*.py``);
the same inputs give the same bytes, from a warm cache or a fresh renderer."""

from __future__ import annotations

import pytest

from issuer.render import Page, Renderer, RenderError, png
from issuer.render.png import band_count
from issuer.render.renderer import COVERAGE_LEVELS, PNG_COMPRESS_LEVEL, STATIC_PNG_LEVEL
from issuer.render.samples import long_view, sample_assets

from .helpers import LAYOUTS, decode, photo, typical


@pytest.mark.parametrize(("name", "size"), [("portrait", (2480, 3508)), ("landscape", (3508, 2480))])
def test_the_png_is_a4_at_300_dpi(renderer: Renderer, name: str, size: tuple[int, int]) -> None:
    image = decode(renderer.encode(typical(english=name == "landscape"), layout=name))
    assert image.format == "PNG" and image.mode == "RGB" and image.size == size
    assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)


@pytest.mark.parametrize(("dpi", "size"), [(150, (1240, 1754)), (200, (1654, 2339))])
def test_every_supported_resolution_gives_an_a4_page(renderer: Renderer, dpi: int, size: tuple[int, int]) -> None:
    image = decode(renderer.encode(typical(), dpi=dpi))
    assert image.size == size
    assert image.info["dpi"] == pytest.approx((dpi, dpi), abs=0.02)  # pHYs: whole pixels a metre


@pytest.mark.parametrize("dpi", [72, 100, 250, 1200])
def test_other_resolutions_are_refused_before_drawing(renderer: Renderer, dpi: int) -> None:
    for attempt in (lambda: renderer.encode(typical(), dpi=dpi), lambda: renderer.check(typical(), dpi=dpi)):
        with pytest.raises(RenderError) as caught:
            attempt()
        assert caught.value.code == "invalid_dpi" and caught.value.kind == "invalid_input"
        assert "150, 200, 300, 600" in caught.value.message and "分辨率" in caught.value.message_zh


@pytest.mark.parametrize("name", LAYOUTS)
def test_the_same_inputs_give_identical_bytes(renderer: Renderer, name: str) -> None:
    view = typical(english=name == "landscape", photo=photo())
    assets = sample_assets()
    fresh = Renderer()
    first_png = renderer.encode(view, layout=name, assets=assets)
    assert renderer.encode(view, layout=name, assets=assets) == first_png  # static layer from the cache
    assert fresh.encode(view, layout=name, assets=assets) == first_png  # built anew
    first_pdf = renderer.encode(view, layout=name, assets=assets, fmt="pdf")
    assert renderer.encode(view, layout=name, assets=assets, fmt="pdf") == first_pdf
    assert fresh.encode(view, layout=name, assets=assets, fmt="pdf") == first_pdf


@pytest.mark.parametrize("name", ["portrait", "landscape", "portrait-long", "landscape-long"])
def test_the_png_holds_exactly_the_drawn_page(pages: dict[str, Page], name: str) -> None:
    """Rows no value touched come compressed from the static layer's cache: the file must
    still decode to every pixel that was drawn."""
    page = pages[name]
    assert 0 < len(page.dirty) < band_count(page.image.height)  # some bands reused, some not
    assert decode(page.png()).tobytes() == page.image.tobytes()


def test_the_png_with_an_organizations_images_holds_exactly_the_drawn_page(renderer: Renderer) -> None:
    page = renderer.page(long_view(), assets=sample_assets())
    assert decode(page.png()).tobytes() == page.image.tobytes()
    assert decode(page.png(compress_level=6)).tobytes() == page.image.tobytes()


def test_rows_no_value_touched_are_compressed_harder_once(pages: dict[str, Page]) -> None:
    """The static layer's bands come at ``STATIC_PNG_LEVEL``: the page is smaller than the
    same image encoded at the per-certificate level throughout, and holds the same pixels."""
    page = pages["portrait"]
    cached = page.png()
    plain = png.encode(page.image, page.dpi, PNG_COMPRESS_LEVEL)
    assert STATIC_PNG_LEVEL > PNG_COMPRESS_LEVEL
    assert len(cached) < 0.95 * len(plain)
    assert decode(cached).tobytes() == decode(plain).tobytes() == page.image.tobytes()


def test_a_renderer_that_caches_no_layer_compresses_every_row_at_its_own_level() -> None:
    """Its layers are built for one page each: compressing them harder would cost every page."""
    page = Renderer(static_cache_bytes=0).page(typical())
    assert page.png() == png.encode(page.image, page.dpi, PNG_COMPRESS_LEVEL)


@pytest.mark.parametrize("name", LAYOUTS)
@pytest.mark.parametrize("key", ["holder_name", "number"])
def test_text_edges_take_a_few_steps_of_coverage_so_the_png_stays_small(
    pages: dict[str, Page], name: str, key: str
) -> None:
    """Glyph edges are still smoothed (more than ink and paper), but in at most
    ``COVERAGE_LEVELS`` steps rather than FreeType's 256: the colours of a value's ink box,
    one ink on white paper, are that many at most."""
    page = pages[name]
    ink = page.placement(key).ink
    assert ink is not None
    colours = page.image.crop(ink).getcolors(1 << 16)
    assert colours is not None
    assert 2 < len(colours) <= COVERAGE_LEVELS
