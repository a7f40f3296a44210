"""The CFF font programs the PDF embeds (``cff.py``), read back by fontTools: CID-keyed
(Adobe-Identity), glyph ``i`` is CID ``i`` and the ``i``-th charstring given, whatever the
size of the program."""

from __future__ import annotations

import io

from fontTools.cffLib import CFFFontSet
from fontTools.pens.recordingPen import RecordingPen

from issuer.render import FontSet
from issuer.render.cff import NOTDEF, charstring, font_program
from issuer.render.outlines import outlines


def _read(program: bytes) -> CFFFontSet:
    cff = CFFFontSet()
    cff.decompile(io.BytesIO(program), None)
    return cff


def test_glyph_i_of_the_program_is_cid_i_and_the_ith_charstring() -> None:
    face = FontSet.system().face("serif")
    reader = outlines(face)
    chars = "张三丰A·"
    charstrings = [charstring(reader, face.glyph_id(ch)) for ch in chars]
    cff = _read(font_program("ABCDEF+Test-Regular", charstrings, (-100, -200, 1100, 900)))
    assert cff.fontNames == ["ABCDEF+Test-Regular"]
    top = cff[cff.fontNames[0]]
    assert top.ROS == ("Adobe", "Identity", 0) and top.CIDCount == len(chars) + 1
    assert top.FontBBox == [-100, -200, 1100, 900]
    assert top.charset == [".notdef", *(f"cid{i:05d}" for i in range(1, len(chars) + 1))]
    assert top.CharStrings[".notdef"].bytecode == NOTDEF
    for i, ch in enumerate(chars, start=1):
        glyph = top.CharStrings[f"cid{i:05d}"]
        assert glyph.bytecode == charstrings[i - 1]
        pen = RecordingPen()
        glyph.draw(pen)
        assert pen.value, ch
        assert glyph.width == round(reader.advance(face.glyph_id(ch)))  # the advance, as hmtx has it


def test_a_program_larger_than_64_kb_is_read_whole() -> None:
    """Offsets in the CharStrings INDEX take three bytes past 64 KiB."""
    face = FontSet.system().face("serif")
    reader = outlines(face)
    chars = [chr(cp) for cp in range(0x4E00, 0x4E00 + 400) if face.glyph_id(chr(cp))]
    charstrings = [charstring(reader, face.glyph_id(ch)) for ch in chars]
    program = font_program("ABCDEF+Test-Regular", charstrings, (0, 0, 1000, 1000))
    assert len(program) > 1 << 16
    top = _read(program)[0]
    assert len(top.CharStrings) == len(chars) + 1
    assert top.CharStrings[f"cid{len(chars):05d}"].bytecode == charstrings[-1]


def test_an_empty_program_holds_only_notdef() -> None:
    top = _read(font_program("ABCDEF+Test-Regular", [], (0, 0, 0, 0)))[0]
    assert top.CIDCount == 1 and list(top.CharStrings.keys()) == [".notdef"]
