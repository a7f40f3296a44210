"""Images in the PDF (image XObjects): the photo as JPEG, an organization's images lossless.

The holder's photo is a JPEG (``/DCTDecode``). A JPEG that can be shown as it is (grey or
RGB, upright) goes into the file byte for byte, and the page crops it to its box with a
clip path; any other photo (a PNG, a CMYK JPEG, one that EXIF turns) is encoded once, as
the box shows it at the page's resolution (``Photo.fitted``, the PNG's own pixels).

The background, logo and seal keep their own pixels, compressed losslessly as a PNG's rows
(``/FlateDecode`` with PNG predictors, ``png.zlib_rows``); transparency becomes a soft mask
(``/SMask``), which the page composes as the PNG does. They are encoded once per
organization and kept with the page's static layer.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from .compose import Photo
from .errors import InvalidImage
from .images import fill_crop, has_alpha, on_white, open_image
from .pdf import Objects, stream_object
from .png import zlib_rows

PHOTO_QUALITY = 90
"""JPEG quality of a photo encoded for the PDF (a 1-inch photo at 300 dpi: about 30 kB)."""
IMAGE_LEVEL = 9
"""zlib level of an organization's images: compressed once, then kept."""
_SPACES = {"L": "/DeviceGray", "RGB": "/DeviceRGB"}
_ORIENTATION = 0x0112


@dataclass(frozen=True)
class PdfImage:
    """An image XObject's pieces, written as objects per page (the mask first)."""

    width: int
    height: int
    entries: bytes
    """The image dictionary's entries but ``/Length``, ``/Filter`` and ``/SMask``."""
    data: bytes
    deflated: bool
    mask: PdfImage | None = None

    @property
    def size(self) -> int:
        return len(self.data) + (self.mask.size if self.mask is not None else 0)

    def write(self, writer: Objects) -> int:
        """Add the image (and its mask) to ``writer``; the image's object number."""
        entries = self.entries
        if self.mask is not None:
            entries += b"/SMask %d 0 R" % self.mask.write(writer)
        return writer.add(stream_object(self.data, entries, deflated=self.deflated))


def _entries(width: int, height: int, mode: str) -> bytes:
    space = _SPACES[mode]
    return f"/Type/XObject/Subtype/Image/Width {width}/Height {height}/ColorSpace{space}/BitsPerComponent 8".encode(
        "ascii"
    )


def lossless(im: Image.Image) -> PdfImage:
    """``im`` (any mode) as RGB or grey pixels, its transparency as a soft mask."""
    mask = None
    if has_alpha(im):
        rgba = im.convert("RGBA")
        mask = _flate(rgba.getchannel("A"))
        im = rgba.convert("RGB")
    elif im.mode not in _SPACES:
        im = im.convert("RGB")
    image = _flate(im)
    return PdfImage(image.width, image.height, image.entries, image.data, True, mask)


def _flate(im: Image.Image) -> PdfImage:
    colors = 1 if im.mode == "L" else 3
    entries = _entries(im.width, im.height, im.mode) + (
        f"/DecodeParms<</Predictor 15/Colors {colors}/BitsPerComponent 8/Columns {im.width}>>".encode("ascii")
    )
    return PdfImage(im.width, im.height, entries, zlib_rows(im, IMAGE_LEVEL), True)


def background_image(data: bytes) -> PdfImage:
    """The background as the page shows it: anything transparent over white."""
    return lossless(on_white(open_image(data, "background", "背景图")))


def emblem_image(data: bytes, what: str, what_zh: str) -> PdfImage:
    """A logo or seal, transparency kept (as a soft mask)."""
    return lossless(open_image(data, what, what_zh))


@dataclass(frozen=True)
class PlacedPhoto:
    """The photo's image and the rectangle it is drawn into (page pixels): larger than the
    box when the image is cropped to it."""

    image: PdfImage
    rect: tuple[float, float, float, float]


def photo_image(p: Photo) -> PlacedPhoto:
    """The photo's bytes as they are if they are a JPEG the page can show unchanged,
    drawn so that the box shows the part the PNG shows; else encoded once, as the box
    shows it. Raises ``InvalidImage``."""
    passed = _usable_jpeg(p.data)
    x, y, w, h = p.box
    if passed is not None:
        width, height, mode = passed
        left, top, right, bottom = fill_crop((width, height), (w, h))
        sx, sy = w / (right - left), h / (bottom - top)
        rect = (x - left * sx, y - top * sy, width * sx, height * sy)
        entries = _entries(width, height, mode) + b"/Filter/DCTDecode"
        return PlacedPhoto(PdfImage(width, height, entries, p.data, False), rect)
    out = io.BytesIO()
    p.fitted.save(out, "JPEG", quality=PHOTO_QUALITY)
    entries = _entries(w, h, "RGB") + b"/Filter/DCTDecode"
    return PlacedPhoto(PdfImage(w, h, entries, out.getvalue(), False), (x, y, w, h))


def _usable_jpeg(data: bytes) -> tuple[int, int, str] | None:
    """Width, height and mode of a JPEG shown as it is: grey or RGB, no EXIF turn."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.format != "JPEG" or im.mode not in _SPACES:
                return None
            if im.getexif().get(_ORIENTATION, 1) != 1:
                return None
            return im.width, im.height, im.mode
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
        raise InvalidImage("photo", "照片") from None
