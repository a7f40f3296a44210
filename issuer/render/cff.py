"""A page's glyphs of one face as a CFF font program: CID-keyed, the kind PDF embeds as
``/FontFile3`` of subtype ``CIDFontType0C``.

Each glyph is a Type 2 charstring made from its outline (``outlines.py``) by fontTools'
``T2CharStringPen``, in thousandths of an em, once per process. A TrueType face's quadratic
curves become cubic ones on the way, so every face is embedded the same way. The
charstrings carry no hints (PDFium, like most viewers, renders without them) and call no
subroutines, so a subset is only their concatenation with a few small tables: the writer
below builds it in well under a millisecond, where fontTools' subsetter takes half a second
for a CJK face.

Glyph ``i`` of the program is CID ``i``, the code the page's text uses for it (glyph 0 is
the empty ``.notdef``); the charset says so in one range.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from fontTools.misc import psCharStrings  # type: ignore[import-untyped]
from fontTools.pens.t2CharStringPen import T2CharStringPen  # type: ignore[import-untyped]

from .outlines import FaceOutlines

NOTDEF = b"\x0e"
"""``endchar``: an empty glyph."""
_STANDARD_STRINGS = 391
"""Strings a CFF font has without its String INDEX: the first string of its own is SID 391."""


def charstring(face: FaceOutlines, glyph_id: int) -> bytes:
    """The glyph's outline as a Type 2 charstring, starting with its advance width."""
    pen = T2CharStringPen(round(face.advance(glyph_id)), face.glyph_set)
    face.draw(glyph_id, pen)
    program = pen.getCharString()
    program.compile()
    return bytes(program.bytecode)


def font_program(name: str, charstrings: Sequence[bytes], bbox: Sequence[int]) -> bytes:
    """A CID-keyed CFF font (registry Adobe, ordering Identity) whose glyph ``i + 1`` is
    ``charstrings[i]``, in a 1000-unit em."""
    count = len(charstrings) + 1
    strings = _index([b"Adobe", b"Identity"])
    charset = struct.pack(">BHH", 2, 1, count - 2) if count > 1 else b"\x00"
    fd_select = struct.pack(">BHHBH", 3, 1, 0, 0, count)
    glyphs = _index([NOTDEF, *charstrings])
    private = _int(0) + b"\x15"  # nominalWidthX 0: widths are written as they are
    head = struct.pack(">BBBB", 1, 0, 4, 4)
    names = _index([name.encode("ascii")])
    globals_ = _index([])

    def top_dict(charset_at: int, fd_select_at: int, glyphs_at: int, fd_array_at: int) -> bytes:
        return (
            _int(_STANDARD_STRINGS)
            + _int(_STANDARD_STRINGS + 1)
            + _int(0)
            + b"\x0c\x1e"  # ROS
            + _int(count)
            + b"\x0c\x22"  # CIDCount
            + b"".join(_int(v) for v in bbox)
            + b"\x05"  # FontBBox
            + _offset(charset_at)
            + b"\x0f"  # charset
            + _offset(fd_select_at)
            + b"\x0c\x25"  # FDSelect
            + _offset(fd_array_at)
            + b"\x0c\x24"  # FDArray
            + _offset(glyphs_at)
            + b"\x11"  # CharStrings
        )

    start = len(head) + len(names) + len(_index([top_dict(0, 0, 0, 0)])) + len(strings) + len(globals_)
    charset_at = start
    fd_select_at = charset_at + len(charset)
    glyphs_at = fd_select_at + len(fd_select)
    fd_array_at = glyphs_at + len(glyphs)
    private_at = fd_array_at + len(_index([_font_dict(len(private), 0)]))
    fd_array = _index([_font_dict(len(private), private_at)])
    top = _index([top_dict(charset_at, fd_select_at, glyphs_at, fd_array_at)])
    return head + names + top + strings + globals_ + charset + fd_select + glyphs + fd_array + private


def _int(value: int) -> bytes:
    return bytes(psCharStrings.encodeIntCFF(value))


def _font_dict(private_size: int, private_at: int) -> bytes:
    return _offset(private_size) + _offset(private_at) + b"\x12"  # Private


def _offset(value: int) -> bytes:
    """An integer in the 5-byte DICT form: offsets keep their size whatever their value."""
    return b"\x1d" + struct.pack(">i", value)


def _index(items: Sequence[bytes]) -> bytes:
    """A CFF INDEX of ``items``."""
    if not items:
        return b"\x00\x00"
    offsets = [1]
    for item in items:
        offsets.append(offsets[-1] + len(item))
    size = 1 if offsets[-1] < 1 << 8 else 2 if offsets[-1] < 1 << 16 else 3 if offsets[-1] < 1 << 24 else 4
    packed = b"".join(o.to_bytes(size, "big") for o in offsets)
    return struct.pack(">HB", len(items), size) + packed + b"".join(items)
