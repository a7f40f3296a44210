"""Glyph outlines, advance widths and metrics read from a font file, in thousandths of an
em (the glyph space of a PDF font), y up.

Reading a face costs little and is done once per process, on first use (``outlines``):
the CJK faces are OpenType with CFF outlines (23 MB of CFF table in Noto Serif CJK), and
fontTools' own CFF parser reads the whole table and names all 65,535 glyphs (about 0.2 s
and 55 MB a face, ``python -m bench render``). Here the file is memory-mapped instead and
only the few indexes a glyph needs are read (``_CffTable``): the charstring of one glyph,
its font DICT's local subroutines and the global ones, which fontTools' Type 2 interpreter
then draws. The pages read stay in the operating system's file cache, shared by every
worker process. TrueType (``glyf``) faces, such as a configured FangSong file, are read
with fontTools' glyph set (the ``glyf`` table in memory, each glyph decoded when drawn).
"""

from __future__ import annotations

import bisect
import mmap
import struct
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from fontTools.misc.psCharStrings import T2CharString  # type: ignore[import-untyped]
from fontTools.pens.transformPen import TransformPen  # type: ignore[import-untyped]
from fontTools.ttLib import TTFont, TTLibError  # type: ignore[import-untyped]

from .errors import FontNotFound, FontUnsupported
from .fonts import FontFace

EM = 1000
"""Glyph-space units an em."""


@dataclass(frozen=True)
class Metrics:
    """What a PDF font descriptor says of a face, in thousandths of an em."""

    postscript_name: str
    bbox: tuple[int, int, int, int]
    ascent: int
    descent: int
    cap_height: int
    italic_angle: float


class FaceOutlines:
    """The glyphs of one face, read from its file on demand. Safe to share between threads."""

    def __init__(self, face: FontFace) -> None:
        self.face = face
        try:
            with TTFont(face.path, fontNumber=face.index, lazy=True) as font:
                units = font["head"].unitsPerEm
                self.metrics = _metrics(font, EM / units)
                count = font["hhea"].numberOfHMetrics
                hmtx = bytes(font.reader["hmtx"])
                cff = font.reader.tables.get("CFF ")
                cff_at = cff.offset if cff is not None else None
                has_glyf = "glyf" in font.reader
        except (OSError, KeyError, AttributeError, TTLibError, struct.error) as exc:
            raise FontNotFound(
                f"cannot read font {face.path}#{face.index}: {exc}", f"无法读取字体文件{face.path}#{face.index}"
            ) from None
        self._scale = EM / units
        self._advances = hmtx[: 4 * count]
        self._count = count
        self._lock = threading.Lock()
        self.glyph_set: Any = None
        """The face's glyphs by name, for pens that draw a TrueType glyph's components."""
        self._draw: Callable[[int, Any], None]
        if cff_at is not None:
            self._draw = _CffTable(face.path, cff_at).draw
        elif has_glyf:
            self.glyph_set, self._draw = _glyf_reader(face)
        else:
            raise FontUnsupported(f"{face.path}#{face.index}", "no CFF or TrueType outlines", "无CFF或TrueType字形轮廓")

    def advance(self, glyph_id: int) -> float:
        """The advance width in thousandths of an em (``hmtx``)."""
        index = min(glyph_id, self._count - 1)
        (width,) = struct.unpack_from(">H", self._advances, 4 * index)
        return float(width * self._scale)

    def draw(self, glyph_id: int, pen: Any) -> None:
        """Draw the glyph's outline onto ``pen`` (a fontTools pen), in thousandths of an em."""
        target = pen if self._scale == 1 else TransformPen(pen, (self._scale, 0, 0, self._scale, 0, 0))
        with self._lock:  # fontTools' charstring objects keep decoding state
            self._draw(glyph_id, target)


@cache
def outlines(face: FontFace) -> FaceOutlines:
    """The face's reader, opened once per process."""
    return FaceOutlines(face)


