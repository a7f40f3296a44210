"""Glyph outlines read from the font files (``outlines.py``): a CFF face read in place gives
exactly the outlines, advances and metrics fontTools reads from the whole table; a TrueType
face's outlines come scaled to a 1000-unit em; anything else is refused."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from fontTools.pens.recordingPen import RecordingPen
from fontTools.pens.transformPen import TransformPen
from fontTools.ttLib import TTFont

from issuer.render import FontSet
from issuer.render.errors import FontUnsupported
from issuer.render.fonts import FontFace
from issuer.render.outlines import FaceOutlines, outlines

from .helpers import TRUETYPE_UNITS, truetype_font

SAMPLE = 150


@pytest.mark.parametrize("role", ["serif", "serif-bold", "sans"])
def test_a_cff_face_read_in_place_draws_what_fonttools_draws(role: str) -> None:
    face = FontSet.system().face(role)
    reader = outlines(face)
    with TTFont(face.path, fontNumber=face.index, lazy=True) as font:
        glyph_set, cmap, metrics = font.getGlyphSet(), font.getBestCmap(), font["hmtx"].metrics
        chosen = random.Random(role).sample(sorted(cmap), SAMPLE) + [ord(ch) for ch in "张三丰·：A1"]
        for code_point in chosen:
            name = cmap[code_point]
            glyph_id = face.glyph_id(chr(code_point))
            assert font.getGlyphName(glyph_id) == name
            ours, theirs = RecordingPen(), RecordingPen()
            reader.draw(glyph_id, ours)
            glyph_set[name].draw(theirs)
            assert ours.value == theirs.value, chr(code_point)
            assert reader.advance(glyph_id) == metrics[name][0]


def test_the_metrics_are_the_faces_own() -> None:
    face = FontSet.system().face("serif")
    metrics = outlines(face).metrics
    with TTFont(face.path, fontNumber=face.index, lazy=True) as font:
        head, os2 = font["head"], font["OS/2"]
        assert metrics.postscript_name == font["name"].getDebugName(6) == "NotoSerifCJKsc-Regular"
        assert metrics.bbox == (head.xMin, head.yMin, head.xMax, head.yMax)
        assert (metrics.ascent, metrics.descent) == (os2.sTypoAscender, os2.sTypoDescender)


def test_a_truetype_face_is_read_in_thousandths_of_an_em(tmp_path: Path) -> None:
    path = truetype_font(tmp_path / "fangsong.ttf", "张三丰")
    face = FontFace(str(path))
    reader = FaceOutlines(face)
    scale = 1000 / TRUETYPE_UNITS
    with TTFont(path) as font:
        glyph_set = font.getGlyphSet()
        for ch in "张三丰":
            name = font.getBestCmap()[ord(ch)]
            ours, theirs = RecordingPen(), RecordingPen()
            reader.draw(face.glyph_id(ch), ours)
            glyph_set[name].draw(TransformPen(theirs, (scale, 0, 0, scale, 0, 0)))
            assert ours.value == theirs.value
            assert reader.advance(face.glyph_id(ch)) == pytest.approx(font["hmtx"][name][0] * scale)
    assert reader.metrics.postscript_name == "TestFangSong-Regular"


def test_a_face_with_neither_cff_nor_truetype_outlines_is_refused(tmp_path: Path) -> None:
    path = truetype_font(tmp_path / "fangsong.ttf", "张")
    with TTFont(path) as font:
        del font["glyf"], font["loca"]
        font.save(str(tmp_path / "outlineless.ttf"))
    with pytest.raises(FontUnsupported) as caught:
        FaceOutlines(FontFace(str(tmp_path / "outlineless.ttf")))
    assert caught.value.code == "font_unsupported" and caught.value.kind == "render_config"
    assert "outlineless.ttf" in caught.value.message
