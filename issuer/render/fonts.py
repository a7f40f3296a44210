"""Fonts: Noto Serif CJK SC and Noto Sans CJK SC found in the usual system places, or
any font files given explicitly; the glyph check that keeps a box (豆腐块) off a certificate.

A layout names fonts by role (``serif``, ``serif-bold``, ``sans``, ``sans-bold``). The
ministry prescribes 仿宋 (FangSong) for filled-in text; no free FangSong ships with Debian,
so the body uses Noto Serif CJK SC (a Song/Ming face) unless a FangSong file is configured.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont, TTLibError  # type: ignore[import-untyped]
from fontTools.ttLib.ttCollection import TTCollection  # type: ignore[import-untyped]
from PIL import ImageFont

from .cmap import Cmap
from .cmap import read as read_cmap
from .errors import FontNotFound, MissingGlyph
from .view import FIELD_NAMES

ROLES = ("serif", "serif-bold", "sans", "sans-bold")
FONT_DIRS = (
    "/usr/share/fonts/opentype/noto",  # Debian, Ubuntu (fonts-noto-cjk)
    "/usr/share/fonts/noto-cjk",  # Arch
    "/usr/share/fonts/google-noto-cjk",  # Fedora
    "/usr/share/fonts/truetype/noto",
    "/usr/local/share/fonts",
    "~/.local/share/fonts",
    "~/.fonts",
)
SYSTEM_FACES: dict[str, tuple[str, tuple[str, ...]]] = {
    "serif": ("Noto Serif CJK SC", ("NotoSerifCJK-Regular.ttc", "NotoSerifCJKsc-Regular.otf")),
    "serif-bold": ("Noto Serif CJK SC", ("NotoSerifCJK-Bold.ttc", "NotoSerifCJKsc-Bold.otf")),
    "sans": ("Noto Sans CJK SC", ("NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf")),
    "sans-bold": ("Noto Sans CJK SC", ("NotoSansCJK-Bold.ttc", "NotoSansCJKsc-Bold.otf")),
}
"""Role → (family picked inside a collection by its name table, file names to look for)."""
EM_CENTER = 0.38
"""Where the ideographic em box's centre sits above the baseline, in em, when a font
does not say (Noto CJK: embox from -0.12 to 0.88 em)."""


@dataclass(frozen=True)
class FontFace:
    """One face of a font file (a ``.ttc`` holds several: JP, KR, SC, TC, HK)."""

    path: str
    index: int = 0

    @property
    def name(self) -> str:
        return _info(self.path, self.index)[0]

    @property
    def em_center(self) -> float:
        return _info(self.path, self.index)[1]

    def font(self, px: float) -> ImageFont.FreeTypeFont:
        """A Pillow font at ``px`` pixels per em (cached)."""
        return _pillow_font(self.path, self.index, round(px, 2))

    def measure(self, px: float) -> Callable[[str], float]:
        """The width of a text at ``px`` pixels per em, as ``font(px)`` draws it. Pillow's
        basic layout places each glyph at the sum of the advances before it, kerned only by
        a legacy ``kern`` table: for a face without one (Noto CJK has none) the width is
        the sum of the characters' advances, kept per character. A face with one is
        measured by Pillow each time."""
        if _read(self.path, self.index).kerned:
            return self.font(px).getlength
        return _advances(self.path, self.index, round(px, 2)).width

    def missing(self, text: str) -> str | None:
        """The first character of ``text`` this face has no glyph for, or ``None``."""
        glyph = _read(self.path, self.index).glyphs.glyph
        return next((ch for ch in text if not glyph(ord(ch))), None)

    def glyph_id(self, char: str) -> int:
        """The glyph the face draws for ``char`` (0: none), as FreeType picks it."""
        return _read(self.path, self.index).glyphs.glyph(ord(char))

    def check(self, text: str, field: str) -> None:
        char = self.missing(text)
        if char is not None:
            en, zh = FIELD_NAMES.get(field, (field, field))
            raise MissingGlyph(en, zh, char, self.name)


@dataclass(frozen=True)
class FontSet:
    """The face used for each role."""

    faces: tuple[tuple[str, FontFace], ...]

    def face(self, role: str) -> FontFace:
        for name, face in self.faces:
            if name == role:
                return face
        raise FontNotFound(f"no font for the role {role!r}", f"未配置“{role}”字体")

    @classmethod
    def system(cls) -> FontSet:
        """Noto Serif/Sans CJK SC from the usual directories (cached per process)."""
        return _system()

    @classmethod
    def from_paths(
        cls,
        serif: str | os.PathLike[str],
        serif_bold: str | os.PathLike[str] | None = None,
        sans: str | os.PathLike[str] | None = None,
        sans_bold: str | os.PathLike[str] | None = None,
    ) -> FontSet:
        """Explicit font files; a role left out falls back to the system face, else to ``serif``."""
        return cls.from_config({"serif": serif, "serif-bold": serif_bold, "sans": sans, "sans-bold": sans_bold})

    @classmethod
    def from_config(cls, mapping: Mapping[str, str | os.PathLike[str] | None]) -> FontSet:
        """``{"serif": "/path/FangSong.ttf", "sans": "/path/x.ttc#2", ...}``: a path, with
        ``#index`` to name a face of a collection (else the SC face, else the first)."""
        unknown = set(mapping) - set(ROLES)
        if unknown:
            raise FontNotFound(f"unknown font roles {sorted(unknown)}", f"未知的字体角色{sorted(unknown)}")
        chosen = {role: _face_from_setting(str(value), role) for role, value in mapping.items() if value}
        if "serif" not in chosen:
            raise FontNotFound("a serif font must be given", "必须指定正文字体（serif）")
        system = dict(_system_faces())
        return cls(tuple((role, chosen.get(role) or system.get(role) or chosen["serif"]) for role in ROLES))


