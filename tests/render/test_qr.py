"""The QR code on the certificate: error correction M, a 4-module quiet zone, whole pixels
per module and at least 0.6 mm per module at every resolution images are drawn at, for
every QR text the check at issuance lets through; a scanner reads it back from the 300-dpi
PNG, from a 100-dpi copy and from a JPEG of that copy, and the text verifies offline."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
import segno
import zxingcpp
from PIL import Image

from issuer.core.verify import verify
from issuer.render import (
    DPIS,
    CertificateView,
    Page,
    QrDoesNotFit,
    QrTooLarge,
    Renderer,
    alphanumeric_capacity,
    check_qr_text,
    load_layout,
    max_qr_version,
    qr_version,
)
from issuer.render.compose import px_box, qr_code
from issuer.render.samples import LONG_NAME, long_view, max_qr_view, sample_assets
from tests import factories

from .helpers import LAYOUTS, decode, layout_variant, typical, world

MAX_VERSION = 15
"""Both layouts: 85 modules with the quiet zone in a 58 mm box, 0.677 mm a module at 150,
300 and 600 dpi and 0.635 mm at 200 dpi."""


def _read(image: Image.Image) -> list[zxingcpp.Barcode]:
    return [b for b in zxingcpp.read_barcodes(image) if b.format == zxingcpp.BarcodeFormat.QRCode]


def _copies(page: Page) -> dict[str, Image.Image]:
    full = decode(page.png())
    small = full.resize((round(full.width / 3), round(full.height / 3)), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, "JPEG", quality=60)
    return {"300 dpi PNG": full, "100 dpi copy": small, "100 dpi JPEG q60": decode(out.getvalue())}


def _segno_version(text: str) -> int:
    return int(segno.make(text, error="m", boost_error=False, micro=False, mask=0).version)


@pytest.mark.parametrize("name", [*LAYOUTS, "portrait-long", "landscape-long"])
def test_a_scanner_reads_the_signed_text_back_and_it_verifies_offline(pages: dict[str, Page], name: str) -> None:
    page = pages[name]
    expected = page.placement("qr").text
    for what, image in _copies(page).items():
        found = _read(image)
        assert [b.text for b in found] == [expected], what
        assert found[0].ec_level == "M", what
        # The version the limits are computed for (zxing-cpp draws it, segno sizes it).
        assert found[0].extra["Version"] == str(qr_version(expected)) == str(_segno_version(expected)), what
        verdict = verify(found[0].text, world().store, at=factories.NOW)
        assert verdict.valid, (what, verdict.failed_check)
        assert verdict.credential is not None and str(verdict.credential.number) in page.number


@pytest.mark.parametrize("name", LAYOUTS)
def test_the_code_has_whole_pixels_per_module_a_quiet_zone_and_at_least_0_6_mm_per_module(
    pages: dict[str, Page], name: str
) -> None:
    page = pages[name]
    qr = page.placement("qr")
    assert qr.text is not None and qr.ink is not None and qr.modules is not None and qr.module_mm is not None
    symbol = segno.make(qr.text, error="m", boost_error=False)
    assert symbol.error == "M" and symbol.mode == "alphanumeric"
    assert qr.modules == symbol.symbol_size(border=4)[0]
    left, top, right, bottom = qr.ink
    assert right - left == bottom - top
    module_px, rest = divmod(right - left, qr.modules)
    assert rest == 0 and module_px == round(qr.module_mm * page.dpi / 25.4)
    assert qr.module_mm >= 0.6
    # The quiet zone is white, whatever is printed around the code.
    gray = page.image.convert("L")
    zone = 4 * module_px
    for strip in (
        (left, top, right, top + zone),
        (left, bottom - zone, right, bottom),
        (left, top, left + zone, bottom),
        (right - zone, top, right, bottom),
    ):
        assert gray.crop(strip).getextrema() == (255, 255)


@pytest.mark.parametrize("name", LAYOUTS)
def test_the_largest_code_a_layout_accepts_gets_0_6_mm_modules_at_every_resolution(
    renderer: Renderer, name: str
) -> None:
    assert DPIS == (150, 200, 300, 600)
    assert load_layout(name).min_module == 0.6
    assert max_qr_version(name) == MAX_VERSION
    view = max_qr_view(name)
    # The worst case is the worst: a QR text within two characters of the version's capacity.
    assert alphanumeric_capacity(MAX_VERSION) - 2 <= len(view.qr_text) <= alphanumeric_capacity(MAX_VERSION)
    assert check_qr_text(view.qr_text, name) == MAX_VERSION == _segno_version(view.qr_text)
    for dpi in DPIS:
        renderer.check(view, layout=name, dpi=dpi)
        qr = renderer.page(view, layout=name, dpi=dpi).placement("qr")
        assert qr.modules == 17 + 4 * MAX_VERSION + 8 and qr.module_mm is not None
        assert qr.module_mm >= 0.6, (dpi, qr.module_mm)
        assert qr.ink is not None and (qr.ink[2] - qr.ink[0]) % qr.modules == 0


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    """Whether boxes ``(x, y, width, height)`` overlap."""
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


@pytest.mark.parametrize("name", LAYOUTS)
def test_the_qr_box_overlaps_nothing_and_stays_inside_the_frame(renderer: Renderer, name: str) -> None:
    spec = load_layout(name)
    qr = spec.field("qr")
    assert qr is not None
    others = [(f.key, f.box) for f in spec.fields if f.key != "qr"]
    others += [(f"{f.key}.label", f.label_box) for f in spec.fields if f.label_box is not None]
    others += [("logo", spec.logo), ("seal", spec.seal.box if spec.seal else None)]
    for where, box in others:
        assert box is None or not _overlap(qr.box, box), where
    inner = max(line.inset + line.width for line in spec.frame) + 2
    x, y, w, h = qr.box
    assert x >= inner and y >= inner and x + w <= spec.width - inner and y + h <= spec.height - inner
    # And on the worst page drawn, no ink of another field comes within 1 mm of the code.
    page = renderer.page(max_qr_view(name), layout=name, assets=sample_assets())
    code = page.placement("qr").ink
    assert code is not None
    margin = round(page.dpi / 25.4)
    near = (code[0] - margin, code[1] - margin, code[2] - code[0] + 2 * margin, code[3] - code[1] + 2 * margin)
    for p in page.placements:
        for ink in (p.ink, p.label_ink):
            if p.key != "qr" and ink is not None:
                assert not _overlap(near, (ink[0], ink[1], ink[2] - ink[0], ink[3] - ink[1])), p.key


def test_one_version_more_does_not_get_0_6_mm_at_some_resolution() -> None:
    """The published limit is the largest: version 16 gets 0.593 mm at 300 dpi."""
    for name in LAYOUTS:
        spec = load_layout(name)
        f = spec.field("qr")
        assert f is not None
        sizes = [int(px_box(f.box, dpi)[2] // (17 + 4 * (MAX_VERSION + 1) + 8)) * 25.4 / dpi for dpi in DPIS]
        assert min(sizes) < 0.6, sizes


def test_the_limit_over_all_layouts_is_the_smallest() -> None:
    assert max_qr_version() == min(max_qr_version(name) for name in LAYOUTS) == MAX_VERSION


def test_the_capacity_table_is_segnos() -> None:
    assert alphanumeric_capacity(10) == 311 and alphanumeric_capacity(MAX_VERSION) == 600
    for version in range(1, 41):
        capacity = alphanumeric_capacity(version)
        assert _segno_version("A" * capacity) == version
        if version < 40:
            assert _segno_version("A" * (capacity + 1)) == version + 1


def test_the_version_of_a_text_is_segnos() -> None:
    texts = [typical().qr_text, long_view().qr_text, max_qr_view().qr_text, "https://lower.case/x", "证书"]
    for text in texts:
        assert qr_version(text) == _segno_version(text)
    assert qr_version("A" * 3392) == 41


def _with_name(view: CertificateView, name: str) -> CertificateView:
    """``view`` (of ``max_qr_view``) with the QR text of its credential given another holder name."""
    cred = factories.credential(name=name, work_type=view.work_type, level=1, number="Y000123000001261999999")
    return replace(view, holder_name=name, qr_text=world().qr(cred))


def test_a_longer_text_is_refused_before_drawing_with_what_to_shorten(renderer: Renderer) -> None:
    view = max_qr_view()
    longer = _with_name(view, view.holder_name + "阿")
    assert qr_version(longer.qr_text) == MAX_VERSION + 1
    for attempt in (
        lambda: check_qr_text(longer.qr_text, "portrait"),
        lambda: check_qr_text(longer.qr_text),
        lambda: renderer.check(longer, layout="landscape"),
        lambda: renderer.page(longer),
    ):
        with pytest.raises(QrTooLarge) as caught:
            attempt()
        error = caught.value
        assert error.code == "qr_too_large" and error.kind == "invalid_input"
        assert error.errors["version"] == MAX_VERSION + 1 and error.errors["max_version"] == MAX_VERSION
        assert error.errors["max_chars"] == 600 and error.errors["chars"] == len(longer.qr_text)
        assert error.shorten_by == 1
        assert f"version {MAX_VERSION + 1}" in error.message and f"at most version {MAX_VERSION}" in error.message
        assert "about 1 Chinese" in error.message and "0.6 mm" in error.message
        assert f"版本{MAX_VERSION + 1}" in error.message_zh and f"最多容纳版本{MAX_VERSION}" in error.message_zh
        assert "缩短约1个汉字" in error.message_zh


def test_the_estimate_of_what_to_shorten_is_about_right() -> None:
    view = max_qr_view()
    assert view.work_type is not None
    base = factories.credential(name=LONG_NAME, work_type=view.work_type, level=1, number="Y000123000001261999999")
    for extra in (3, 10, 25, 40):
        name = (view.holder_name + "阿" * extra)[:64]
        with pytest.raises(QrTooLarge) as caught:
            check_qr_text(world().qr(replace(base, holder_name=name)))
        n = caught.value.shorten_by
        assert check_qr_text(world().qr(replace(base, holder_name=name[:-n]))) == MAX_VERSION, (extra, n)
        with pytest.raises(QrTooLarge):  # and no more than one character too many
            check_qr_text(world().qr(replace(base, holder_name=name[: -n + 2])))


def test_the_longest_names_the_api_takes_are_refused() -> None:
    cred = factories.credential(name="阿" * 64, work_type="工" * 64)
    with pytest.raises(QrTooLarge) as caught:
        check_qr_text(world().qr(cred))
    assert caught.value.version == 19 and caught.value.shorten_by >= 55


def test_a_qr_box_too_small_gives_a_lower_limit(renderer: Renderer, tmp_path: Path) -> None:
    small = load_layout(layout_variant(tmp_path, "portrait", "box = [25, 186, 58, 58]", "box = [25, 186, 45, 45]"))
    assert max_qr_version(small) == 10  # 65 modules at 8 px (300 dpi) are 44.0 mm; 69 would be 46.7
    view = long_view()  # version 13
    with pytest.raises(QrTooLarge) as caught:
        renderer.page(view, layout=small)
    assert caught.value.max_version == 10 and caught.value.errors["layout"] == "portrait"
    with pytest.raises(QrTooLarge):
        renderer.check(view, layout=small)
    renderer.check(typical(), layout=small)


def test_drawing_a_code_smaller_than_the_minimum_module_is_still_refused() -> None:
    """``QrDoesNotFit`` stays as the drawing's own guard (``page`` checks the text first)."""
    spec = load_layout("portrait")
    f = spec.field("qr")
    assert f is not None
    text = long_view().qr_text
    qr_code(text, px_box(f.box, 300), f.box, 300, spec)
    with pytest.raises(QrDoesNotFit) as caught:
        qr_code(text, px_box((0, 0, 45, 45), 300), (0, 0, 45, 45), 300, spec)
    assert caught.value.code == "qr_does_not_fit" and "0.6" in caught.value.message
