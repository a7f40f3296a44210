"""Writing a PDF file: numbered objects, streams, and a cross-reference stream.

The writer knows nothing of certificates. Objects are numbered in the order they are
added and written in that order, so the same objects always give the same bytes: nothing
depends on the clock, and there is no random file identifier. The cross-reference table
is a compressed stream (PDF 1.5): a page of a few hundred small objects (one per glyph of
a Type 3 font) would otherwise spend 20 bytes an object on it.

``Writer`` keeps a one-page file's objects until it is finished; ``StreamWriter`` writes
each object to a file as it comes, for a batch of thousands of pages (``pdfbook.py``).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable, Sequence
from typing import IO, Protocol

VERSION = b"1.5"
HEADER = b"%PDF-" + VERSION + b"\n%\xe2\xe3\xcf\xd3\n"
"""The binary comment tells file transfer tools that the file is not text."""
STREAM_LEVEL = 6
"""zlib level of the streams compressed per certificate."""


class PdfWriteError(ValueError):
    """An object referred to was never written, or one was written twice."""


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


class Objects(Protocol):
    """Where numbered objects go: a ``Writer`` (one page, kept until finished) or a
    ``StreamWriter`` (many pages, written as they come)."""

    def reserve(self) -> int: ...

    def put(self, number: int, body: bytes) -> None: ...

    def add(self, body: bytes) -> int: ...


def _object(number: int, body: bytes) -> bytes:
    return b"%d 0 obj\n" % number + body + b"\nendobj\n"


def _cross_reference(offsets: Sequence[int], at: int, root: int, info: int) -> bytes:
    """The cross-reference stream (the last object, written at offset ``at``) for objects
    1 … ``len(offsets)`` at ``offsets``, and the trailer that points at it."""
    number = len(offsets) + 1
    rows = b"\x00\x00\x00\x00\x00" + b"".join(b"\x01" + struct.pack(">I", o) for o in (*offsets, at))
    entries = f"/Type/XRef/Size {number + 1}/W[1 4 0]/Root {root} 0 R/Info {info} 0 R".encode("ascii")
    return _object(number, flate_stream(rows, entries)) + b"startxref\n%d\n%%%%EOF\n" % at


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
            out += _object(number, body)
        out += _cross_reference(offsets, len(out), root, info)
        return bytes(out)


class StreamWriter:
    """Objects of one PDF file written to ``out`` as soon as they are added (a reserved one
    when it is put, so objects need not stand in the order of their numbers): a file of
    thousands of pages is never held whole, only each object's offset (4 bytes in the
    cross-reference stream, a Python int here). The same calls give the same bytes."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self._offsets: list[int | None] = []
        self._at = 0
        self._write(HEADER)

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._at += len(data)

    def reserve(self) -> int:
        self._offsets.append(None)
        return len(self._offsets)

    def put(self, number: int, body: bytes) -> None:
        if self._offsets[number - 1] is not None:
            raise PdfWriteError(f"object {number} was written already")
        self._offsets[number - 1] = self._at
        self._write(_object(number, body))

    def add(self, body: bytes) -> int:
        number = self.reserve()
        self.put(number, body)
        return number

    @property
    def written(self) -> int:
        """Bytes written so far."""
        return self._at

    def finish(self, root: int, info: int) -> None:
        """Write the cross-reference stream and the trailer."""
        offsets = []
        for number, offset in enumerate(self._offsets, start=1):
            if offset is None:
                raise PdfWriteError(f"object {number} was reserved but never written")
            offsets.append(offset)
        self._write(_cross_reference(offsets, self._at, root, info))
