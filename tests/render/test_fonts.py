"""Fonts: the SC faces of Noto Serif/Sans CJK found on the system or given by path, and
a character the font cannot draw refused before anything is drawn (no 豆腐块)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from hypothesis import given, settings
from hypothesis import strategies as st

from issuer.render import FontFace, FontNotFound, FontSet, MissingGlyph, Renderer

from .helpers import typical

RARE = "\U0002a6d6"  # 𪛖, CJK Extension B: not in Noto CJK SC
EMOJI = "\U0001f600"
SERIF = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"
SANS = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
KERNED = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
"""A face with a legacy ``kern`` table (``make fonts`` installs fonts-dejavu-core)."""
NAMES = st.text(
    st.sampled_from("张王李赵阿卜杜热依木江·买提欧阳娜丽AVTaWoy.,-（）123 " + "".join(map(chr, range(0x4E00, 0x4E80)))),
    max_size=24,
)


def test_the_system_fonts_are_the_simplified_chinese_faces_of_noto_cjk() -> None:
    fonts = FontSet.system()
    assert fonts.face("serif").name == "Noto Serif CJK SC"
    assert fonts.face("serif-bold").name == "Noto Serif CJK SC Bold"
    assert fonts.face("sans").name == "Noto Sans CJK SC"
    assert fonts.face("serif").path.endswith("NotoSerifCJK-Regular.ttc")


def test_the_test_characters_really_are_missing_from_the_font() -> None:
    face = FontSet.system().face("serif")
    with TTFont(face.path, fontNumber=face.index, lazy=True) as font:
        cmap = font.getBestCmap()
    assert ord(RARE) not in cmap and ord(EMOJI) not in cmap
    assert ord("张") in cmap and ord("·") in cmap


@pytest.mark.parametrize(
    ("field", "value", "char", "field_zh"),
    [
        ("holder_name", f"张{RARE}", RARE, "姓名"),
        ("work_type", f"维修电工{EMOJI}", EMOJI, "工种/职业方向"),
        ("organization_name", f"某{RARE}公司", RARE, "证书正文"),  # the body text names it first
    ],
)
def test_a_character_without_a_glyph_is_refused_naming_it(
    renderer: Renderer, field: str, value: str, char: str, field_zh: str
) -> None:
    view = replace(typical(), **{field: value})
    if field == "organization_name":
        view = replace(view, body_text=f"本证书由{value}颁发。")
    code_point = f"U+{ord(char):04X}"
    for attempt in (lambda: renderer.page(view, dpi=150), lambda: renderer.check(view)):
        with pytest.raises(MissingGlyph) as caught:
            attempt()
        error = caught.value
        assert error.code == "missing_glyph" and error.kind == "invalid_input"
        assert code_point in error.message and char in error.message and "Noto Serif CJK SC" in error.message
        assert code_point in error.message_zh and f"“{char}”" in error.message_zh and field_zh in error.message_zh
        assert error.errors["code_point"] == code_point


def test_fonts_can_be_given_by_path_and_a_collection_face_by_index(tmp_path: Path) -> None:
    explicit = FontSet.from_paths(SERIF, sans=SANS)
    assert explicit.face("serif").name == "Noto Serif CJK SC"  # the SC face picked by its name
    assert Renderer(explicit).encode(typical(), dpi=150) == Renderer().encode(typical(), dpi=150)
    japanese = FontSet.from_config({"serif": f"{SERIF}#0"})
    assert japanese.face("serif").name == "Noto Serif CJK JP"
    assert Renderer(japanese).encode(typical(), dpi=150) != Renderer().encode(typical(), dpi=150)
    with pytest.raises(FontNotFound):
        FontSet.from_paths(tmp_path / "missing.ttf")
    with pytest.raises(FontNotFound):
        FontSet.from_config({"serif": SERIF, "script": SANS})


@pytest.mark.parametrize("role", ["serif", "sans-bold"])
def test_the_glyph_coverage_is_what_fonttools_reads_from_the_cmap(role: str) -> None:
    face = FontSet.system().face(role)
    with TTFont(face.path, fontNumber=face.index, lazy=True) as font:
        expected = {cp for cp, glyph in font.getBestCmap().items() if glyph != ".notdef"}
    probe = {*expected, *range(0x2A6D0, 0x2A6E0), 0x1F600, 0x10FFFF, 0, 0x20}
    assert {cp for cp in probe if face.missing(chr(cp)) is None} == expected


@settings(max_examples=200, deadline=None)
@given(text=NAMES, role=st.sampled_from(["serif", "sans-bold"]), px=st.sampled_from([20.83, 41.67, 58.33]))
def test_a_width_is_what_pillow_measures_for_the_whole_text(text: str, role: str, px: float) -> None:
    """Noto CJK has no legacy kern table: a text's width is the sum of its characters'
    advances, kept per character, and equal to Pillow's measure of the whole text."""
    face = FontSet.system().face(role)
    assert face.measure(px)(text) == face.font(px).getlength(text)


def test_a_face_that_kerns_is_measured_by_pillow_for_each_text() -> None:
    face = FontFace(KERNED)
    font = face.font(40)
    assert font.getlength("AV") < font.getlength("A") + font.getlength("V")  # kerned pair
    assert face.measure(40)("AVTo") == font.getlength("AVTo")
