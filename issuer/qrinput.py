"""What ``issuer verify`` reads: QR texts given as arguments or on standard input, and the
QR codes in images, PDFs and folders of them. ``read_inputs`` yields, in order, one
``QrText`` per code found and one ``Unreadable`` per thing that could not be read; it
never raises for a bad input, so every argument is accounted for in the output.

Rules (README, "The ``issuer`` command"):

- ``-``: each non-blank line of standard input is a QR text, labelled ``stdin:LINE``.
- an existing folder: each entry directly in it, by name; hidden entries (``.name``) and
  subfolders are skipped, every other file is read (one that is not an image or a PDF is
  reported as unreadable, not skipped). An empty folder is one unreadable result.
- an existing file: an image (PNG, JPEG, WebP, BMP, GIF) or a PDF, told by its first bytes,
  not by its name. Every QR code in it is one result: ``scan.png`` for a single code,
  ``scan.png#code=2`` for the second of several, ``cert.pdf#page=3`` (``&code=2``) in a PDF.
  A PDF's pages are drawn at 200 dpi (300 dpi when a page shows no code at 200), the first
  200 pages only, each within Pillow's pixel limit (a larger page is drawn at a lower
  resolution); a PDF none of whose pages has a code is one "no QR code" result. Images
  over that limit are refused (Pillow's decompression-bomb check, an error here).
- ``HTTP://…``/``HTTPS://…`` (any case), or anything else that does not look like a path:
  a QR text, labelled ``arg:N`` (N its position among the inputs).
- a path that does not exist (a known image/PDF extension, or a ``/``): unreadable.
"""

from __future__ import annotations

import errno
import math
import os
import stat
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from PIL import Image
    from pypdfium2 import PdfDocument

IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF")
PATH_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".pdf"})
PDF_DPI, PDF_RETRY_DPI = 200, 300
MAX_PDF_PAGES = 200
DEFAULT_MAX_PIXELS = 89_478_485
"""Pillow's default decompression-bomb limit, used for PDF pages when Pillow's is off."""
SNIFF_BYTES = 1024
REASON_CHARS = 120


@dataclass(frozen=True)
class QrText:
    label: str
    text: str


@dataclass(frozen=True)
class Unreadable:
    label: str
    code: str
    message: str
    message_zh: str


Input = QrText | Unreadable


def read_inputs(args: Sequence[str], stdin: TextIO) -> Iterator[Input]:
    """Everything ``args`` name, in order (``-`` reads ``stdin``)."""
    for position, arg in enumerate(args, 1):
        yield from _read_arg(arg, position, stdin)


def is_single(args: Sequence[str]) -> bool:
    """One argument naming one QR text or one file: not a folder, not standard input."""
    return len(args) == 1 and args[0] != "-" and not stat.S_ISDIR(_mode(args[0]) or 0)


def looks_like_path(arg: str) -> bool:
    if arg[:8].upper().startswith(("HTTP://", "HTTPS://")):
        return False
    return "/" in arg or Path(arg).suffix.lower() in PATH_SUFFIXES


def _mode(path: str) -> int | None:
    try:
        return os.stat(path).st_mode
    except (OSError, ValueError):
        return None


def _read_arg(arg: str, position: int, stdin: TextIO) -> Iterator[Input]:
    if arg == "-":
        yield from _read_stdin(stdin)
        return
    label = printable(arg)
    try:
        mode = os.stat(arg).st_mode
    except (OSError, ValueError) as exc:  # ValueError: a NUL; OSError: also a text too long for a name
        yield _os_unreadable(label, exc) if looks_like_path(arg) else QrText(f"arg:{position}", arg)
        return
    if stat.S_ISDIR(mode):
        yield from _read_folder(arg, label)
    else:
        yield from _read_file(Path(arg), label)


def _read_stdin(stdin: TextIO) -> Iterator[Input]:
    found = False
    for number, line in enumerate(stdin, 1):
        if line.strip():
            found = True
            yield QrText(f"stdin:{number}", line.strip())
    if not found:
        yield Unreadable("stdin", "no_text", "no QR text on standard input", "标准输入中没有二维码文本")


def _read_folder(folder: str, label: str) -> Iterator[Input]:
    try:
        with os.scandir(folder) as listing:
            entries = sorted((e for e in listing if not e.name.startswith(".")), key=lambda e: e.name)
    except OSError as exc:
        yield _os_unreadable(label, exc)
        return
    files = [e for e in entries if not _is_dir(e)]
    if not files:
        yield Unreadable(label, "empty_folder", "no files in the folder", "文件夹中没有文件")
    for entry in files:
        yield from _read_file(Path(entry.path), printable(os.path.join(folder, entry.name)))


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _read_file(path: Path, label: str) -> Iterator[Input]:
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            yield Unreadable(label, "not_a_file", "not a regular file", "不是普通文件")
            return
        with path.open("rb") as f:
            head = f.read(SNIFF_BYTES)
    except OSError as exc:
        yield _os_unreadable(label, exc)
        return
    kind = sniff(head)
    if not head:
        yield Unreadable(label, "empty_file", "empty file", "空文件")
    elif kind is None:
        yield Unreadable(label, "not_image_or_pdf", "not an image or a PDF", "不是图片或PDF文件")
    elif kind == "pdf":
        yield from _read_pdf(path, label)
    else:
        yield from _read_image(path, label)


