"""Layouts: where each field goes, as data (``issuer/templates/layouts/<name>.toml``).

Lengths are millimetres from the page's top-left corner, boxes ``[x, y, width, height]``,
font sizes points (小四 = 12 pt). The file lists the fields in the order the ministry
lists them; the loader checks that every required field is there, in that order, and
that every box is on the page and tall enough for its text at the smallest size.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping, Set
from dataclasses import dataclass, fields, replace
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from .errors import LayoutError
from .fonts import ROLES
from .view import FIELD_NAMES, English

MM_PER_PT = 25.4 / 72
REQUIRED = (
    "title",
    "body_text",
    "holder_name",
    "document_type_name",
    "document_number",
    "occupation_name",
    "work_type",
    "level_label",
    "number",
    "organization_name",
    "issue_date",
    "qr",
    "certificate_lookup",
    "organization_lookup",
)
"""The fields every layout prints, in the order 人社鉴发〔2021〕1号 lists them."""
ORDER = (*REQUIRED[: REQUIRED.index("qr")], "photo", *REQUIRED[REQUIRED.index("qr") :])
"""The same with the photo, which 人社鉴发〔2021〕1号 lists between the issue date and the QR
code: a layout without a photo box (one whose photo is affixed by hand, or not shown) prints
none, and issuing then needs none; every shipped layout has one (``Layout.photo_box``)."""
OPTIONAL = ("provincial_lookup", "print_serial")
IMAGES = ("photo", "qr")
ENGLISH_KEYS = frozenset(f.name for f in fields(English))
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Style:
    font: str = "serif"
    size: float = 12.0
    min_size: float = 9.0
    line_spacing: float = 1.4
    color: str = "#1a1a1a"
    align: str = "left"
    """left, center, right, justify (两端对齐: all lines but the last) or distribute (分散对齐: every line)."""
    valign: str = "top"
    max_lines: int = 1
    tracking: float = 0.0
    """Extra space between characters, in em."""
    indent: float = 0.0
    """First-line indent, in em (a Chinese paragraph indents two characters)."""
    colon: str = "："

    def line_mm(self, size: float | None = None) -> float:
        return (size or self.size) * self.line_spacing * MM_PER_PT


@dataclass(frozen=True)
class Field:
    key: str
    box: Box
    style: Style
    label: str | None = None
    label_en: str | None = None
    label_box: Box | None = None
    label_style: Style = Style()
    english_style: Style = Style()
    english_text: str | None = None
    """A fixed English line (the title's)."""
    inline_label: bool = False
    """Print ``label：value`` as one text in ``box`` (the lookup lines)."""


@dataclass(frozen=True)
class Seal:
    box: Box
    opacity: float = 0.9


@dataclass(frozen=True)
class FrameLine:
    inset: float
    width: float


@dataclass(frozen=True)
class Layout:
    name: str
    width: float
    height: float
    english: bool
    fields: tuple[Field, ...]
    frame: tuple[FrameLine, ...] = ()
    frame_color: str = "#8c6a2f"
    photo_frame_color: str = "#9a9a9a"
    logo: Box | None = None
    seal: Seal | None = None
    min_module: float = 0.6
    quiet_zone: int = 4
    digest: str = ""
    """SHA-256 of the file: a cache key that changes when the file does."""

    def field(self, key: str) -> Field | None:
        return next((f for f in self.fields if f.key == key), None)

    @property
    def photo_box(self) -> tuple[float, float] | None:
        """Width and height in mm of the holder's photo (1 inch: 25 × 35), or None when the
        layout prints no photo."""
        f = self.field("photo")
        return (f.box[2], f.box[3]) if f is not None else None


@cache
def layouts_dir() -> Path:
    return Path(str(resources.files("issuer").joinpath("templates", "layouts")))


@cache
def layout_names() -> tuple[str, ...]:
    """The layouts shipped in the package (its files do not change while it runs)."""
    return tuple(sorted(p.stem for p in layouts_dir().glob("*.toml")))


def load_layout(name_or_path: str | Path) -> Layout:
    """A shipped layout by name (``portrait``, ``landscape``) or a layout file by path.
    Read and parsed once per path and modification (its mtime and size): issuing checks
    every certificate against its layout, and a stat costs less than reading the file."""
    if isinstance(name_or_path, Path) or "/" in name_or_path or name_or_path.endswith(".toml"):
        path = Path(name_or_path)
    else:
        if not _NAME.match(name_or_path):
            raise LayoutError(
                repr(name_or_path), "a layout name is lower-case letters, digits, - and _", "版式名称无效"
            )
        path = layouts_dir() / f"{name_or_path}.toml"
    try:
        stat = path.stat()
        return _read(path, stat.st_mtime_ns, stat.st_size)
    except OSError:
        raise LayoutError(str(name_or_path), "no such layout", "版式不存在") from None


@lru_cache(maxsize=64)
def _read(path: Path, mtime_ns: int, size: int) -> Layout:
    """The layout in ``path`` as it was at ``mtime_ns`` and ``size`` (the cache key)."""
    return _parse(path.stem, path.read_bytes())


def _parse(name: str, data: bytes) -> Layout:
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LayoutError(name, f"not valid TOML: {exc}", "不是有效的TOML文件") from None
    return _Reader(name, doc, hashlib.sha256(data).hexdigest()).layout()


class _Reader:
    """Turns the TOML document into a ``Layout``, refusing anything it does not expect."""

    TOP: ClassVar[frozenset[str]] = frozenset(
        {"name", "description", "size", "english", "defaults", "labels", "english_lines", "frame", "logo", "seal"}
        | {"qr", "photo", "field"}
    )

    def __init__(self, name: str, doc: dict[str, Any], digest: str) -> None:
        self.name = str(doc.get("name", name))
        self.doc = doc
        self.digest = digest

    def fail(self, message: str, message_zh: str) -> LayoutError:
        return LayoutError(self.name, message, message_zh)

    def layout(self) -> Layout:
        self._keys(self.doc, self.TOP, "the file")
        width, height = self._numbers(self.doc.get("size"), 2, "size")
        base = self._style(Style(), self.doc.get("defaults", {}), "defaults")
        labels = self._style(base, self.doc.get("labels", {}), "labels")
        english = self._style(base, self.doc.get("english_lines", {}), "english_lines")
        frame = self.doc.get("frame", {})
        self._keys(frame, {"color", "lines"}, "frame")
        seal = self.doc.get("seal")
        qr = self.doc.get("qr", {})
        self._keys(qr, {"min_module", "quiet_zone"}, "qr")
        layout = Layout(
            name=self.name,
            width=width,
            height=height,
            english=bool(self.doc.get("english", False)),
            fields=tuple(self._field(f, base, labels, english) for f in self.doc.get("field", [])),
            frame=tuple(self._frame_line(line) for line in frame.get("lines", [])),
            frame_color=str(frame.get("color", Layout.frame_color)),
            photo_frame_color=str(self.doc.get("photo", {}).get("frame_color", Layout.photo_frame_color)),
            logo=self._box(self.doc["logo"].get("box"), "logo") if "logo" in self.doc else None,
            seal=Seal(self._box(seal.get("box"), "seal"), float(seal.get("opacity", 0.9))) if seal else None,
            min_module=float(qr.get("min_module", Layout.min_module)),
            quiet_zone=int(qr.get("quiet_zone", Layout.quiet_zone)),
            digest=self.digest,
        )
        self._check(layout)
        return layout

    def _keys(self, table: Mapping[str, Any], allowed: Set[str], where: str) -> None:
        if not isinstance(table, Mapping):
            raise self.fail(f"{where} must be a table", f"{where}应为表")
        unknown = set(table) - allowed
        if unknown:
            raise self.fail(f"unknown keys {sorted(unknown)} in {where}", f"{where}中有未知的键{sorted(unknown)}")

    def _numbers(self, value: Any, count: int, where: str) -> tuple[float, ...]:
        ok = isinstance(value, list) and len(value) == count
        if not ok or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            raise self.fail(f"{where} must be {count} numbers (mm)", f"{where}应为{count}个数（毫米）")
        return tuple(float(v) for v in value)

    def _box(self, value: Any, where: str) -> Box:
        x, y, w, h = self._numbers(value, 4, f"{where}.box")
        return (x, y, w, h)

    def _style(self, base: Style, table: Any, where: str) -> Style:
        names = {f.name for f in fields(Style)}
        self._keys(table, names, where)
        try:
            style = replace(base, **{k: type(getattr(base, k))(v) for k, v in table.items()})
        except (TypeError, ValueError):
            raise self.fail(f"a value in {where} has the wrong type", f"{where}中有值的类型错误") from None
        if style.font not in ROLES:
            raise self.fail(f"{where}: font must be one of {ROLES}", f"{where}：字体应为{ROLES}之一")
        if style.align not in ("left", "center", "right", "justify", "distribute") or style.valign not in (
            "top",
            "middle",
        ):
            raise self.fail(f"{where}: bad align or valign", f"{where}：对齐方式无效")
        if not 0 < style.min_size <= style.size or style.max_lines < 1 or style.line_spacing < 1:
            raise self.fail(f"{where}: need 0 < min_size <= size, max_lines >= 1", f"{where}：字号或行数无效")
        return style

    def _frame_line(self, table: Any) -> FrameLine:
        self._keys(table, {"inset", "width"}, "frame.lines")
        return FrameLine(float(table["inset"]), float(table["width"]))

    def _field(self, table: Any, base: Style, labels: Style, english: Style) -> Field:
        allowed = {"key", "box", "style", "label", "label_en", "label_box", "label_style", "english_style"}
        self._keys(table, allowed | {"english_text", "inline_label"}, "field")
        key = table.get("key")
        if key not in FIELD_NAMES:
            raise self.fail(f"unknown field {key!r}", f"未知的字段“{key}”")
        return Field(
            key=key,
            box=self._box(table.get("box"), key),
            style=self._style(base, table.get("style", {}), f"{key}.style"),
            label=table.get("label"),
            label_en=table.get("label_en"),
            label_box=self._box(table["label_box"], f"{key}.label") if "label_box" in table else None,
            label_style=self._style(labels, table.get("label_style", {}), f"{key}.label_style"),
            english_style=self._style(english, table.get("english_style", {}), f"{key}.english_style"),
            english_text=table.get("english_text"),
            inline_label=bool(table.get("inline_label", False)),
        )

    def _check(self, layout: Layout) -> None:
        keys = [f.key for f in layout.fields]
        if len(set(keys)) != len(keys):
            raise self.fail("a field is listed twice", "有字段重复")
        present = [k for k in keys if k in ORDER]
        if present != [k for k in ORDER if k in keys] or not set(REQUIRED) <= set(keys):
            missing = [k for k in REQUIRED if k not in keys]
            raise self.fail(
                f"required fields missing {missing} or out of order (expected {list(ORDER)}, the photo optional)",
                f"缺少必备字段{missing}或顺序不符",
            )
        boxes = [(f.key, f.box) for f in layout.fields] + [(f"{f.key}.label", f.label_box) for f in layout.fields]
        boxes += [("logo", layout.logo), ("seal", layout.seal.box if layout.seal else None)]
        for where, box in boxes:
            if box is not None and not _on_page(box, layout):
                raise self.fail(f"{where} box is not on the page", f"{where}位置超出页面")
        for f in layout.fields:
            if f.key not in IMAGES:
                self._check_heights(f, layout.english)

    def _check_heights(self, f: Field, english: bool) -> None:
        need = f.style.line_mm(f.style.min_size)
        if english and not f.inline_label and (f.english_text or f.key in ENGLISH_KEYS):
            need += f.english_style.line_mm(f.english_style.min_size)
        self._check_height(f.key, f.box, need)
        if f.label_box is not None:
            need = f.label_style.line_mm(f.label_style.min_size)
            if english and f.label_en:
                need += f.english_style.line_mm(f.english_style.min_size)
            self._check_height(f"{f.key}.label", f.label_box, need)

    def _check_height(self, where: str, box: Box, need: float) -> None:
        if box[3] + 1e-6 < need:
            raise self.fail(
                f"{where} box is {box[3]:g} mm high, its text needs {need:.1f} mm",
                f"{where}位置高{box[3]:g}毫米，文字需要{need:.1f}毫米",
            )


def _on_page(box: Box, layout: Layout) -> bool:
    x, y, w, h = box
    return w > 0 and h > 0 and x >= 0 and y >= 0 and x + w <= layout.width + 1e-6 and y + h <= layout.height + 1e-6
