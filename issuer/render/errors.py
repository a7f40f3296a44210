"""Errors of the renderer, in the core's shape (code, English and Chinese message).

Two kinds: ``RenderError`` itself (``invalid_input``) is what the certificate's data
causes — a character no font can print, a name too long for its box, a photo that does
not decode — and the caller should report it to whoever typed the data.
``RenderConfigError`` (``render_config``) is the deployment's fault — a layout file that
is wrong, a font that is missing, a QR box too small — and is a server error.
"""

from __future__ import annotations

from issuer.core.errors import IssuerError


class RenderError(IssuerError):
    """A certificate that cannot be drawn as given."""

    kind = "invalid_input"


class MissingGlyph(RenderError):
    """A character the font has no glyph for: drawing it would print a box (豆腐块)."""

    def __init__(self, field: str, field_zh: str, char: str, font: str) -> None:
        code_point = f"U+{ord(char):04X}"
        super().__init__(
            "missing_glyph",
            f"the character {char!r} ({code_point}) in {field} cannot be printed: font {font} has no glyph for it",
            f"{field_zh}中的字符“{char}”（{code_point}）无法打印：字体{font}中没有该字的字形",
            errors={"field": field, "char": char, "code_point": code_point, "font": font},
        )
        self.field = field
        self.char = char


class TextDoesNotFit(RenderError):
    def __init__(self, field: str, field_zh: str, text: str, min_size: float) -> None:
        super().__init__(
            "text_does_not_fit",
            f"{field} ({len(text)} characters) does not fit its box even at {min_size:g} pt on the allowed lines",
            f"{field_zh}（{len(text)}个字符）过长，缩小到{min_size:g}磅并换行后仍超出版面位置",
            errors={"field": field, "chars": len(text), "min_size_pt": min_size},
        )
        self.field = field


class InvalidImage(RenderError):
    def __init__(self, what: str, what_zh: str) -> None:
        super().__init__(
            "invalid_image",
            f"the {what} is not an image Pillow can read",
            f"{what_zh}不是可读取的图片",
            errors={"image": what},
        )


class RenderConfigError(RenderError):
    """A layout, font or asset configuration that cannot work, whatever the data."""

    kind = "render_config"


class LayoutError(RenderConfigError):
    def __init__(self, layout: str, message: str, message_zh: str) -> None:
        super().__init__("invalid_layout", f"layout {layout}: {message}", f"版式{layout}：{message_zh}")


class FontNotFound(RenderConfigError):
    def __init__(self, message: str, message_zh: str) -> None:
        super().__init__("font_not_found", message, message_zh)


class FontUnsupported(RenderConfigError):
    """A font file whose outlines the PDF cannot embed (neither CFF nor TrueType, or a CFF
    table this reader does not understand)."""

    def __init__(self, font: str, reason: str, reason_zh: str) -> None:
        super().__init__(
            "font_unsupported",
            f"font {font} cannot be embedded in a PDF: {reason}",
            f"字体{font}无法嵌入PDF：{reason_zh}",
            errors={"font": font},
        )


class QrDoesNotFit(RenderConfigError):
    def __init__(self, modules: int, module_mm: float, box_mm: float, min_module_mm: float, dpi: int) -> None:
        super().__init__(
            "qr_does_not_fit",
            f"a QR code of {modules}×{modules} modules (with its quiet zone) in a {box_mm:g} mm box at {dpi} dpi "
            f"gets {module_mm:.3f} mm per module, less than {min_module_mm:g} mm",
            f"二维码（含静区{modules}×{modules}模块）放入{box_mm:g}毫米的位置、{dpi}dpi时每模块仅{module_mm:.3f}毫米，"
            f"小于{min_module_mm:g}毫米",
            errors={"modules": modules, "module_mm": round(module_mm, 4), "box_mm": box_mm, "dpi": dpi},
        )


class QrTooLarge(RenderError):
    """A QR text longer than the layout prints with modules of at least its ``min_module``:
    the credential's data (holder name, 工种) is too long for a readable code."""

    def __init__(
        self,
        *,
        chars: int,
        version: int,
        max_version: int,
        max_chars: int,
        layout: str,
        min_module: float,
        shorten_by: int,
    ) -> None:
        super().__init__(
            "qr_too_large",
            f"the certificate's QR text ({chars} characters) needs QR version {version} (error correction M); "
            f"layout {layout} prints at most version {max_version} ({max_chars} characters) with modules of "
            f"at least {min_module:g} mm: shorten the holder name or the work type by about {shorten_by} "
            f"Chinese character{'s' if shorten_by != 1 else ''}",
            f"证书二维码内容（{chars}个字符）需要版本{version}（纠错等级M）的二维码，版式{layout}在每模块不小于"
            f"{min_module:g}毫米时最多容纳版本{max_version}（{max_chars}个字符）：请将姓名或工种/职业方向缩短约"
            f"{shorten_by}个汉字",
            errors={
                "chars": chars,
                "version": version,
                "max_version": max_version,
                "max_chars": max_chars,
                "layout": layout,
                "min_module_mm": min_module,
                "shorten_by_chars": shorten_by,
            },
        )
        self.version = version
        self.max_version = max_version
        self.shorten_by = shorten_by