def _metrics(font: Any, scale: float) -> Metrics:
    head, hhea = font["head"], font["hhea"]
    os2 = font.get("OS/2")
    ascent = os2.sTypoAscender if os2 is not None else hhea.ascent
    descent = os2.sTypoDescender if os2 is not None else hhea.descent
    cap_height = getattr(os2, "sCapHeight", 0) or ascent
    name = font["name"].getDebugName(6) or "Font"
    return Metrics(
        postscript_name="".join(ch for ch in name if (ch.isascii() and ch.isalnum()) or ch in "-_")[:60],
        bbox=(round(head.xMin * scale), round(head.yMin * scale), round(head.xMax * scale), round(head.yMax * scale)),
        ascent=round(ascent * scale),
        descent=round(descent * scale),
        cap_height=round(cap_height * scale),
        italic_angle=float(font["post"].italicAngle) if "post" in font else 0.0,
    )


def _glyf_reader(face: FontFace) -> tuple[Any, Callable[[int, Any], None]]:
    """The face's TrueType glyphs: the ``glyf`` table is read into memory (it is about the
    size of the font file), so that the file is not held open; a glyph is decoded when drawn."""
    with TTFont(face.path, fontNumber=face.index, lazy=True) as font:
        glyph_set = font.getGlyphSet()
        order = font.getGlyphOrder()

    def draw(glyph_id: int, pen: Any) -> None:
        glyph_set[order[glyph_id]].draw(pen)

    return glyph_set, draw


# CFF, read in place --------------------------------------------------------------------


class _Index(Sequence[bytes]):
    """A CFF INDEX: ``count`` byte strings, found through an offset array."""

    def __init__(self, data: mmap.mmap, at: int) -> None:
        self._data = data
        self._count = int(struct.unpack_from(">H", data, at)[0])
        if self._count == 0:
            self.end = at + 2
            self._size, self._offsets, self._base = 1, at + 3, at + 2
            return
        self._size = data[at + 2]
        self._offsets = at + 3
        self._base = self._offsets + (self._count + 1) * self._size - 1
        self.end = self._base + self._offset(self._count)

    def _offset(self, i: int) -> int:
        at = self._offsets + i * self._size
        return int.from_bytes(self._data[at : at + self._size], "big")

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, i: int) -> bytes:  # type: ignore[override]
        if not 0 <= i < self._count:
            raise IndexError(i)
        return bytes(self._data[self._base + self._offset(i) : self._base + self._offset(i + 1)])


@dataclass
class _Private:
    """What fontTools' Type 2 interpreter reads from a Private DICT."""

    nominalWidthX: float
    defaultWidthX: float
    Subrs: Sequence[T2CharString]


class _Subrs(Sequence[T2CharString]):
    """Subroutines decoded as the interpreter calls them, each once."""

    def __init__(self, index: _Index | None) -> None:
        self._index = index
        self._decoded: dict[int, T2CharString] = {}
        self.private: _Private | None = None
        self.global_subrs: Sequence[T2CharString] = ()

    def __len__(self) -> int:
        return len(self._index) if self._index is not None else 0

    def __getitem__(self, i: int) -> T2CharString:  # type: ignore[override]
        found = self._decoded.get(i)
        if found is None:
            assert self._index is not None
            found = T2CharString(self._index[i], private=self.private, globalSubrs=self.global_subrs)
            self._decoded[i] = found
        return found


