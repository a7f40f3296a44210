"""Images people upload (holder photos, organization backgrounds, logos and seals): only
PNG or JPEG that really decode, within a size, so that nothing stored fails at print time."""

from __future__ import annotations

import io

from issuer.core.errors import InvalidInput


def check_image(data: bytes, *, what: str, what_zh: str, max_bytes: int, max_pixels: int) -> bytes:
    from PIL import Image, UnidentifiedImageError

    bad = InvalidInput(
        f"invalid_{what}",
        f"{what} must be a PNG or JPEG of at most {max_bytes // 1024} KB and {max_pixels}×{max_pixels} pixels",
        f"{what_zh}应为不超过{max_bytes // 1024}KB、{max_pixels}×{max_pixels}像素的PNG或JPEG图片",
    )
    if len(data) > max_bytes:
        raise bad
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ("PNG", "JPEG") or max(image.size) > max_pixels:
                raise bad
            image.load()
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
        raise bad from None
    return data
