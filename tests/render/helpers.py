"""Shared by the renderer tests: the factories' world, views, images."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Any

from PIL import Image

from issuer.render import CertificateView, view_for
from issuer.render.layout import layouts_dir
from issuer.render.samples import placeholder_photo
from tests import factories

LAYOUTS = ("portrait", "landscape")


@cache
def world() -> factories.World:
    return factories.world()


def typical(*, english: bool = False, photo: bytes | None = None, **changes: Any) -> CertificateView:
    """The factories' typical certificate (or one with ``changes`` to the credential)."""
    cred = factories.credential(**changes)
    return view_for(
        cred,
        qr_text=world().qr(cred),
        organization_name=factories.ORG_NAME,
        document_number=factories.ID_NUMBER,
        photo=photo,
        english=english,
    )


@cache
def photo() -> bytes:
    return placeholder_photo()


def decode(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        return im


def layout_variant(tmp_path: Path, name: str, old: str, new: str) -> Path:
    """A copy of a shipped layout with one piece of text replaced."""
    text = (layouts_dir() / f"{name}.toml").read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / f"{name}-variant.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def inside(inner: tuple[int, int, int, int], box: tuple[int, int, int, int], slack: int = 1) -> bool:
    """``inner`` (left, top, right, bottom) lies within ``box`` (x, y, width, height)."""
    x, y, w, h = box
    left, top, right, bottom = inner
    return left >= x - slack and top >= y - slack and right <= x + w + slack and bottom <= y + h + slack
