"""Images people upload (holder photos, organization backgrounds, logos and seals): only
PNG or JPEG that really decode, within a size, so that nothing stored fails at print time;
and the holder's photo (一寸照片), which the certificate prints: required when the layout has
a photo box, large enough to print that box at 300 dpi, and portrait."""

from __future__ import annotations

import io

from issuer.core.errors import InvalidInput

PRINT_DPI = 300
"""The resolution a certificate is printed at (``render.DEFAULT_DPI``): a photo must fill its
box at this resolution."""
MM_PER_INCH = 25.4
_ORIENTATION = 0x0112
_TURNED = (5, 6, 7, 8)
"""EXIF orientations that turn the picture a quarter (the renderer applies them)."""


def check_image(data: bytes, *, what: str, what_zh: str, max_bytes: int, max_pixels: int) -> bytes:
    """``data`` if it is a PNG or JPEG that decodes, at most ``max_bytes`` and ``max_pixels`` a
    side; else ``InvalidInput`` ``invalid_<what>`` saying which."""
    _decoded_size(data, what=what, what_zh=what_zh, max_bytes=max_bytes, max_pixels=max_pixels)
    return data


def _decoded_size(data: bytes, *, what: str, what_zh: str, max_bytes: int, max_pixels: int) -> tuple[int, int]:
    """The width and height of an image that passes ``check_image``, as its EXIF orientation
    turns it. A JPEG is decoded at an eighth of its size (libjpeg's DCT scaling): every
    byte of its data is still read, so a damaged or cut-short file is refused the same,
    in half the time."""
    from PIL import Image, UnidentifiedImageError

    def bad(message: str, message_zh: str) -> InvalidInput:
        return InvalidInput(f"invalid_{what}", message, message_zh, errors={"field": what})

    if len(data) > max_bytes:
        raise bad(
            f"the {what} is {len(data) // 1024} KB: at most {max_bytes // 1024} KB",
            f"{what_zh}文件过大：{len(data) // 1024}KB，最大{max_bytes // 1024}KB",
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind, (width, height) = image.format, image.size
            if kind not in ("PNG", "JPEG"):
                raise bad(
                    f"the {what} must be a JPEG or PNG, got {kind or 'another format'}",
                    f"{what_zh}应为JPEG或PNG格式，实为{kind or '其他格式'}",
                )
            if max(width, height) > max_pixels:
                raise bad(
                    f"the {what} is {width}×{height} pixels: at most {max_pixels} a side",
                    f"{what_zh}像素过大：{width}×{height}像素，每边最多{max_pixels}像素",
                )
            if image.getexif().get(_ORIENTATION) in _TURNED:
                width, height = height, width
            if kind == "JPEG":
                image.draft(image.mode, (width // 8, height // 8))
            image.load()
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
        raise bad(
            f"the {what} cannot be read: not a JPEG or PNG, or damaged",
            f"{what_zh}无法读取：不是JPEG或PNG图片，或文件已损坏",
        ) from None
    return width, height


def min_photo_pixels(box_mm: tuple[float, float], dpi: int = PRINT_DPI) -> tuple[int, int]:
    """The pixels a photo needs to fill a box of ``box_mm`` (width, height) at ``dpi``, to
    the nearest pixel: 25 × 35 mm at 300 dpi → 295 × 413."""
    return round(box_mm[0] / MM_PER_INCH * dpi), round(box_mm[1] / MM_PER_INCH * dpi)


def _photo_error(code: str, message: str, message_zh: str) -> InvalidInput:
    return InvalidInput(code, message, message_zh, errors={"field": "photo"})


def check_photo(data: bytes | None, box_mm: tuple[float, float] | None, *, max_bytes: int, max_pixels: int) -> None:
    """The holder's photo for a layout whose photo box is ``box_mm`` (None: the layout prints
    none, and no photo is needed). Raises ``InvalidInput`` saying what is wrong:
    ``photo_required`` (none given), ``invalid_photo`` (not a JPEG or PNG that decodes, or
    over ``max_bytes`` or ``max_pixels`` a side), ``photo_too_small`` (fewer pixels than the
    box needs at 300 dpi), ``photo_not_portrait`` (not taller than wide, as the EXIF
    orientation turns it)."""
    if data is None:
        if box_mm is None:
            return
        w_mm, h_mm = box_mm
        raise _photo_error(
            "photo_required",
            f"a photo of the holder is required: the certificate's layout prints a {w_mm:g}×{h_mm:g} mm photo",
            f"缺少持证人照片：证书版式有{w_mm:g}×{h_mm:g}毫米的照片位置，须提供一寸照片",
        )
    width, height = _decoded_size(data, what="photo", what_zh="照片", max_bytes=max_bytes, max_pixels=max_pixels)
    if box_mm is None:
        return
    need_w, need_h = min_photo_pixels(box_mm)
    if width < need_w or height < need_h:
        raise _photo_error(
            "photo_too_small",
            f"the photo's resolution is too low: at least {need_w}×{need_h} pixels are needed "
            f"({box_mm[0]:g}×{box_mm[1]:g} mm at {PRINT_DPI} dpi), got {width}×{height}",
            f"照片分辨率不足：至少需要{need_w}×{need_h}像素（{box_mm[0]:g}×{box_mm[1]:g}毫米，{PRINT_DPI}dpi），"
            f"实为{width}×{height}像素",
        )
    if height <= width:
        raise _photo_error(
            "photo_not_portrait",
            f"the photo must be portrait (taller than wide), got {width}×{height} pixels",
            f"照片应为竖版（高度大于宽度），实为{width}×{height}像素",
        )
