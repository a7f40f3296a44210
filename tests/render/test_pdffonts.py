"""The PDF's fonts (``pdffonts.py``): each face the page uses is one composite font whose
CFF program (embedded, subset) holds exactly the page's characters of that face, each the
face's own outline, and whose ``/ToUnicode`` map gives every character back, rare ones and
look-alikes included; a configured TrueType face is embedded the same way."""

from __future__ import annotations

import ctypes
import io
import re
import zlib
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import pypdfium2
import pypdfium2.raw as pdfium_c
from fontTools.cffLib import CFFFontSet
from fontTools.pens.recordingPen import RecordingPen
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import ImageChops

from issuer.render import FontSet, Renderer
from issuer.render.outlines import outlines

from .helpers import pdf_text, rasterize, truetype_font, typical

RARE = "𠮷䶮𡈼龘"
"""Beyond the basic block (CJK Extension B 𠮷 U+20BB7 and 𡈼 U+2123C, Extension A 䶮 U+4DAE)
and rare in the basic block (龘): all in Noto Serif CJK SC."""
LOOK_ALIKES = ("⼀", "一")
"""The Kangxi radical U+2F00 and the ideograph U+4E00: one glyph in the face."""
FONT_FILES = re.compile(rb"/FontFile3 (\d+) 0 R")


def _objects(data: bytes) -> dict[int, bytes]:
    return {int(m[1]): m[2] for m in re.finditer(rb"^(\d+) 0 obj\n(.*?)\nendobj$", data, re.S | re.M)}


def _stream(body: bytes) -> bytes:
    raw = body[body.index(b">>stream\n") + 9 : body.rindex(b"\nendstream")]
    return zlib.decompress(raw) if b"/FlateDecode" in body[: body.index(b">>stream\n")] else raw


def _ref(body: bytes, key: bytes) -> int:
    found = re.search(rb"/%s\s*\[?(\d+) 0 R" % key, body)
    assert found is not None, key
    return int(found[1])


def _fonts(data: bytes) -> list[tuple[str, dict[int, str], CFFFontSet]]:
    """Each Type 0 font of the page: its base font name, its ToUnicode map (code →
    character) and its embedded CFF program, read from the file's objects."""
    objects = _objects(data)
    out = []
    for body in objects.values():
        if not body.startswith(b"<</Type/Font/Subtype/Type0"):
            continue
        name = re.search(rb"/BaseFont/([^/]+)/", body)
        assert name is not None
        cmap = _stream(objects[_ref(body, b"ToUnicode")]).decode("ascii")
        pairs = re.findall(r"<(\w+)><(\w+)>", "".join(re.findall(r"beginbfchar\n(.*?)\nendbfchar", cmap, re.S)))
        codes = {int(code, 16): bytes.fromhex(text).decode("utf-16-be") for code, text in pairs}
        cid_font = objects[_ref(body, b"DescendantFonts")]
        assert b"/Subtype/CIDFontType0/" in cid_font
        descriptor = objects[_ref(cid_font, b"FontDescriptor")]
        program = objects[_ref(descriptor, b"FontFile3")]
        assert b"/Subtype/CIDFontType0C" in program
        cff = CFFFontSet()
        cff.decompile(io.BytesIO(_stream(program)), None)
        out.append((name[1].decode("ascii"), codes, cff))
    return out


def _outline(recording: list[tuple[str, tuple[Any, ...]]]) -> list[tuple[str, tuple[Any, ...]]]:
    """A glyph's drawing with every point that lies on a straight line between its
    neighbours left out (a charstring writer may merge such lines: the same outline)."""
    out: list[tuple[str, tuple[Any, ...]]] = []
    for op, args in recording:
        if op == "lineTo" and len(out) >= 2 and out[-1][0] == "lineTo" and out[-2][1]:
            (ax, ay), (bx, by), (cx, cy) = out[-2][1][-1], out[-1][1][0], args[0]
            across = (bx - ax) * (cy - by) - (by - ay) * (cx - bx)
            along = (bx - ax) * (cx - bx) + (by - ay) * (cy - by)
            if across == 0 and along > 0:
                out.pop()
        out.append((op, args))
    return out


def test_every_text_object_is_drawn_in_an_embedded_subset_font(renderer: Renderer) -> None:
    data = renderer.encode(typical(), "pdf")
    page = pypdfium2.PdfDocument(data)[0]
    texts = list(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_TEXT]))
    assert len(texts) > 20
    names = set()
    for text in texts:
        font = pdfium_c.FPDFTextObj_GetFont(text.raw)
        assert pdfium_c.FPDFFont_GetIsEmbedded(font) == 1
        buffer = ctypes.create_string_buffer(128)
        pdfium_c.FPDFFont_GetBaseFontName(font, buffer, 128)
        names.add(buffer.value.decode("ascii"))
    assert {re.sub("^[A-Z]{6}\\+", "", n) for n in names} == {
        "NotoSerifCJKsc-Regular",
        "NotoSerifCJKsc-Bold",
        "NotoSansCJKsc-Regular",
    }
    assert all(re.match("^[A-Z]{6}\\+", n) for n in names)
    # Every font resource is one of these, none a font the viewer would have to supply.
    assert data.count(b"/Type/Font/") == 2 * len(names) and data.count(b"/FontFile3 ") == len(names)
    assert b"/Type1" not in data and b"/TrueType" not in data and b"/Type3" not in data


