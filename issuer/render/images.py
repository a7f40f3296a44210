"""The images on a certificate (the holder's photo, an organization's background, logo and
seal) as the page shows them: decoded upright, and where each goes in its box.

The PNG and the PDF place them alike: the photo and the background fill their box, cropped
about the centre (``fill_crop``, Pillow's ``ImageOps.fit``); the logo and the seal are
scaled to fit inside theirs, aspect kept, and centred (``contain_size``, Pillow's
``ImageOps.contain``). The PNG resamples the image to those pixels; the PDF draws the
image itself into the same rectangle.
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import InvalidImage

Size = tuple[int, int]
Crop = tuple[float, float, float, float]
IntBox = tuple[int, int, int, int]


def open_image(data: bytes, what: str, what_zh: str) -> Image.Image:
    """The image decoded and turned upright (EXIF orientation). Raises ``InvalidImage``."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            return ImageOps.exif_transpose(im) or im
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
        raise InvalidImage(what, what_zh) from None


def has_alpha(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)


def on_white(im: Image.Image) -> Image.Image:
    """RGB, with anything transparent over white."""
    if has_alpha(im):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, "white")
        return Image.alpha_composite(white, rgba).convert("RGB")
    return im.convert("RGB")


def fill_crop(source: Size, size: Size) -> Crop:
    """The part of an image of ``source`` pixels that fills a box of ``size``: as wide or
    as tall as the image, centred (``ImageOps.fit`` with its defaults)."""
    width, height = source
    image_ratio, box_ratio = width / height, size[0] / size[1]
    if image_ratio == box_ratio:
        crop_w, crop_h = float(width), float(height)
    elif image_ratio >= box_ratio:
        crop_w, crop_h = box_ratio * height, float(height)
    else:
        crop_w, crop_h = float(width), width / box_ratio
    left, top = (width - crop_w) * 0.5, (height - crop_h) * 0.5
    return (left, top, left + crop_w, top + crop_h)


def fill(im: Image.Image, size: Size) -> Image.Image:
    """``im`` resampled to fill ``size``, cropped as ``fill_crop`` says."""
    return im.resize(size, Image.Resampling.LANCZOS, box=fill_crop(im.size, size))


def contain_size(source: Size, size: Size) -> Size:
    """The largest size with the aspect of ``source`` within ``size`` (``ImageOps.contain``)."""
    width, height = source
    image_ratio, box_ratio = width / height, size[0] / size[1]
    if image_ratio > box_ratio:
        return (size[0], round(height / width * size[0]))
    if image_ratio < box_ratio:
        return (round(width / height * size[1]), size[1])
    return size


def contain_box(source: Size, box: IntBox) -> IntBox:
    """Where an image of ``source`` pixels goes in ``box`` (x, y, width, height): scaled
    to fit, centred on whole pixels."""
    x, y, w, h = box
    cw, ch = contain_size(source, (w, h))
    return (x + (w - cw) // 2, y + (h - ch) // 2, cw, ch)
