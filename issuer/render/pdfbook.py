"""Many certificates as one PDF, a page each: a batch for the printer (``PdfBook``).

Each page is the page ``pdfpage.py`` writes for the certificate alone: the same size, the
same two content streams (the static layer's, this certificate's), the same text, QR code
and images. What pages share is written once. Each face has one font for the whole
document, embedding every character any page drew; a code stands for the same character
on every page, so one static layer's content stream serves every page that shows it, and
the organization's images (background, logo, seal) are written once with it. A page adds
only its own content stream, its photo and its ``/Page`` dictionary.

Pages go to the output as they are added (``StreamWriter``). What is kept until the end is
an offset per object, an object number per page and the characters each font has drawn
(about 2 kB a page in all, whatever the photos); the fonts, the page tree and the
cross-reference stream are written last. Codes are two bytes: a face's font holds at most
65,535 characters, far more than the names of any batch use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

from .compose import Composition
from .fonts import FontFace
from .pdf import PdfWriteError, StreamWriter, flate_stream, text_string
from .pdffonts import FontCodes, Glyphs, font_resources, write_reserved_fonts
from .pdfpage import Advances, build_layer, certificate_content, page_object


@dataclass(frozen=True)
class _Layer:
    """A static layer written into the book: its content stream's object, its images'
    objects by resource name, its graphics states."""

    content: int
    images: dict[str, int]
    states: str


class PdfBook:
    """One PDF written to ``out`` a page at a time: ``add`` each certificate's composition,
    then ``close``. Not for several threads at once."""

    def __init__(self, out: IO[bytes], glyphs: Glyphs, advances: Advances, *, title: str) -> None:
        self._writer = StreamWriter(out)
        self._glyphs = glyphs
        self._advances = advances
        self._title = title
        self._catalog = self._writer.reserve()
        self._tree = self._writer.reserve()
        self._codes = FontCodes()
        self._fonts: dict[FontFace, int] = {}
        """Each face's font object, reserved when a page first uses it, written by ``close``."""
        self._layers: dict[tuple[object, str], _Layer] = {}
        self._pages: list[int] = []

    @property
    def pages(self) -> int:
        return len(self._pages)

    @property
    def written(self) -> int:
        """Bytes written to the output so far."""
        return self._writer.written

    def add(self, comp: Composition) -> None:
        """Write ``comp`` as the next page."""
        layer = self._layer(comp)
        content, photo = certificate_content(comp, self._codes, self._glyphs, self._advances)
        contents = [layer.content, self._writer.add(flate_stream(content))]
        images = dict(layer.images)
        if photo is not None:
            images["Photo"] = photo.write(self._writer)
        fonts = font_resources(self._codes, self._reserve_fonts())
        page = page_object(comp.layout, self._tree, contents, fonts, images, layer.states)
        self._pages.append(self._writer.add(page))

    def close(self) -> None:
        """Write the fonts, the page tree, the document information and the trailer.
        ``PdfWriteError`` if no page was added: a PDF has at least one."""
        if not self._pages:
            raise PdfWriteError("a PDF needs at least one page")
        write_reserved_fonts(self._writer, self._codes, self._glyphs, self._reserve_fonts())
        kids = " ".join(f"{page} 0 R" for page in self._pages)
        self._writer.put(self._tree, f"<</Type/Pages/Kids[{kids}]/Count {len(self._pages)}>>".encode("ascii"))
        self._writer.put(self._catalog, b"<</Type/Catalog/Pages %d 0 R>>" % self._tree)
        info = self._writer.add(b"<</Producer(issuer)/Title" + text_string(self._title) + b">>")
        self._writer.finish(self._catalog, info)

    def _reserve_fonts(self) -> dict[FontFace, int]:
        for face in self._codes.fonts:
            if face not in self._fonts:
                self._fonts[face] = self._writer.reserve()
        return self._fonts

    def _layer(self, comp: Composition) -> _Layer:
        """The static layer of ``comp``, written the first time a page shows it (its text in
        the book's codes, so not the renderer's cached layer of a single page)."""
        key = (comp.static.key, comp.assets.digest)
        found = self._layers.get(key)
        if found is None:
            built = build_layer(
                comp.static, comp.layout, comp.assets, comp.dpi, self._glyphs, self._advances, self._codes
            )
            images = {name: image.write(self._writer) for name, image in built.images.items()}
            found = self._layers[key] = _Layer(self._writer.add(built.content), images, built.states)
        return found