def test_each_font_program_holds_the_pages_characters_each_the_faces_own_glyph(renderer: Renderer) -> None:
    view = typical()
    data = renderer.encode(view, "pdf")
    faces = {outlines(face).metrics.postscript_name: face for _, face in FontSet.system().faces}
    fonts = _fonts(data)
    assert len(fonts) == 3
    for name, codes, cff in fonts:
        face = faces[name.split("+", 1)[1]]
        top = cff[cff.fontNames[0]]
        assert top.ROS == ("Adobe", "Identity", 0) and top.CIDCount == len(codes) + 1
        assert sorted(codes) == list(range(1, len(codes) + 1))
        for code, char in codes.items():
            embedded, original = RecordingPen(), RecordingPen()
            top.CharStrings[f"cid{code:05d}"].draw(embedded)
            outlines(face).draw(face.glyph_id(char), original)
            assert _outline(embedded.value) == _outline(original.value), char
    shown = "".join(codes for _, codes_map, _ in fonts for codes in codes_map.values())
    assert set(view.holder_name) <= set(shown) and set(view.number) <= set(shown)


def test_rare_characters_and_look_alikes_are_extracted_as_written(renderer: Renderer) -> None:
    serif = FontSet.system().face("serif")
    assert serif.missing(RARE + "".join(LOOK_ALIKES)) is None
    assert serif.glyph_id(LOOK_ALIKES[0]) == serif.glyph_id(LOOK_ALIKES[1])
    name = f"吉{RARE[0]}{RARE[1]}"
    work_type = f"{LOOK_ALIKES[0]}{LOOK_ALIKES[1]}{RARE[2]}{RARE[3]}"
    text = pdf_text(renderer.encode(replace(typical(), holder_name=name, work_type=work_type), "pdf"))
    assert name in text.splitlines() and work_type in text.splitlines()


@cache
def _alphabet() -> tuple[str, ...]:
    """Characters the serif face (the values' face) has glyphs for: the CJK blocks and
    Extension A and B as fonts.py reads its coverage, the Kangxi radicals, the name dot."""
    face = FontSet.system().face("serif")
    blocks = [range(0x4E00, 0xA000), range(0x3400, 0x4DC0), range(0x20000, 0x2A6E0), range(0x2F00, 0x2FD6)]
    return (*(chr(cp) for block in blocks for cp in block if face.glyph_id(chr(cp))), "·")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.text(st.sampled_from(_alphabet()), min_size=1, max_size=20).filter(lambda s: s.strip("·")),
    occupation=st.text(st.sampled_from(_alphabet()), min_size=1, max_size=19).filter(lambda s: s.strip("·")),
)
def test_any_name_and_occupation_the_font_covers_is_extracted(renderer: Renderer, name: str, occupation: str) -> None:
    view = replace(typical(), holder_name=name, occupation_name=occupation)
    text = pdf_text(renderer.encode(view, "pdf")).replace("\r\n", "")
    assert name in text and occupation in text


def test_a_truetype_face_is_embedded_as_cff_and_drawn_like_the_png(tmp_path: Path) -> None:
    """A configured FangSong is usually TrueType: its quadratic outlines are embedded as a
    CFF program like any face, text extracts, and the page looks like its PNG."""
    view = typical()
    system = Renderer(FontSet.system()).compose(view, dpi=150)
    serif = FontSet.system().face("serif")
    fitted = [*system.static.labels.values(), *system.static.texts.values(), *system.values.values()]
    chars = {ch for block in fitted for f in block if f.face == serif for run in f.runs for ch in run.text}
    font = truetype_font(tmp_path / "fangsong.ttf", "".join(sorted(chars)))
    fonts = FontSet.from_paths(font)
    assert fonts.face("serif").name == "Test FangSong"
    page = Renderer(fonts).page(view, dpi=150)
    data = page.pdf()
    names = [name for name, _, _ in _fonts(data)]
    assert any(name.endswith("+TestFangSong-Regular") for name in names)
    assert view.holder_name in pdf_text(data) and view.number in pdf_text(data)
    difference = ImageChops.difference(rasterize(data, page.image.size, 150), page.image).convert("L").histogram()
    assert sum(level * count for level, count in enumerate(difference)) / sum(difference) <= 2.5
