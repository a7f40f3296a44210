"""The page's fonts: for each face its text uses, a composite (Type 0) font whose CIDFont
embeds a CFF program of exactly the glyphs the page draws (``cff.py``).

Text is written in two-byte codes (``/Identity-H``); a code is the CID, and the glyph, of
one character of the face on this page, numbered in the order the page first uses them:
the static layer's characters first, so that its cached content stream keeps its meaning
on every page, then this certificate's. A code stands for a character rather than a
glyph: two characters the face draws alike (a Kangxi radical and its unified ideograph)
keep codes of their own, and so are extracted as what was written.

``/ToUnicode`` maps each code back to its character, which is what makes the text
searchable, selectable and extractable; ``/W`` gives each glyph's advance (the PNG's
whole-pixel advances are the content stream's business, ``pdfpage.py``).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .cff import charstring, font_program
from .fonts import FontFace
from .outlines import outlines
from .pdf import Objects, flate_stream, num, nums

CACHED_GLYPHS = 20_000
"""Charstrings kept (about 250 bytes each)."""
FONT_LEVEL = 6
"""zlib level of a page's font programs."""


@dataclass(frozen=True)
class Glyph:
    """A glyph ready to be embedded: its advance (thousandths of an em) and charstring."""

    advance: float
    charstring: bytes


class Glyphs:
    """Charstrings per (face, glyph id), made once and kept (least recently used out)."""

    def __init__(self, capacity: int = CACHED_GLYPHS) -> None:
        self._capacity = capacity
        self._glyphs: OrderedDict[tuple[FontFace, int], Glyph] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, face: FontFace, glyph_id: int) -> Glyph:
        key = (face, glyph_id)
        with self._lock:
            found = self._glyphs.get(key)
            if found is not None:
                self._glyphs.move_to_end(key)
                return found
        reader = outlines(face)
        glyph = Glyph(reader.advance(glyph_id), charstring(reader, glyph_id))
        with self._lock:
            self._glyphs[key] = glyph
            while len(self._glyphs) > self._capacity:
                self._glyphs.popitem(last=False)
        return glyph


@dataclass
class _Font:
    name: str
    """Resource name, e.g. ``F1``."""
    face: FontFace
    chars: list[str] = field(default_factory=list)
    """The character each code stands for: code ``i + 1`` is ``chars[i]``."""
    codes: dict[str, int] = field(default_factory=dict)


@dataclass
class FontCodes:
    """Which font and code each (face, character) of a page is drawn with. The static
    layer's assignment is copied for each page, which only adds its own characters."""

    fonts: dict[FontFace, _Font] = field(default_factory=dict)

    def font(self, face: FontFace) -> str:
        """The resource name of ``face``'s font."""
        return self._font(face).name

    def code(self, face: FontFace, char: str) -> int:
        """The code of ``char`` in ``face``'s font."""
        font = self._font(face)
        code = font.codes.get(char)
        if code is None:
            font.chars.append(char)
            code = font.codes[char] = len(font.chars)
        return code

    def _font(self, face: FontFace) -> _Font:
        font = self.fonts.get(face)
        if font is None:
            font = self.fonts[face] = _Font(f"F{len(self.fonts) + 1}", face)
        return font

    def copy(self) -> FontCodes:
        return FontCodes({face: _Font(f.name, face, list(f.chars), dict(f.codes)) for face, f in self.fonts.items()})


def write_fonts(writer: Objects, codes: FontCodes, glyphs: Glyphs) -> bytes:
    """Write every font of ``codes`` and return the page's ``/Font`` resource dictionary."""
    entries = []
    for font in codes.fonts.values():
        entries.append(f"/{font.name} {_write_font(writer, font, glyphs)} 0 R")
    return f"<<{''.join(entries)}>>".encode("ascii")


def font_resources(codes: FontCodes, numbers: Mapping[FontFace, int]) -> str:
    """The ``/Font`` resource dictionary naming each font of ``codes`` by its object
    number in ``numbers`` (reserved, written later by ``write_reserved_fonts``)."""
    return "<<" + "".join(f"/{font.name} {numbers[face]} 0 R" for face, font in codes.fonts.items()) + ">>"


