"""Type 3 fonts: the page's own subset of each face, built from cached glyph outlines.

A Type 3 font is a PDF dictionary whose glyphs are content streams (``/CharProcs``): here
each glyph's outline (``outlines.py``), filled in the current colour (``d0``: the glyph
sets no colour of its own). Only the glyphs a page uses are written, so the font is its
own subset, embedded; ``/ToUnicode`` maps each code back to its character, which is what
makes the text searchable, selectable and extractable.

Codes are single bytes, so a face whose page uses more than 255 characters gets a second
font, and so on. A code stands for a character rather than a glyph: two characters the
face draws alike (a Kangxi radical and its unified ideograph) keep codes of their own,
and so are extracted as what was written.

Writing a subset with fontTools' subsetter costs about half a second a page for a CJK face;
here a glyph is read once per process (``GlyphProcs``) and a page only assembles the
dictionaries (``python -m bench render``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from . import pdf
from .fonts import FontFace
from .outlines import outlines

CODES = 255
"""Codes a font: 1 to 255 (0 is left unused)."""
GLYPH_LEVEL = 9
"""zlib level of a glyph's stream: compressed once per process, so as small as it gets."""
CACHED_GLYPHS = 20_000
"""Glyph streams kept (about 400 bytes each)."""


@dataclass(frozen=True)
class CharProc:
    """A glyph ready to be written: its advance (thousandths of an em) and the body of its
    stream object."""

    advance: float
    body: bytes


class GlyphProcs:
    """Glyph streams per (face, glyph id), built once and kept (least recently used out)."""

    def __init__(self, capacity: int = CACHED_GLYPHS) -> None:
        self._capacity = capacity
        self._procs: OrderedDict[tuple[FontFace, int], CharProc] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, face: FontFace, glyph_id: int) -> CharProc:
        key = (face, glyph_id)
        with self._lock:
            found = self._procs.get(key)
            if found is not None:
                self._procs.move_to_end(key)
                return found
        glyph = outlines(face).glyph(glyph_id)
        content = f"{pdf.num(glyph.advance)} 0 d0\n".encode("ascii") + glyph.path
        proc = CharProc(glyph.advance, pdf.flate_stream(content, level=GLYPH_LEVEL))
        with self._lock:
            self._procs[key] = proc
            while len(self._procs) > self._capacity:
                self._procs.popitem(last=False)
        return proc


@dataclass
class Type3Font:
    """One font of a page: a face and the characters its codes stand for (code = place + 1)."""

    name: str
    """Resource name, e.g. ``T1``."""
    face: FontFace
    chars: list[str] = field(default_factory=list)


@dataclass
class FontCodes:
    """Which font and code each (face, character) of a page is drawn with. The static
    layer's assignment is copied for each page, which only adds its own characters: the
    cached content stream of the static layer keeps its meaning."""

    fonts: list[Type3Font] = field(default_factory=list)
    _codes: dict[tuple[FontFace, str], tuple[Type3Font, int]] = field(default_factory=dict)
    _open: dict[FontFace, Type3Font] = field(default_factory=dict)
    """The face's last font, which takes the next new character while it has codes left."""

    def code(self, face: FontFace, char: str) -> tuple[Type3Font, int]:
        key = (face, char)
        found = self._codes.get(key)
        if found is not None:
            return found
        font = self._open.get(face)
        if font is None or len(font.chars) >= CODES:
            font = Type3Font(f"T{len(self.fonts) + 1}", face)
            self.fonts.append(font)
            self._open[face] = font
        font.chars.append(char)
        self._codes[key] = (font, len(font.chars))
        return self._codes[key]

    def copy(self) -> FontCodes:
        fonts = [Type3Font(f.name, f.face, list(f.chars)) for f in self.fonts]
        by_name = {f.name: f for f in fonts}
        return FontCodes(
            fonts,
            {key: (by_name[font.name], code) for key, (font, code) in self._codes.items()},
            {face: by_name[font.name] for face, font in self._open.items()},
        )


def write_fonts(writer: pdf.Writer, codes: FontCodes, procs: GlyphProcs) -> bytes:
    """Write every font of ``codes`` (with its glyphs, each glyph once a page) and return
    the page's ``/Font`` resource dictionary."""
    written: dict[tuple[FontFace, int], int] = {}
    entries = []
    for font in codes.fonts:
        glyphs = [font.face.glyph_id(ch) for ch in font.chars]
        char_procs = []
        for glyph_id in dict.fromkeys(glyphs):
            key = (font.face, glyph_id)
            if key not in written:
                written[key] = writer.add(procs.get(font.face, glyph_id).body)
            char_procs.append(f"/g{glyph_id} {written[key]} 0 R")
        widths = " ".join(pdf.num(procs.get(font.face, g).advance) for g in glyphs)
        names = "".join(f"/g{g}" for g in glyphs)
        to_unicode = writer.add(pdf.flate_stream(to_unicode_cmap(font.chars)))
        body = (
            f"<</Type/Font/Subtype/Type3/FontBBox[0 0 0 0]/FontMatrix[0.001 0 0 0.001 0 0]"
            f"/CharProcs<<{''.join(char_procs)}>>/Encoding<</Type/Encoding/Differences[1{names}]>>"
            f"/FirstChar 1/LastChar {len(glyphs)}/Widths[{widths}]/Resources<<>>/ToUnicode {to_unicode} 0 R>>"
        )
        entries.append(f"/{font.name} {writer.add(body.encode('ascii'))} 0 R")
    return f"<<{''.join(entries)}>>".encode("ascii")


def to_unicode_cmap(chars: Iterable[str]) -> bytes:
    """A ToUnicode CMap: code ``i + 1`` → ``chars[i]`` (UTF-16BE, so a character beyond
    the BMP, 𠮷 U+20BB7, is a surrogate pair)."""
    pairs = [f"<{code:02X}> <{ch.encode('utf-16-be').hex().upper()}>" for code, ch in enumerate(chars, start=1)]
    blocks = []
    for start in range(0, len(pairs), 100):  # at most 100 entries a block
        chunk = pairs[start : start + 100]
        blocks.append(f"{len(chunk)} beginbfchar\n" + "\n".join(chunk) + "\nendbfchar")
    return (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
        "/CIDSystemInfo<</Registry(Adobe)/Ordering(UCS)/Supplement 0>>def\n"
        "/CMapName/Adobe-Identity-UCS def /CMapType 2 def\n"
        "1 begincodespacerange <00> <FF> endcodespacerange\n"
        + "\n".join(blocks)
        + "\nendcmap CMapName currentdict /CMap defineresource pop end end"
    ).encode("ascii")
