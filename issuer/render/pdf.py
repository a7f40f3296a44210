"""Writing a PDF file: numbered objects, streams, and a cross-reference stream.

The writer knows nothing of certificates. Objects are numbered in the order they are
added and written in that order, so the same objects always give the same bytes: nothing
depends on the clock, and there is no random file identifier. The cross-reference table
is a compressed stream (PDF 1.5): a page of a few hundred small objects (one per glyph of
a Type 3 font) would otherwise spend 20 bytes an object on it.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable

VERSION = b"1.5"
HEADER = b"%PDF-" + VERSION + b"\n%\xe2\xe3\xcf\xd3\n"
"""The binary comment tells file transfer tools that the file is not text."""
STREAM_LEVEL = 6
"""zlib level of the streams compressed per certificate."""


class PdfWriteError(ValueError):
    """An object referred to was never written."""


def num(value: float) -> str:
    """A PDF number: an integer when it is one, else at most three decimals (a thousandth
    of a pixel at the page's resolution, or of a glyph unit)."""
    rounded = round(value, 3)
    if rounded == int(rounded):
        return str(int(rounded))
    return f"{rounded:.3f}".rstrip("0")


def nums(*values: float) -> str:
    return " ".join(num(v) for v in values)


def text_string(text: str) -> bytes:
    """A PDF text string (Info dictionary, ToUnicode-independent): UTF-16BE with a
    byte-order mark, as hex."""
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode("ascii") + b">"


def stream_object(data: bytes, entries: bytes = b"", *, deflated: bool = False) -> bytes:
    """The body of a stream object: its dictionary (``entries`` plus ``/Length``, and
    ``/Filter /FlateDecode`` when ``deflated``) and ``data``."""
    flate = b"/Filter/FlateDecode" if deflated else b""
    length = f"/Length {len(data)}".encode("ascii")
    return b"<<" + length + flate + entries + b">>stream\n" + data + b"\nendstream"


def deflate(data: bytes, level: int = STREAM_LEVEL) -> bytes:
    return zlib.compress(data, level)


def flate_stream(data: bytes, entries: bytes = b"", level: int = STREAM_LEVEL) -> bytes:
    """A stream object body holding ``data`` compressed."""
    return stream_object(deflate(data, level), entries, deflated=True)


class Writer:
    """Objects of one PDF file, numbered from 1 in the order they are reserved or added."""

    def __init__(self) -> None:
        self._bodies: list[bytes | None] = []

    def reserve(self) -> int:
        """A number for an object whose body is given later (``put``): for objects that
        refer to each other."""
        self._bodies.append(None)
        return len(self._bodies)

    def put(self, number: int, body: bytes) -> None:
        self._bodies[number - 1] = body

    def add(self, body: bytes) -> int:
        self._bodies.append(body)
        return len(self._bodies)

    def add_all(self, bodies: Iterable[bytes]) -> list[int]:
        return [self.add(body) for body in bodies]

    def finish(self, root: int, info: int) -> bytes:
        """The file: header, objects, the cross-reference stream and the trailer."""
        out = bytearray(HEADER)
        offsets = []
        for number, body in enumerate(self._bodies, start=1):
            if body is None:
                raise PdfWriteError(f"object {number} was reserved but never written")
            offsets.append(len(out))
            out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
        xref_number = len(self._bodies) + 1
        xref_offset = len(out)
        offsets.append(xref_offset)
        rows = b"\x00\x00\x00\x00\x00" + b"".join(b"\x01" + struct.pack(">I", o) for o in offsets)
        entries = f"/Type/XRef/Size {xref_number + 1}/W[1 4 0]/Root {root} 0 R/Info {info} 0 R".encode("ascii")
        out += b"%d 0 obj\n" % xref_number + flate_stream(rows, entries) + b"\nendobj\n"
        out += b"startxref\n%d\n%%%%EOF\n" % xref_offset
        return bytes(out)