def _face_from_setting(value: str, role: str) -> FontFace:
    path, _, index = value.partition("#")
    if not Path(path).is_file():
        raise FontNotFound(f"font file for {role} not found: {path}", f"找不到{role}字体文件：{path}")
    if index:
        return FontFace(path, int(index))
    return FontFace(path, _pick_face(path, SYSTEM_FACES[role][0]))


@cache
def _system() -> FontSet:
    faces = dict(_system_faces())
    missing = [role for role in ROLES if role not in faces]
    if "serif" in missing or "sans" in missing:
        raise FontNotFound(
            "Noto Serif CJK SC / Noto Sans CJK SC not found (Debian: apt-get install fonts-noto-cjk), "
            "or configure font paths",
            "未找到思源宋体/黑体（Noto Serif/Sans CJK SC）：请安装fonts-noto-cjk或配置字体路径",
        )
    for role in missing:  # a bold face missing: use the regular one
        faces[role] = faces[role.removesuffix("-bold")]
    return FontSet(tuple((role, faces[role]) for role in ROLES))


def _system_faces() -> Iterable[tuple[str, FontFace]]:
    for role, (family, names) in SYSTEM_FACES.items():
        path = _find(names)
        if path is not None:
            yield role, FontFace(path, _pick_face(path, family))


def _find(names: tuple[str, ...]) -> str | None:
    for folder in FONT_DIRS:
        for name in names:
            path = Path(folder).expanduser() / name
            if path.is_file():
                return str(path)
    return None


@cache
def _pick_face(path: str, family: str) -> int:
    """The index of the face named ``family`` in a collection (0 for a single font)."""
    if not path.lower().endswith((".ttc", ".otc")):
        return 0
    collection = TTCollection(path, lazy=True)
    try:
        for index, font in enumerate(collection.fonts):
            names = font["name"]
            if family in (names.getDebugName(16), names.getDebugName(1)):
                return index
        return 0
    finally:
        collection.close()


@dataclass(frozen=True)
class _FaceInfo:
    name: str
    em_center: float
    glyphs: Cmap
    kerned: bool
    """Whether the face has a legacy ``kern`` table, which Pillow's basic layout applies."""


@cache
def _read(path: str, index: int) -> _FaceInfo:
    """Name, em-box centre and character coverage of a face (read once per file and face;
    the file is closed again)."""
    try:
        with TTFont(path, fontNumber=index, lazy=True) as font:
            name = font["name"].getDebugName(4) or Path(path).name
            center = EM_CENTER
            if "OS/2" in font and font["OS/2"].sTypoAscender > 0:
                os2, units = font["OS/2"], font["head"].unitsPerEm
                center = (os2.sTypoAscender + os2.sTypoDescender) / 2 / units
            glyphs = read_cmap(font.reader["cmap"])
            kerned = "kern" in font
    except (OSError, KeyError, TTLibError, struct.error) as exc:
        raise FontNotFound(f"cannot read font {path}#{index}: {exc}", f"无法读取字体文件{path}#{index}") from None
    return _FaceInfo(name, center, glyphs, kerned)


def _info(path: str, index: int) -> tuple[str, float]:
    info = _read(path, index)
    return info.name, info.em_center


class _Advances:
    """The advances of one face at one size, per character, measured as they are first met."""

    KEPT = 20_000
    """Characters kept before the table starts again (a few thousand names' worth)."""

    def __init__(self, font: ImageFont.FreeTypeFont) -> None:
        self._font = font
        self._table: dict[str, float] = {}

    def width(self, text: str) -> float:
        table, total = self._table, 0.0
        for char in text:
            advance = table.get(char)
            if advance is None:
                if len(table) >= self.KEPT:
                    table.clear()
                advance = table[char] = self._font.getlength(char)
            total += advance
        return total


@lru_cache(maxsize=256)
def _advances(path: str, index: int, px: float) -> _Advances:
    return _Advances(_pillow_font(path, index, px))


@lru_cache(maxsize=256)
def _pillow_font(path: str, index: int, px: float) -> ImageFont.FreeTypeFont:
    # BASIC layout: no dependence on libraqm being installed, and CJK needs no shaping.
    return ImageFont.truetype(path, px, index=index, layout_engine=ImageFont.Layout.BASIC)
