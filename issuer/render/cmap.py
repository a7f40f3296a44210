"""Which glyph a font draws for each character, read straight from its ``cmap`` table.

fontTools finds the table (in a single font or a ``.ttc`` collection); decoding it with
fontTools would also name all 65,535 glyphs of a CJK font (parsing its CFF charset): a
quarter of a second and 45 MB per face for a set of code points. The Unicode subtables
used here are simple: format 12 (groups of consecutive code points) and format 4 (BMP
segments). The tests check the result against fontTools' own ``getBestCmap``.
"""

from __future__ import annotations

import bisect
import struct
from dataclasses import dataclass

PREFERENCE = ((3, 10), (0, 6), (0, 4), (3, 1), (0, 3), (0, 2), (0, 1), (0, 0))
"""Unicode subtables, best first (the order of fontTools' ``getBestCmap``, and of the
charmap FreeType, and so Pillow, selects)."""

Ranges = list[tuple[int, int]]
Groups = list[tuple[int, int, int]]
"""(first code point, last code point, glyph of the first): consecutive code points
mapped to consecutive glyphs."""


@dataclass(frozen=True)
class Cmap:
    """Code point → glyph id, from sorted, non-overlapping groups (glyph 0 left out)."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]
    glyphs: tuple[int, ...]

    def glyph(self, code_point: int) -> int:
        """The glyph id of ``code_point``; 0 (``.notdef``) when the font has none."""
        i = bisect.bisect_right(self.starts, code_point) - 1
        if i < 0 or code_point > self.ends[i]:
            return 0
        return self.glyphs[i] + code_point - self.starts[i]

    def coverage(self) -> Ranges:
        """Sorted, merged inclusive ranges of the code points mapped to a glyph."""
        return _merge(list(zip(self.starts, self.ends, strict=True)))


def read(table: bytes) -> Cmap:
    """The best Unicode subtable of a ``cmap`` table (an empty map if none is readable)."""
    _, count = struct.unpack_from(">HH", table, 0)
    offsets: dict[tuple[int, int], int] = {}
    for i in range(count):
        platform, encoding, offset = struct.unpack_from(">HHI", table, 4 + 8 * i)
        offsets.setdefault((platform, encoding), offset)
    groups: Groups = []
    for key in PREFERENCE:
        if key in offsets:
            found = _subtable(table, offsets[key])
            if found is not None:
                groups = found
                break
    groups.sort()
    return Cmap(tuple(g[0] for g in groups), tuple(g[1] for g in groups), tuple(g[2] for g in groups))


def coverage(table: bytes) -> Ranges:
    """Sorted, merged inclusive ranges of the code points mapped to a glyph other than 0."""
    return read(table).coverage()


def _subtable(table: bytes, offset: int) -> Groups | None:
    (fmt,) = struct.unpack_from(">H", table, offset)
    if fmt == 12:
        return _format12(table, offset)
    if fmt == 4:
        return _format4(table, offset)
    return None


def _format12(table: bytes, offset: int) -> Groups:
    (groups,) = struct.unpack_from(">I", table, offset + 12)
    out = []
    for start, end, glyph in struct.iter_unpack(">III", table[offset + 16 : offset + 16 + 12 * groups]):
        if glyph == 0:  # the first code point maps to .notdef, the rest to glyphs 1, 2, ...
            start, glyph = start + 1, 1
        if start <= end:
            out.append((start, end, glyph))
    return out


def _format4(table: bytes, offset: int) -> Groups:
    (seg_x2,) = struct.unpack_from(">H", table, offset + 6)
    segs = seg_x2 // 2
    ends_at = offset + 14
    starts_at = ends_at + seg_x2 + 2
    deltas_at = starts_at + seg_x2
    range_offsets_at = deltas_at + seg_x2
    ends = struct.unpack_from(f">{segs}H", table, ends_at)
    starts = struct.unpack_from(f">{segs}H", table, starts_at)
    deltas = struct.unpack_from(f">{segs}h", table, deltas_at)
    range_offsets = struct.unpack_from(f">{segs}H", table, range_offsets_at)
    out: Groups = []
    for i in range(segs):
        if starts[i] == 0xFFFF:
            continue
        for code in range(starts[i], ends[i] + 1):
            glyph = _glyph4(table, code, i, starts[i], deltas[i], range_offsets[i], range_offsets_at)
            if not glyph:
                continue
            if out and out[-1][1] == code - 1 and out[-1][2] + code - out[-1][0] == glyph:
                out[-1] = (out[-1][0], code, out[-1][2])
            else:
                out.append((code, code, glyph))
    return out


def _glyph4(table: bytes, code: int, i: int, start: int, delta: int, range_offset: int, range_offsets_at: int) -> int:
    if range_offset == 0:
        return (code + delta) & 0xFFFF
    (glyph,) = struct.unpack_from(">H", table, range_offsets_at + 2 * i + range_offset + 2 * (code - start))
    return (glyph + delta) & 0xFFFF if glyph else 0


def _merge(ranges: Ranges) -> Ranges:
    merged: Ranges = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
