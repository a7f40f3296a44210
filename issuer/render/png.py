"""A PNG writer for the page: rows filtered "Up" (each the difference from the row above)
or not at all, compressed in bands of rows that can be reused.

Pillow's encoder chooses a filter per row by trying all five, which costs more than the
compression itself on a 2480 × 3508 page. A certificate is mostly flat colour and text,
where "Up" plus deflate is about 10% smaller than "None" on the rows a certificate draws on
(text lines, photo, QR code) in the same time; the static layer's rows, compressed once,
are written both ways and the smaller is kept.

The rows are compressed in bands of ``BAND_ROWS``, each band on its own (a fresh deflate
compressor ended by a full flush; its first row unfiltered, so that it does not depend on
the band above), and the bands are concatenated into one zlib stream: deflate blocks from
separate compressors may follow each other, and the Adler-32 checksums of the bands
combine arithmetically. So a band of the cached static layer that no certificate value
touches is compressed once, not once per certificate, and so can be compressed harder
than the bands each certificate changes. Nothing in the file depends on the clock, and a
band's bytes do not depend on whether they were cached.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageChops

SIGNATURE = b"\x89PNG\r\n\x1a\n"
BAND_ROWS = 32
"""Rows a band. Over the bench's 16 certificates, 32 rows took 21.5 ms a PNG and 345 kB,
64 rows 24.6 ms and 348 kB (less untouched area around each value is compressed again per
certificate); 16 rows grow the file to 350 kB, 8 rows to 366 kB."""
_COLOR_TYPES = {"L": 0, "RGB": 2}
_IDAT_CHUNK = 1 << 20
_NONE = b"\x00"
_UP = b"\x02"
_FINAL_EMPTY_BLOCK = b"\x03\x00"
"""A final, empty fixed-Huffman deflate block: ends a stream whose bands were flushed."""
_ADLER_BASE = 65521


@dataclass(frozen=True)
class Band:
    """Compressed rows: raw deflate ending on a full flush, their Adler-32 and length."""

    data: bytes
    adler: int
    length: int


def band_count(height: int) -> int:
    return -(-height // BAND_ROWS)


def band_rows(index: int, height: int) -> tuple[int, int]:
    return index * BAND_ROWS, min(height, (index + 1) * BAND_ROWS)


def compress_bands(
    image: Image.Image, level: int, only: Sequence[int] | None = None, *, smallest: bool = False
) -> dict[int, Band]:
    """The bands ``only`` (default: all) of ``image``, filtered "Up"; ``smallest``: also
    unfiltered, keeping the smaller (twice the time: for bands compressed once)."""
    indices = range(band_count(image.height)) if only is None else only
    out = {}
    for i in indices:
        band = _band(image, i, level, up=True)
        if smallest:
            band = min(band, _band(image, i, level, up=False), key=lambda b: len(b.data))
        out[i] = band
    return out


def encode(image: Image.Image, dpi: float, level: int, reuse: dict[int, Band] | None = None) -> bytes:
    """``image`` (mode ``L`` or ``RGB``) as PNG bytes at zlib ``level`` (0–9). ``reuse``
    gives bands already compressed from identical rows, at any level: each band is a
    deflate stream of its own (the zlib header's level is only a hint to a reader)."""
    reuse = reuse or {}
    width, height = image.size
    missing = [i for i in range(band_count(height)) if i not in reuse]
    bands = {**reuse, **compress_bands(image, level, missing)}
    stream = _zlib_stream([bands[i] for i in range(band_count(height))], level)
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPES[image.mode], 0, 0, 0)
    per_metre = round(dpi / 0.0254)
    chunks = [_chunk(b"IHDR", header), _chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1))]
    chunks += [_chunk(b"IDAT", stream[i : i + _IDAT_CHUNK]) for i in range(0, len(stream), _IDAT_CHUNK)]
    chunks.append(_chunk(b"IEND", b""))
    return SIGNATURE + b"".join(chunks)


def zlib_rows(image: Image.Image, level: int) -> bytes:
    """The rows of ``image`` filtered as in a PNG (each band "Up" or not, the smaller) in
    one zlib stream: what a PDF image with ``/FlateDecode`` and ``/Predictor 15`` holds."""
    bands = compress_bands(image, level, smallest=True)
    return _zlib_stream([bands[i] for i in range(band_count(image.height))], level)


def _band(image: Image.Image, index: int, level: int, *, up: bool) -> Band:
    top, bottom = band_rows(index, image.height)
    data = _filtered(image, top, bottom, up=up)
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    return Band(compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH), zlib.adler32(data), len(data))


def _filtered(image: Image.Image, top: int, bottom: int, *, up: bool) -> bytes:
    """Rows ``top`` to ``bottom`` as PNG filtered data, each after its filter type: with
    ``up``, every row but the first as its bytewise difference from the row above."""
    width = image.width
    raw = image.crop((0, top, width, bottom)).tobytes()
    stride = len(raw) // (bottom - top)
    tags = [_NONE] * (bottom - top)
    if up and bottom - top > 1:
        below, above = image.crop((0, top + 1, width, bottom)), image.crop((0, top, width, bottom - 1))
        raw = raw[:stride] + ImageChops.subtract_modulo(below, above).tobytes()
        tags[1:] = [_UP] * (bottom - top - 1)
    view = memoryview(raw)
    return b"".join(tag + view[i * stride : (i + 1) * stride] for i, tag in enumerate(tags))


def _zlib_stream(bands: Sequence[Band], level: int) -> bytes:
    adler = 1
    for band in bands:
        adler = _adler32_combine(adler, band.adler, band.length)
    return _zlib_header(level) + b"".join(b.data for b in bands) + _FINAL_EMPTY_BLOCK + struct.pack(">I", adler)


def _zlib_header(level: int) -> bytes:
    cmf = 0x78  # deflate, 32 KiB window
    flevel = 0 if level < 2 else 1 if level < 6 else 2 if level == 6 else 3
    flg = flevel << 6
    flg += 31 - (cmf * 256 + flg) % 31
    return bytes((cmf, flg))


def _adler32_combine(first: int, second: int, second_length: int) -> int:
    """The Adler-32 of two pieces of data from theirs (zlib's ``adler32_combine``)."""
    rem = second_length % _ADLER_BASE
    low = first & 0xFFFF
    high = (rem * low) % _ADLER_BASE
    low += (second & 0xFFFF) + _ADLER_BASE - 1
    high += (first >> 16) + (second >> 16) + _ADLER_BASE - rem
    return (low % _ADLER_BASE) | ((high % _ADLER_BASE) << 16)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
