"""An organization's images: a background under everything, a logo in its box, a seal over
the organization name and date (ink: the text stays readable through it); the photo in
its 1-inch box, or an empty frame."""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops

from issuer.render import Assets, InvalidImage, Page, Renderer
from issuer.render.samples import placeholder_background, placeholder_logo, placeholder_seal

from .helpers import inside, photo, typical

DPI = 150


def _page(renderer: Renderer, assets: Assets | None = None, **kwargs: object) -> Page:
    return renderer.page(typical(**kwargs), assets=assets, dpi=DPI)  # type: ignore[arg-type]


def _box(page: Page, mm: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    x, y, w, h = (round(v * DPI / 25.4) for v in mm)
    return (x, y, w, h)


def _changed(a: Page, b: Page) -> tuple[int, int, int, int] | None:
    return ImageChops.difference(a.image, b.image).getbbox()


@pytest.fixture(scope="module")
def plain(renderer: Renderer) -> Page:
    return _page(renderer)


def test_the_background_is_drawn_under_everything(renderer: Renderer, plain: Page) -> None:
    page = _page(renderer, Assets(background=placeholder_background()))
    corner = (10, 10)  # outside the frame
    assert plain.image.getpixel(corner) == (255, 255, 255)
    assert page.image.getpixel(corner) != (255, 255, 255)
    qr = page.placement("qr").ink
    assert qr is not None
    assert page.image.crop(qr).convert("L").getextrema() == (0, 255)  # the code keeps its white quiet zone


def test_the_logo_is_drawn_in_its_box_and_nowhere_else(renderer: Renderer, plain: Page) -> None:
    page = _page(renderer, Assets(logo=placeholder_logo()))
    assert page.layout.logo is not None
    changed = _changed(plain, page)
    assert changed is not None and inside(changed, _box(page, page.layout.logo))


def test_the_seal_is_drawn_over_the_organization_and_date_as_ink(renderer: Renderer, plain: Page) -> None:
    page = _page(renderer, Assets(seal=placeholder_seal("某某职业技能评价机构")))
    assert page.layout.seal is not None
    seal_box = _box(page, page.layout.seal.box)
    changed = _changed(plain, page)
    assert changed is not None and inside(changed, seal_box)
    org = page.placement("organization_name").ink
    assert org is not None and changed[0] < org[2] and changed[2] > org[0] and changed[1] < org[3]
    x, y, w, h = seal_box
    reds = [page.image.getpixel((x + w // 2, y + 2 + i)) for i in range(6)]  # the ring at the top
    assert any(isinstance(p, tuple) and p[0] > 150 and p[1] < 120 and p[2] < 120 for p in reds)
    # Text under the seal stays dark: the seal multiplies, it does not paint over.
    area = (x, y, x + w, y + h)
    text = plain.image.convert("L").crop(area)
    sealed = page.image.convert("L").crop(area)
    before, after = text.tobytes(), sealed.tobytes()
    darkest = [i for i, v in enumerate(before) if v < 60]
    assert darkest and all(after[i] < 80 for i in darkest)


def test_the_photo_fills_its_one_inch_box_or_the_box_is_an_empty_frame(renderer: Renderer, plain: Page) -> None:
    box = plain.placement("photo").box_px
    assert plain.placement("photo").box_mm[2:] == (25, 35)
    x, y, w, h = box
    assert plain.image.crop((x + 1, y + 1, x + w - 1, y + h - 1)).convert("L").getextrema() == (255, 255)
    frame = plain.image.convert("L").crop((x - 2, y - 2, x + w + 2, y + h + 2)).getextrema()
    assert frame[0] < 200  # the frame line
    page = _page(renderer, photo=photo())
    changed = _changed(plain, page)
    assert changed is not None and inside(changed, box)


def test_a_photo_with_transparency_or_rotation_is_printed_upright_on_white(renderer: Renderer) -> None:
    import io

    im = Image.new("RGBA", (350, 250), (0, 0, 0, 0))  # landscape pixels, rotated by EXIF to portrait
    im.paste((200, 30, 30, 255), (0, 0, 175, 250))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    out = io.BytesIO()
    im.save(out, "PNG", exif=exif)
    page = _page(renderer, photo=out.getvalue())
    x, y, w, h = page.placement("photo").box_px
    top, bottom = page.image.getpixel((x + w // 2, y + 3)), page.image.getpixel((x + w // 2, y + h - 4))
    assert {top, bottom} == {(255, 255, 255), (200, 30, 30)}


@pytest.mark.parametrize("what", ["background", "logo", "seal"])
def test_an_image_that_does_not_decode_is_refused(renderer: Renderer, what: str) -> None:
    with pytest.raises(InvalidImage) as caught:
        _page(renderer, Assets(**{what: b"not an image"}))
    assert caught.value.code == "invalid_image"


def test_a_photo_that_does_not_decode_is_refused(renderer: Renderer) -> None:
    with pytest.raises(InvalidImage):
        _page(renderer, photo=b"\xff\xd8 not a jpeg")


def test_the_static_layer_cache_tells_organizations_apart(renderer: Renderer) -> None:
    seal_a = Assets(seal=placeholder_seal("甲机构"))
    seal_b = Assets(seal=placeholder_seal("乙机构"))
    first = renderer.encode(typical(), assets=seal_a, dpi=DPI)
    assert renderer.encode(typical(), assets=seal_b, dpi=DPI) != first
    assert renderer.encode(typical(), assets=seal_a, dpi=DPI) == first


def test_check_refuses_an_image_that_does_not_decode_before_anything_is_drawn(renderer: Renderer) -> None:
    renderer.check(typical(photo=photo()), assets=Assets(seal=placeholder_seal("甲机构")))
    with pytest.raises(InvalidImage):
        renderer.check(typical(photo=b"not a photo"))
    with pytest.raises(InvalidImage):
        renderer.check(typical(), assets=Assets(logo=b"not a logo"))