def write_reserved_fonts(writer: Objects, codes: FontCodes, glyphs: Glyphs, numbers: Mapping[FontFace, int]) -> None:
    """Write every font of ``codes`` as the object reserved for it in ``numbers``: once
    all the pages that use them are written, each embedding every character they drew."""
    for face, font in codes.fonts.items():
        _write_font(writer, font, glyphs, numbers[face])


def _write_font(writer: Objects, font: _Font, glyphs: Glyphs, number: int | None = None) -> int:
    face = font.face
    drawn = [glyphs.get(face, face.glyph_id(ch)) for ch in font.chars]
    metrics = outlines(face).metrics
    program = font_program(metrics.postscript_name, [g.charstring for g in drawn], metrics.bbox)
    name = f"{_subset_tag(program)}+{metrics.postscript_name}"
    file = writer.add(flate_stream(program, b"/Subtype/CIDFontType0C", FONT_LEVEL))
    descriptor = writer.add(
        (
            f"<</Type/FontDescriptor/FontName/{name}/Flags 4/FontBBox[{nums(*metrics.bbox)}]"
            f"/ItalicAngle {num(metrics.italic_angle)}/Ascent {metrics.ascent}/Descent {metrics.descent}"
            f"/CapHeight {metrics.cap_height}/StemV 80/FontFile3 {file} 0 R>>"
        ).encode("ascii")
    )
    cid_font = writer.add(
        (
            f"<</Type/Font/Subtype/CIDFontType0/BaseFont/{name}"
            f"/CIDSystemInfo<</Registry(Adobe)/Ordering(Identity)/Supplement 0>>"
            f"/FontDescriptor {descriptor} 0 R/W{_widths([g.advance for g in drawn])}>>"
        ).encode("ascii")
    )
    to_unicode = writer.add(flate_stream(to_unicode_cmap(font.chars)))
    body = (
        f"<</Type/Font/Subtype/Type0/BaseFont/{name}/Encoding/Identity-H"
        f"/DescendantFonts[{cid_font} 0 R]/ToUnicode {to_unicode} 0 R>>"
    ).encode("ascii")
    if number is None:
        return writer.add(body)
    writer.put(number, body)
    return number


def _subset_tag(program: bytes) -> str:
    """Six capital letters naming the subset (PDF's ``ABCDEF+Name``), from its content."""
    digest = hashlib.sha256(program).digest()
    return "".join(chr(ord("A") + b % 26) for b in digest[:6])


def _widths(advances: Sequence[float]) -> str:
    """``/W`` for CIDs 1, 2, …: a run of three or more equal widths as ``first last
    width``, other widths listed as ``first [w w …]``."""
    out: list[str] = []
    listed: list[str] = []
    i = 0
    while i < len(advances):
        j = i
        while j + 1 < len(advances) and advances[j + 1] == advances[i]:
            j += 1
        if j - i >= 2:
            if listed:
                out.append(f"{i + 1 - len(listed)}[{' '.join(listed)}]")
                listed = []
            out.append(f"{i + 1} {j + 1} {num(advances[i])}")
        else:
            listed += [num(a) for a in advances[i : j + 1]]
        i = j + 1
    if listed:
        out.append(f"{len(advances) + 1 - len(listed)}[{' '.join(listed)}]")
    return f"[{' '.join(out)}]"


def to_unicode_cmap(chars: Sequence[str]) -> bytes:
    """A ToUnicode CMap: code ``i + 1`` (two bytes) → ``chars[i]`` (UTF-16BE, so a
    character beyond the BMP, 𠮷 U+20BB7, is a surrogate pair)."""
    pairs = [f"<{code:04X}><{ch.encode('utf-16-be').hex().upper()}>" for code, ch in enumerate(chars, start=1)]
    blocks = []
    for start in range(0, len(pairs), 100):  # at most 100 entries a block
        chunk = pairs[start : start + 100]
        blocks.append(f"{len(chunk)} beginbfchar\n" + "\n".join(chunk) + "\nendbfchar")
    return (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
        "/CIDSystemInfo<</Registry(Adobe)/Ordering(UCS)/Supplement 0>>def\n"
        "/CMapName/Adobe-Identity-UCS def /CMapType 2 def\n"
        "1 begincodespacerange <0000><FFFF> endcodespacerange\n"
        + "\n".join(blocks)
        + "\nendcmap CMapName currentdict /CMap defineresource pop end end"
    ).encode("ascii")