def sniff(head: bytes) -> str | None:
    """``png``, ``jpeg``, ``gif``, ``bmp``, ``webp`` or ``pdf`` from a file's first bytes."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"BM"):
        return "bmp"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if b"%PDF-" in head:  # PDF readers accept bytes before the header
        return "pdf"
    return None


# --- images ---------------------------------------------------------------------------


def _read_image(path: Path, label: str) -> Iterator[Input]:
    from PIL import Image, UnidentifiedImageError

    try:
        codes = _codes(_open_image(path))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        limit = f"{Image.MAX_IMAGE_PIXELS or DEFAULT_MAX_PIXELS:,}"
        yield Unreadable(
            label,
            "image_too_large",
            f"image has more than {limit} pixels (refused)",
            f"图片像素超过{limit}，拒绝读取",
        )
        return
    except UnidentifiedImageError:
        yield Unreadable(label, "damaged_image", "not a readable image", "图片无法识别")
        return
    except Exception as exc:  # Pillow's decoders raise many kinds of error on a malformed file
        yield Unreadable(label, "damaged_image", f"damaged image ({reason(exc)})", "图片已损坏")
        return
    if not codes:
        yield _no_code(label)
    yield from _found(label, codes, "#code=")


def _open_image(path: Path) -> Image.Image:
    """The image in grayscale, flattened onto white; over Pillow's pixel limit it raises
    ``DecompressionBombWarning`` (an error here, whatever the warning filters)."""
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(path, formats=IMAGE_FORMATS) as image:
            image.load()
            if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                white = Image.new("RGBA", image.size, "white")
                return Image.alpha_composite(white, image.convert("RGBA")).convert("L")
            return image.convert("L")


def _codes(image: Image.Image) -> list[str]:
    """The texts of the QR codes in ``image``, top to bottom, then left to right."""
    import zxingcpp

    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    found.sort(key=lambda b: (b.position.top_left.y, b.position.top_left.x))
    return [str(b.text) for b in found]


def _no_code(label: str) -> Unreadable:
    return Unreadable(label, "no_qr_code", "no QR code found", "未找到二维码")


def _found(label: str, codes: list[str], separator: str) -> Iterator[Input]:
    if len(codes) == 1:
        yield QrText(label, codes[0])
    else:
        for number, text in enumerate(codes, 1):
            yield QrText(f"{label}{separator}{number}", text)


# --- PDFs -----------------------------------------------------------------------------


def _read_pdf(path: Path, label: str) -> Iterator[Input]:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(path)
    except (pdfium.PdfiumError, OSError) as exc:
        yield _pdf_unreadable(label, exc)
        return
    try:
        pages = len(document)
        if pages == 0:
            yield Unreadable(label, "damaged_pdf", "the PDF has no pages", "PDF没有页面")
            return
        any_result = False
        for index in range(min(pages, MAX_PDF_PAGES)):
            for item in _read_page(document, index, f"{label}#page={index + 1}"):
                any_result = True
                yield item
        if not any_result:
            yield _no_code(label)
        if pages > MAX_PDF_PAGES:
            yield Unreadable(
                f"{label}#page={MAX_PDF_PAGES + 1}-{pages}",
                "too_many_pages",
                f"not read: only the first {MAX_PDF_PAGES} pages of a PDF are read",
                f"未读取：每个PDF只读取前{MAX_PDF_PAGES}页",
            )
    finally:
        document.close()


def _read_page(document: PdfDocument, index: int, label: str) -> Iterator[Input]:
    """The codes on one page (nothing when it has none)."""
    try:
        codes = _page_codes(document, index)
    except Exception as exc:  # pdfium, Pillow and zxing fail in their own ways on damaged pages
        yield Unreadable(label, "damaged_pdf", f"page cannot be drawn ({reason(exc)})", "PDF页面无法绘制")
        return
    if codes:
        yield from _found(label, codes, "&code=")


def _page_codes(document: PdfDocument, index: int) -> list[str]:
    page = document[index]
    try:
        width, height = page.get_size()
        scales = dict.fromkeys(_scale(dpi, width, height) for dpi in (PDF_DPI, PDF_RETRY_DPI))
        for scale in scales:  # the retry is skipped when the pixel limit already capped the first
            bitmap = page.render(scale=scale, grayscale=True)
            try:
                codes = _codes(bitmap.to_pil())  # the image shares the bitmap's memory
            finally:
                bitmap.close()
            if codes:
                return codes
        return []
    finally:
        page.close()


def _scale(dpi: int, width: float, height: float) -> float:
    """Pixels per PDF point at ``dpi``, lowered so that the page stays within Pillow's pixel
    limit (a page may be 200 inches square)."""
    from PIL import Image

    limit = Image.MAX_IMAGE_PIXELS or DEFAULT_MAX_PIXELS
    return min(dpi / 72, math.sqrt(limit / max(width * height, 1.0)))


def _pdf_unreadable(label: str, exc: Exception) -> Unreadable:
    import pypdfium2.raw as pdfium_c

    if getattr(exc, "err_code", None) in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
        return Unreadable(label, "encrypted_pdf", "the PDF is encrypted", "PDF已加密")
    if isinstance(exc, OSError):
        return _os_unreadable(label, exc)
    return Unreadable(label, "damaged_pdf", f"damaged PDF ({reason(exc)})", "PDF文件已损坏")


# --- errors and labels ----------------------------------------------------------------


def _os_unreadable(label: str, exc: OSError | ValueError) -> Unreadable:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return Unreadable(label, "no_such_file", "no such file", "文件不存在")
    if isinstance(exc, OSError) and exc.errno == errno.EACCES:
        return Unreadable(label, "unreadable_file", "permission denied", "无权读取")
    return Unreadable(label, "unreadable_file", reason(exc), "无法读取文件")


def reason(exc: BaseException) -> str:
    """An exception as a short printable phrase."""
    text = getattr(exc, "strerror", None) or str(exc)
    return printable(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)[:REASON_CHARS]


def printable(text: str) -> str:
    """``text`` on one line: file-name bytes that are not UTF-8 and control characters
    (a newline in a file name) escaped as ``\\x..``."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