class _CffTable:
    """A CFF table (``CFF `` of an OpenType font) read from a memory map of the file:
    the CharStrings INDEX, FDSelect and each font DICT's Private DICT, nothing more."""

    def __init__(self, path: str, offset: int) -> None:
        self._name = path
        with open(path, "rb") as f:
            whole = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        self._data = whole
        at = offset + whole[offset + 2]  # header size
        names = _Index(whole, at)
        tops = _Index(whole, names.end)
        strings = _Index(whole, tops.end)
        global_index = _Index(whole, strings.end)
        top = _dict(tops[0])
        self._base = offset
        self._charstrings = _Index(whole, offset + int(top[17][0]))
        self._globals = _Subrs(global_index if len(global_index) else None)
        self._fd_select: Callable[[int], int] | None = None
        if (12, 36) in top:  # CID-keyed: a font DICT (and Private DICT) per group of glyphs
            fds = _Index(whole, offset + int(top[(12, 36)][0]))
            self._privates = [self._private(_dict(fds[i])) for i in range(len(fds))]
            self._fd_select = self._read_fd_select(offset + int(top[(12, 37)][0]))
        else:
            self._privates = [self._private(top)]

    def _private(self, font_dict: dict[Any, list[float]]) -> _Private:
        size, at = (int(v) for v in font_dict[18])
        private = _dict(bytes(self._data[self._base + at : self._base + at + size]))
        subrs = _Subrs(_Index(self._data, self._base + at + int(private[19][0])) if 19 in private else None)
        parsed = _Private(nominalWidthX=private.get(21, [0])[0], defaultWidthX=private.get(20, [0])[0], Subrs=subrs)
        subrs.private, subrs.global_subrs = parsed, self._globals
        return parsed

    def _read_fd_select(self, at: int) -> Callable[[int], int]:
        data, fmt = self._data, self._data[at]
        if fmt == 0:
            return lambda gid: data[at + 1 + gid]
        if fmt != 3:
            raise FontUnsupported(self._name, f"CFF FDSelect format {fmt}", f"不支持的CFF FDSelect格式{fmt}")
        (count,) = struct.unpack_from(">H", data, at + 1)
        ranges = [struct.unpack_from(">HB", data, at + 3 + 3 * i) for i in range(count)]
        firsts = [first for first, _ in ranges]

        def select(gid: int) -> int:
            return int(ranges[bisect.bisect_right(firsts, gid) - 1][1])

        return select

    def draw(self, glyph_id: int, pen: Any) -> None:
        private = self._privates[self._fd_select(glyph_id) if self._fd_select is not None else 0]
        self._globals.private = private
        T2CharString(self._charstrings[glyph_id], private=private, globalSubrs=self._globals).draw(pen)


_REAL_NIBBLES = {**{n: str(n) for n in range(10)}, 0xA: ".", 0xB: "E", 0xC: "E-", 0xE: "-"}


def _dict(data: bytes) -> dict[Any, list[float]]:
    """A CFF DICT: operator (a byte, or ``(12, b)``) → its operands."""
    out: dict[Any, list[float]] = {}
    operands: list[float] = []
    i = 0
    while i < len(data):
        b0 = data[i]
        if b0 <= 21:
            op: Any = (12, data[i + 1]) if b0 == 12 else b0
            i += 2 if b0 == 12 else 1
            out[op], operands = operands, []
        elif b0 == 28:
            operands.append(struct.unpack_from(">h", data, i + 1)[0])
            i += 3
        elif b0 == 29:
            operands.append(struct.unpack_from(">i", data, i + 1)[0])
            i += 5
        elif b0 == 30:
            text, i = _real(data, i + 1)
            operands.append(float(text))
        elif 32 <= b0 <= 246:
            operands.append(b0 - 139)
            i += 1
        elif 247 <= b0 <= 250:
            operands.append((b0 - 247) * 256 + data[i + 1] + 108)
            i += 2
        elif 251 <= b0 <= 254:
            operands.append(-(b0 - 251) * 256 - data[i + 1] - 108)
            i += 2
        else:
            raise FontUnsupported("CFF table", f"bad CFF DICT byte {b0}", f"CFF字典中的无效字节{b0}")
    return out


def _real(data: bytes, i: int) -> tuple[str, int]:
    text = ""
    while True:
        byte = data[i]
        i += 1
        for nibble in (byte >> 4, byte & 0xF):
            if nibble == 0xF:
                return text or "0", i
            text += _REAL_NIBBLES.get(nibble, "")
