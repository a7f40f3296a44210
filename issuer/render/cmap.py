"""Which characters a font has glyphs for, read straight from its ``cmap`` table.

fontTools finds the table (in a single font or a ``.ttc`` collection); decoding it with
fontTools would also name all 65,535 glyphs of a CJK font (parsing its CFF charset): a
quarter of a second and 45 MB per face for a set of code points. The Unicode subtables
used here are simple: format 12 (groups of consecutive code points) and format 4 (BMP
segments). The tests check the result against fontTools' own ``getBestCmap``.
"""

from __future__ import annotations

import struct

PREFERENCE = ((3, 10), (0, 6), (0, 4), (3, 1), (0, 3), (0, 2), (0, 1), (0, 0))
"""Unicode subtables, best first (the order of fontTools' ``getBestCmap``)."""

Ranges = list[tuple[int, int]]


def coverage(table: bytes) -> Ranges:
    """Sorted, merged inclusive ranges of the code points mapped to a glyph other than 0."""
    _, count = struct.unpack_from(">HH", table, 0)
    offsets: dict[tuple[int, int], int] = {}
    for i in range(count):
        platform, encoding, offset = struct.unpack_from(">HHI", table, 4 + 8 * i)
        offsets.setdefault((platform, encoding), offset)
    for key in PREFERENCE:
        if key in offsets:
            found = _subtable(table, offsets[key])
            if found is not None:
                return _merge(found)
    return []


def _subtable(table: bytes, offset: int) -> Ranges | None:
    (fmt,) = struct.unpack_from(">H", table, offset)
    if fmt == 12:
        return _format12(table, offset)
    if fmt == 4:
        return _format4(table, offset)
    return None


def _format12(table: bytes, offset: int) -> Ranges:
    (groups,) = struct.unpack_from(">I", table, offset + 12)
    out = []
    for start, end, glyph in struct.iter_unpack(">III", table[offset + 16 : offset + 16 + 12 * groups]):
        if glyph == 0:  # the first code point maps to .notdef, the rest to glyphs 1, 2, ...
            start += 1
        if start <= end:
            out.append((start, end))
    return out


def _format4(table: bytes, offset: int) -> Ranges:
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
    out: Ranges = []
    for i in range(segs):
        if starts[i] == 0xFFFF:
            continue
        for code in range(starts[i], ends[i] + 1):
            if _glyph4(table, code, i, starts[i], deltas[i], range_offsets[i], range_offsets_at):
                out.append((code, code))
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
